"""The Latent explorer's frame tools: interpolation and latent walks (recorded keyframes).
The other tabs are in latent_directions.py and latent_recon.py.

Each tool is a view of the page's ``ExplorerState`` (``studio.latent.state``): it reads the
space, z, label and image there, writes through the state's methods and follows its events;
it never sees the page. Decoding many frames runs through the runner (``Latest``: a newer
request cancels an older one), never on the UI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QPushButton, QSpinBox, QStackedWidget,
                               QToolButton, QVBoxLayout, QWidget)

from ...latent import interpolate, walk
from ..runner import Latest
from .cards import label
from .image_view import ImageView
from .latent_frames import FrameStrip


def thumb(placeholder: str, size: int = 64) -> ImageView:
    view = ImageView(placeholder)
    view.setMinimumSize(size, size)
    view.setFixedSize(size, size)
    return view


def decode_frames(space, latents: np.ndarray, label: int | None) -> list[np.ndarray]:
    """Latents (n, d) -> n uint8 frames (H, W, C)."""
    return list(space.decode(latents, label))


class _FramesTool(QWidget):
    """A tool whose output is a sequence of decoded frames."""

    def __init__(self, state, name: str, placeholder: str):
        super().__init__()
        self.state = state
        self.frames = FrameStrip(name, placeholder)
        self.decoding = Latest(self, f"frames-{name}")
        self.decoding.succeeded.connect(self._on_decoding_succeeded)
        self.decoding.failed.connect(self._on_decoding_failed)
        state.events.space.connect(self.set_space)

    def set_space(self, space) -> None:
        self.decoding.cancel()  # frames of the previous model are no use

    def _decode(self, latents: np.ndarray) -> None:
        self.frames.set_busy("decoding frames…")
        self.decoding.submit(decode_frames, self.state.space, latents, self.state.label)

    @Slot(object)
    def _on_decoding_succeeded(self, frames: list) -> None:
        self.frames.set_frames(frames)
        self.frames_made(frames)

    def frames_made(self, frames: list) -> None: ...

    @Slot(str)
    def _on_decoding_failed(self, message: str) -> None:
        self.frames.set_busy(f"could not decode: {message}")


class InterpolationTool(_FramesTool):
    """A → B in N frames, straight (lerp) or along the sphere (slerp)."""

    def __init__(self, state):
        super().__init__(state, "interpolation", "Set A and B — points on the map, random latents or the "
                         "current image — to see the way between them")
        self.a = self.b = None
        self.a_view, self.b_view = thumb("A"), thumb("B")
        self.set_a = QPushButton("A ← current")
        self.set_b = QPushButton("B ← current")
        self.set_a.setToolTip("Use the latent on screen (click a map point first) as the start")
        self.set_b.setToolTip("Use the latent on screen as the end")
        self.random = QPushButton("Random A and B")
        self.count = QSpinBox(minimum=2, maximum=240, value=12, suffix=" frames")
        self.mode = QComboBox()
        self.mode.addItem("lerp", "lerp")
        self.mode.addItem("slerp", "slerp")
        self.mode.setToolTip("lerp: the straight line from A to B, which passes nearer the centre; slerp: the "
                             "great circle, which keeps the latent's length, where a Gaussian latent's mass "
                             "lies (White 2016)")
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
        super().set_space(space)
        self.a = self.b = None
        self.a_view.set_image(None)
        self.b_view.set_image(None)
        self.frames.set_frames([])

    def set_ends(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = np.array(a, np.float32), np.array(b, np.float32)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if self.a is not None and self.b is not None and self.state.space is not None:
            self._decode(interpolate(self.a, self.b, self.count.value(), self.mode.currentData()))

    def frames_made(self, frames: list) -> None:
        self.a_view.set_image(frames[0])
        self.b_view.set_image(frames[-1])

    def _take_current(self, end: str) -> None:
        if self.state.z is None:
            return
        setattr(self, end, self.state.z.copy())
        (self.a_view if end == "a" else self.b_view).set_image(self.state.image)
        self.refresh()

    @Slot()
    def _on_set_a_clicked(self) -> None:
        self._take_current("a")

    @Slot()
    def _on_set_b_clicked(self) -> None:
        self._take_current("b")

    @Slot()
    def _on_random_clicked(self) -> None:
        space = self.state.space
        if space is not None:
            seed = self.state.next_seed()
            self.set_ends(space.random_latent(seed), space.random_latent(seed + 10_000))


class WalkTool(_FramesTool):
    """Record positions as keyframes; a smooth Catmull–Rom walk through them, as a video."""

    def __init__(self, state):
        super().__init__(state, "latent-walk", "Record a path: press ● Record, then click points, drag "
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
        state.events.committed.connect(self.offer)

    def set_space(self, space) -> None:
        super().set_space(space)
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
        if len(self.keys) >= 2 and self.state.space is not None:
            self._decode(walk(self.keys, self.per.value(), loop=self.loop.isChecked()))
        elif not self.keys:
            self.frames.set_frames([])

    @Slot()
    def _on_add_clicked(self) -> None:
        if self.state.z is not None:
            self.add_keyframe(self.state.z)

    @Slot()
    def _on_undo_clicked(self) -> None:
        self.keys = self.keys[:-1]
        self._changed()

    @Slot()
    def _on_clear_clicked(self) -> None:
        self.keys = []
        self._changed()


class ToolPages(QStackedWidget):
    """The tools' stack, as tall as its tallest page whichever is shown: a page with wrapped
    text (height-for-width) must not resize the card when chosen (the tab bar above it
    jumped 42 px when "Attribute directions" was chosen)."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        return False
