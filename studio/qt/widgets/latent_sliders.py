"""Rows of labelled sliders over latent directions (principal components, raw dimensions,
named attribute directions). Values are in units of each direction's scale (σ for a
principal component), −3…3; setting them from code never echoes back as a user move."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QToolButton, QWidget

from .plain_text import plain, tip

STEPS = 100  # slider ticks per unit
LIMIT = 3.0


class SliderBank(QWidget):
    moved = Signal(int, float)  # row, value
    released = Signal(int)  # row (the end of a drag: a good moment to record a keyframe)
    removed = Signal(int)  # row whose ✕ was pressed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(1, 1)
        self.sliders: list[QSlider] = []
        self._readouts: list[QLabel] = []
        self._widgets: list[QWidget] = []

    def set_rows(self, names: list[str], tooltips: list[str] | None = None, removable: bool = False) -> None:
        for w in self._widgets:
            self.grid.removeWidget(w)
            w.hide()
            w.deleteLater()
        self._widgets, self.sliders, self._readouts = [], [], []
        for row, name in enumerate(names):
            caption = plain(QLabel(name))  # a direction's name, as the user typed it
            caption.setMinimumWidth(64)
            caption.setProperty("role", "muted")
            slider = QSlider(Qt.Horizontal)
            slider.setRange(int(-LIMIT * STEPS), int(LIMIT * STEPS))
            slider.setProperty("row", row)
            slider.valueChanged.connect(self._on_slider_value_changed)
            slider.sliderReleased.connect(self._on_slider_released)
            readout = plain(QLabel("0.00"))
            readout.setFixedWidth(40)
            readout.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if tooltips:
                caption.setToolTip(tip(tooltips[row]))
                slider.setToolTip(tip(tooltips[row]))
            widgets = [caption, slider, readout]
            if removable:
                remove = QToolButton(text="✕")
                remove.setToolTip(tip(f"Delete the direction “{name}”"))
                remove.setProperty("row", row)
                remove.clicked.connect(self._on_remove_clicked)
                widgets.append(remove)
            for col, w in enumerate(widgets):
                self.grid.addWidget(w, row, col)
            self._widgets += widgets
            self.sliders.append(slider)
            self._readouts.append(readout)

    def __len__(self) -> int:
        return len(self.sliders)

    def value(self, row: int) -> float:
        return self.sliders[row].value() / STEPS

    def set_values(self, values) -> None:
        """Show values (clipped to the range) without emitting ``moved``."""
        for row, v in enumerate(values):
            if row >= len(self.sliders):
                break
            slider = self.sliders[row]
            slider.blockSignals(True)
            slider.setValue(int(round(max(-LIMIT, min(LIMIT, float(v))) * STEPS)))
            slider.blockSignals(False)
            self._readouts[row].setText(f"{float(v):+.2f}")

    @Slot(int)
    def _on_slider_value_changed(self, value: int) -> None:
        row = self.sender().property("row")
        self._readouts[row].setText(f"{value / STEPS:+.2f}")
        self.moved.emit(row, value / STEPS)

    @Slot()
    def _on_slider_released(self) -> None:
        self.released.emit(self.sender().property("row"))

    @Slot()
    def _on_remove_clicked(self) -> None:
        self.removed.emit(self.sender().property("row"))
