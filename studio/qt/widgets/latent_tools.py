"""The Latent explorer's tools, one tab each: interpolation, attribute directions, latent
walks (recorded keyframes), and the reconstruction check with its anomaly ranking.

Each tool talks to the page (``explorer``) through a few calls: ``explorer.space``,
``explorer.z``, ``explorer.label``, ``explorer.set_latent(z)``, ``explorer.select_point(i)``,
``explorer.move_latent(delta)``, ``explorer.current_image``. Decoding many frames runs in the
tool's own background task (latest wins), never on the UI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ...latent import DirectionStore, attribute_direction, interpolate, walk
from ..tasks import BackgroundTask
from .cards import label, set_role
from .image_view import ImageView, to_qimage
from .latent_frames import FrameStrip
from .latent_sliders import SliderBank

SELECTION = "Map selection"


def _thumb(placeholder: str, size: int = 64) -> ImageView:
    view = ImageView(placeholder)
    view.setMinimumSize(size, size)
    view.setFixedSize(size, size)
    return view


class _FramesTool(QWidget):
    """A tool whose output is a sequence of decoded frames."""

    def __init__(self, explorer, name: str, placeholder: str):
        super().__init__()
        self.explorer = explorer
        self.frames = FrameStrip(name, placeholder)
        self._task = BackgroundTask(self)
        self._task.succeeded.connect(self._on_task_succeeded)
        self._task.failed.connect(self._on_task_failed)

    def _decode(self, latents: np.ndarray) -> None:
        space, label_ = self.explorer.space, self.explorer.label
        self.frames.set_busy("decoding frames…")
        self._task.submit(lambda: list(space.decode(latents, label_)))

    @Slot(object)
    def _on_task_succeeded(self, frames: list) -> None:
        self.frames.set_frames(frames)
        self.frames_made(frames)

    def frames_made(self, frames: list) -> None: ...

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self.frames.set_busy(f"could not decode: {message}")


class InterpolationTool(_FramesTool):
    """A → B in N frames, straight (lerp) or along the sphere (slerp)."""

    def __init__(self, explorer):
        super().__init__(explorer, "interpolation", "Set A and B — points on the map, random latents or the "
                         "current image — to see the way between them")
        self.a = self.b = None
        self.a_view, self.b_view = _thumb("A"), _thumb("B")
        self.set_a = QPushButton("A ← current")
        self.set_b = QPushButton("B ← current")
        self.set_a.setToolTip("Use the latent on screen (click a map point first) as the start")
        self.set_b.setToolTip("Use the latent on screen as the end")
        self.random = QPushButton("Random A and B")
        self.count = QSpinBox(minimum=2, maximum=240, value=12, suffix=" frames")
        self.mode = QComboBox()
        self.mode.addItem("lerp (straight line)", "lerp")
        self.mode.addItem("slerp (great circle)", "slerp")
        self.mode.setToolTip("slerp keeps the latent's length, where a Gaussian latent's mass lies "
                             "(White 2016); lerp passes nearer the centre")
        self.set_a.clicked.connect(self._on_set_a_clicked)
        self.set_b.clicked.connect(self._on_set_b_clicked)
        self.random.clicked.connect(self._on_random_clicked)
        self.count.valueChanged.connect(self.refresh)
        self.mode.currentIndexChanged.connect(self.refresh)
        ends = QGridLayout()
        ends.setContentsMargins(0, 0, 0, 0)
        ends.setVerticalSpacing(6)
        ends.addWidget(self.a_view, 0, 0, Qt.AlignCenter)
        ends.addWidget(self.b_view, 0, 1, Qt.AlignCenter)
        ends.addWidget(self.set_a, 1, 0)
        ends.addWidget(self.set_b, 1, 1)
        ends.addWidget(self.random, 2, 0, 1, 2)
        ends.addWidget(self.count, 3, 0)
        ends.addWidget(self.mode, 3, 1)
        ends.setRowStretch(4, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(ends)
        layout.addSpacing(10)
        layout.addWidget(self.frames, 1)

    def set_space(self, space) -> None:
        self.a = self.b = None
        self.a_view.set_image(None)
        self.b_view.set_image(None)
        self.frames.set_frames([])

    def set_ends(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = np.array(a, np.float32), np.array(b, np.float32)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if self.a is not None and self.b is not None and self.explorer.space is not None:
            self._decode(interpolate(self.a, self.b, self.count.value(), self.mode.currentData()))

    def frames_made(self, frames: list) -> None:
        self.a_view.set_image(frames[0])
        self.b_view.set_image(frames[-1])

    def _take_current(self, end: str) -> None:
        if self.explorer.z is None:
            return
        setattr(self, end, self.explorer.z.copy())
        (self.a_view if end == "a" else self.b_view).set_image(self.explorer.current_image)
        self.refresh()

    @Slot()
    def _on_set_a_clicked(self) -> None:
        self._take_current("a")

    @Slot()
    def _on_set_b_clicked(self) -> None:
        self._take_current("b")

    @Slot()
    def _on_random_clicked(self) -> None:
        space = self.explorer.space
        if space is not None:
            seed = self.explorer.next_seed()
            self.set_ends(space.random_latent(seed), space.random_latent(seed + 10_000))


class DirectionsTool(QWidget):
    """Two groups (by label or from a box drawn on the map) → mean(A) − mean(B), a named
    direction with its own slider, saved with the run."""

    selection_armed = Signal(bool)  # the map should (not) be in box-select mode

    def __init__(self, explorer):
        super().__init__()
        self.explorer = explorer
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

    def _say(self, text: str, role: str = "muted") -> None:
        self.message.setText(text)
        set_role(self.message, role)

    def _members(self, group: str) -> tuple[np.ndarray, str]:
        space, combo = self.explorer.space, self.groups[group]
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
        space = self.explorer.space
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
        self.explorer.move_latent(delta)

    @Slot()
    def _on_add_clicked(self) -> None:
        self.add_direction()

    @Slot(int, float)
    def _on_bank_moved(self, row: int, value: float) -> None:
        self.move(row, value)

    @Slot(int)
    def _on_bank_released(self, row: int) -> None:
        self.explorer.commit_position()

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
        self.selection_armed.emit(on)
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
        self.pick_buttons[group].setChecked(False)
        self._say(f"Group {group}: {len(indices)} points from the map.")


class WalkTool(_FramesTool):
    """Record positions as keyframes; a smooth Catmull–Rom walk through them, as a video."""

    def __init__(self, explorer):
        super().__init__(explorer, "latent-walk", "Record a path: press ● Record, then click points, drag "
                         "sliders or press Random — each position becomes a keyframe of a smooth walk")
        self.keys: list[np.ndarray] = []
        self.record = QToolButton(text="●  Record", checkable=True)
        self.record.setToolTip("While on, every clicked point, slider release and random latent becomes a keyframe")
        self.add = QPushButton("+ Keyframe")
        self.add.setToolTip("Add the latent on screen as a keyframe")
        self.undo, self.clear = QPushButton("Undo"), QPushButton("Clear")
        self.per = QSpinBox(minimum=2, maximum=120, value=16, suffix=" frames / step")
        self.loop = QCheckBox("Loop back to the start")
        self.count = label("0 keyframes", "muted")
        self.add.clicked.connect(self._on_add_clicked)
        self.undo.clicked.connect(self._on_undo_clicked)
        self.clear.clicked.connect(self._on_clear_clicked)
        self.per.valueChanged.connect(self.refresh)
        self.loop.toggled.connect(self.refresh)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.record)
        side.addWidget(self.add)
        row = QHBoxLayout()
        row.addWidget(self.undo)
        row.addWidget(self.clear)
        side.addLayout(row)
        side.addWidget(self.per)
        side.addWidget(self.loop)
        side.addWidget(self.count)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(side)
        layout.addSpacing(10)
        layout.addWidget(self.frames, 1)

    def set_space(self, space) -> None:
        self.keys = []
        self.record.setChecked(False)
        self.frames.set_frames([])
        self._changed()

    def offer(self, z: np.ndarray) -> None:
        """A committed position: kept as a keyframe while recording."""
        if self.record.isChecked():
            self.add_keyframe(z)

    def add_keyframe(self, z: np.ndarray) -> None:
        if self.keys and np.allclose(self.keys[-1], z):
            return
        self.keys.append(np.array(z, np.float32))
        self._changed()

    def _changed(self) -> None:
        n = len(self.keys)
        self.count.setText(f"{n} keyframe{'s' if n != 1 else ''}" + ("" if n >= 2 else " — 2 make a walk"))
        self.undo.setEnabled(n > 0)
        self.clear.setEnabled(n > 0)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if len(self.keys) >= 2 and self.explorer.space is not None:
            self._decode(walk(self.keys, self.per.value(), loop=self.loop.isChecked()))
        elif not self.keys:
            self.frames.set_frames([])

    @Slot()
    def _on_add_clicked(self) -> None:
        if self.explorer.z is not None:
            self.add_keyframe(self.explorer.z)

    @Slot()
    def _on_undo_clicked(self) -> None:
        self.keys = self.keys[:-1]
        self._changed()

    @Slot()
    def _on_clear_clicked(self) -> None:
        self.keys = []
        self._changed()


class ReconstructionTool(QWidget):
    """Input and reconstruction side by side with the error; the dataset ranked by error."""

    ANOMALIES = 60

    def __init__(self, explorer):
        super().__init__()
        self.explorer = explorer
        self.index = -1
        self.input_view, self.output_view = _thumb("input", 150), _thumb("reconstruction", 150)
        self.error = label("Click a point on the map (or an image on the right) to compare it with its "
                           "reconstruction.", "muted", wrap=True)
        self.error.setMaximumWidth(310)
        self.error.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.ranking = QListWidget()
        self.ranking.setViewMode(QListWidget.IconMode)
        self.ranking.setIconSize(QSize(56, 56))
        self.ranking.setResizeMode(QListWidget.Adjust)
        self.ranking.setMovement(QListWidget.Static)
        self.ranking.setSpacing(4)
        self.ranking.itemClicked.connect(self._on_ranking_item_clicked)
        self.order = QComboBox()
        self.order.addItem("Worst first (anomalies)", "worst")
        self.order.addItem("Best first", "best")
        self.order.currentIndexChanged.connect(self._fill_ranking)
        self.status = label("", "muted")
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._task = BackgroundTask(self)
        self._task.succeeded.connect(self._on_task_succeeded)
        pair = QGridLayout()
        pair.addWidget(self.input_view, 0, 0)
        pair.addWidget(self.output_view, 0, 1)
        pair.addWidget(label("input", "muted"), 1, 0, Qt.AlignCenter)
        pair.addWidget(label("reconstruction", "muted"), 1, 1, Qt.AlignCenter)
        pair.addWidget(self.error, 2, 0, 1, 2)
        pair.setRowStretch(3, 1)
        right = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.order)
        head.addWidget(self.status, 1)
        right.addLayout(head)
        right.addWidget(self.ranking, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(pair)
        layout.addSpacing(12)
        layout.addLayout(right, 1)

    def set_space(self, space) -> None:
        self.index = -1
        self.input_view.set_image(None)
        self.output_view.set_image(None)
        self.ranking.clear()
        self.status.setText("measuring reconstruction errors…" if space.encoded else "")

    def set_errors(self, errors: np.ndarray) -> None:
        self.status.setText(f"mean error {float(errors.mean()):.4f}")
        self.status.setToolTip("Mean squared error per pixel between each image and its reconstruction "
                               "(pixels in [−1, 1]); the list ranks the dataset by it")
        self._fill_ranking()
        if self.index >= 0:
            self.show_point(self.index)

    @Slot()
    def _fill_ranking(self) -> None:
        space = self.explorer.space
        self.ranking.clear()
        if space is None or space.errors is None:
            return
        order = np.argsort(space.errors)
        order = order[::-1] if self.order.currentData() == "worst" else order
        for i in order[:self.ANOMALIES]:
            name = space.label_name(int(space.labels[i])) if space.labels is not None else ""
            item = QListWidgetItem(QIcon(QPixmap.fromImage(to_qimage(space.images[i]))), f"{space.errors[i]:.3f}")
            item.setData(Qt.UserRole, int(i))
            item.setToolTip(f"#{i} {name}: error {space.errors[i]:.4f}")
            self.ranking.addItem(item)

    def show_point(self, i: int) -> None:
        space = self.explorer.space
        if space is None or not space.encoded:
            return
        self.index = i
        self.input_view.set_image(space.images[i])
        z, y = space.codes[i], (None if space.labels is None or not space.class_conditional else int(space.labels[i]))
        self._task.submit(lambda: (i, space.decode(z, y)[0]))

    @Slot(object)
    def _on_task_succeeded(self, result) -> None:
        i, image = result
        space = self.explorer.space
        self.output_view.set_image(image)
        name = space.label_name(int(space.labels[i])) if space.labels is not None else "image"
        if space.errors is not None:
            rank = int((space.errors > space.errors[i]).sum()) + 1
            self.error.setText(f"#{i} {name}: error {space.errors[i]:.4f} per pixel — rank {rank:,} of "
                               f"{len(space.errors):,} (1 = worst reconstructed)")
        else:
            self.error.setText(f"#{i} {name}")

    @Slot(QListWidgetItem)
    def _on_ranking_item_clicked(self, item: QListWidgetItem) -> None:
        self.explorer.select_point(int(item.data(Qt.UserRole)))
