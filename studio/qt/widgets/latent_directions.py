"""The Latent explorer's attribute-direction tool: two groups (labels or boxes drawn on the
map) give mean(A) − mean(B), a named direction with its own slider, saved with the run.
A view of the page's ``ExplorerState`` like the tools in latent_tools.py.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLineEdit, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from ...latent import DirectionStore, attribute_direction
from .cards import label, set_role
from .latent_sliders import SliderBank

SELECTION = "Map selection"


class DirectionsTool(QWidget):
    """Two groups (by label or from a box drawn on the map) → mean(A) − mean(B), a named
    direction with its own slider, saved with the run. Arming a group ("Select on map") puts
    the state in box-select mode; the next box drawn fills that group."""

    def __init__(self, state):
        super().__init__()
        self.state = state
        self.store: DirectionStore | None = None
        self.amounts: list[float] = []
        self.picked: dict[str, np.ndarray] = {}  # group -> indices from a map selection
        self.armed: str | None = None
        self.last_selection = np.zeros(0, np.int64)  # the latest box drawn on the map
        self.groups, self.pick_buttons = {}, {}
        form = QGridLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for row, group in enumerate(("A", "B")):
            combo = QComboBox()
            combo.setMinimumWidth(130)
            combo.currentIndexChanged.connect(self._on_group_changed)
            pick = QToolButton(text="⬚ Select on map", checkable=True)
            pick.setToolTip(f"Drag a box on the map around the points of group {group}")
            pick.setProperty("group", group)
            pick.toggled.connect(self._on_pick_toggled)
            form.addWidget(label(f"Group {group}", "muted"), row, 0)
            form.addWidget(combo, row, 1)
            form.addWidget(pick, row, 2)
            self.groups[group], self.pick_buttons[group] = combo, pick
        self.name = QLineEdit(placeholderText="name, e.g. add smile")
        self.add_button = QPushButton("Add direction  A − B")
        self.add_button.setProperty("primary", True)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.message = label("", "muted", wrap=True)
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        form.addWidget(label("Name", "muted"), 2, 0)
        form.addWidget(self.name, 2, 1, 1, 2)
        form.addWidget(self.add_button, 3, 1, 1, 2)
        form.addWidget(self.message, 4, 0, 1, 3)
        form.setRowStretch(5, 1)
        self.bank = SliderBank()
        self.bank.moved.connect(self._on_bank_moved)
        self.bank.released.connect(self._on_bank_released)
        self.bank.removed.connect(self._on_bank_removed)
        self.empty = label("No directions yet. Pick two groups — e.g. two labels — and press Add: the "
                           "difference of their mean latents becomes a slider.", "muted", wrap=True)
        right = QVBoxLayout()
        right.addWidget(label("DIRECTIONS", "section"))
        right.addWidget(self.empty)
        right.addWidget(self.bank)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(form)
        layout.addSpacing(16)
        layout.addLayout(right, 1)
        state.events.space.connect(self.set_space)
        state.events.latent.connect(self._on_state_latent)
        state.events.selection.connect(self.take_selection)
        state.events.box_select.connect(self._on_state_box_select)

    def set_space(self, space) -> None:
        self.picked.clear()
        for group, combo in self.groups.items():
            combo.blockSignals(True)
            combo.clear()
            for k, name in enumerate(space.label_names if space.labels is not None else []):
                combo.addItem(f"{name}", k)
            combo.addItem(SELECTION, -1)
            combo.setCurrentIndex(min(1 if group == "A" else 0, combo.count() - 1))
            combo.blockSignals(False)
        self.message.setText("")
        try:
            self.store = DirectionStore.for_run(space.run_path, space.latent_dim)
        except ValueError as exc:
            self.store = None
            self._say(str(exc), "error")
        self._fill_bank()
        self._on_group_changed()

    def _fill_bank(self) -> None:
        names = self.store.names() if self.store else []
        self.bank.set_rows(names, removable=True)
        self.amounts = [0.0] * len(names)
        self.empty.setVisible(not names)

    def reset_amounts(self) -> None:
        """A new base latent (a click, random, reset): the directions start from zero."""
        self.amounts = [0.0] * len(self.amounts)
        self.bank.set_values(self.amounts)

    def _on_state_latent(self, change) -> None:
        if change.base:
            self.reset_amounts()

    def _on_state_box_select(self, on: bool) -> None:
        if not on and self.armed is not None:  # the box was drawn (or box select turned off)
            button = self.pick_buttons[self.armed]
            self.armed = None
            button.blockSignals(True)
            button.setChecked(False)
            button.blockSignals(False)

    def _say(self, text: str, role: str = "muted") -> None:
        self.message.setText(text)
        set_role(self.message, role)

    def _members(self, group: str) -> tuple[np.ndarray, str]:
        space, combo = self.state.space, self.groups[group]
        k = combo.currentData()
        if k == -1:
            idx = self.picked.get(group, self.last_selection)
            mask = np.zeros(len(space.codes), bool)
            mask[idx] = True
            return mask, f"{len(idx)} selected points"
        return space.labels == k, combo.currentText()

    @Slot()
    def _on_group_changed(self) -> None:
        a, b = self.groups["A"].currentText(), self.groups["B"].currentText()
        if a and b:
            self.name.setPlaceholderText(f"{a} − {b}")

    def add_direction(self, name: str = "") -> None:
        space = self.state.space
        if space is None or self.store is None:
            return
        try:
            (in_a, text_a), (in_b, text_b) = self._members("A"), self._members("B")
            vector = attribute_direction(space.codes, in_a, in_b)
            name = name or self.name.text().strip() or self.name.placeholderText()
            self.store.add(name, vector, text_a, text_b)
        except (ValueError, OSError) as exc:
            self._say(str(exc), "error")
            return
        self._fill_bank()
        self.name.clear()
        self._say(f"“{name}” saved with the run ({int(in_a.sum())} vs {int(in_b.sum())} points).")

    def move(self, row: int, value: float) -> None:
        """Slide along direction ``row`` to ``value`` (in units of the A − B vector)."""
        if self.store is None or row >= len(self.amounts):
            return
        delta = (value - self.amounts[row]) * self.store.directions[row].array()
        self.amounts[row] = value
        self.state.move(delta)

    @Slot()
    def _on_add_clicked(self) -> None:
        self.add_direction()

    @Slot(int, float)
    def _on_bank_moved(self, row: int, value: float) -> None:
        self.move(row, value)

    @Slot(int)
    def _on_bank_released(self, row: int) -> None:
        self.state.commit()

    @Slot(int)
    def _on_bank_removed(self, row: int) -> None:
        if self.store is not None:
            self.store.remove(self.store.directions[row].name)
            self._fill_bank()

    @Slot(bool)
    def _on_pick_toggled(self, on: bool) -> None:
        group = self.sender().property("group")
        if on:
            other = self.pick_buttons["B" if group == "A" else "A"]
            other.blockSignals(True)
            other.setChecked(False)
            other.blockSignals(False)
        self.armed = group if on else None
        self.state.set_box_select(on)
        if on:
            self._say(f"Drag a box on the map around the points of group {group}.")

    def take_selection(self, indices: np.ndarray) -> None:
        """A box was drawn on the map: it fills the armed group (or waits for a group set to
        "Map selection")."""
        self.last_selection = np.asarray(indices, np.int64)
        if self.armed is None:
            return
        group = self.armed
        self.picked[group] = np.asarray(indices, np.int64)
        combo = self.groups[group]
        combo.setCurrentIndex(combo.findData(-1))
        self._say(f"Group {group}: {len(indices)} points from the map.")
