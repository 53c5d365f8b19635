"""A sequence of decoded frames (an interpolation, a latent walk): a strip to look at, a loop
to play, and exports to PNG strip, animated GIF and MP4 (written through the runner).

The strip shows as many frames (evenly picked) as fit at least twice their native size, as
large as the strip's height allows, so frames grow with the window instead of shrinking below
their pixels; exports are enlarged by whole pixels to at least ``export.EXPORT_PX``."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMenu, QSizePolicy, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from ...export import export_scale, save_animation, strip
from ..runner import Latest
from .image_view import ImageView
from .mp4_check import when_mp4_known
from .plain_text import plain, tip
from .save_dialog import ask_save_path

MIN_ZOOM = 2  # strip frames are drawn at least this many screen pixels per image pixel
PADDING = 2  # pixels between frames in the strip
MARGIN = 16  # ImageView's frame around its picture


def strip_count(width: int, height: int, frame_shape: tuple[int, ...], n: int) -> int:
    """How many of ``n`` frames (H, W, …) a strip view of ``width`` × ``height`` pixels shows:
    drawn as large as the height allows (at least ``MIN_ZOOM``×), as many as fit across (≥ 2
    when there are 2)."""
    h, w = frame_shape[0] + 2 * PADDING, frame_shape[1] + PADDING
    zoom = max(MIN_ZOOM, int((height - MARGIN) / h))
    return max(min(n, 2), min(n, int((width - MARGIN - PADDING) / (zoom * w))))


def there_and_back(frames: list[np.ndarray]) -> list[np.ndarray]:
    """A → B → A without repeating the ends (what the player plays), for a seamless loop."""
    return list(frames) + list(frames[-2:0:-1])


class FrameStrip(QWidget):
    exported = Signal(str)  # the written file
    export_failed = Signal(str)

    def __init__(self, name: str, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name  # default file name stem
        self.frames: list[np.ndarray] = []
        self._at = 0
        self.strip_view = ImageView(placeholder)
        self.strip_view.setMinimumSize(160, 64)
        self.strip_view.setMaximumHeight(150)
        self.strip_view.grid_fill = 31  # the strip's gap colour (below): a click enlarges that frame
        self.shown = 0  # frames in the strip now
        self.player = ImageView("")
        self.player.setFixedSize(132, 132)
        self.play_button = QToolButton(text="▶  Play", checkable=True)
        self.play_button.setToolTip("Play the frames as a loop (there and back)")
        self.play_button.toggled.connect(self._on_play_button_toggled)
        self.fps = QSpinBox(minimum=1, maximum=60, value=12, suffix=" fps")
        self.fps.setToolTip("Frames per second, for playing and for GIF / MP4 exports")
        self.fps.valueChanged.connect(self._on_fps_value_changed)
        self.info = plain(QLabel(""))  # a saved file's name, an error quoting its path
        self.info.setProperty("role", "muted")
        self.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.export_button = QToolButton(text="Export", popupMode=QToolButton.InstantPopup)
        self.export_button.setToolTip("Save the frames: a PNG strip, an animated GIF or an MP4 video")
        menu = QMenu(self.export_button)
        self.export_actions = {}
        for kind, text in (("png", "PNG strip…"), ("gif", "Animated GIF…"), ("mp4", "MP4 video…")):
            action = menu.addAction(text)
            action.setData(kind)
            action.triggered.connect(self._on_export_triggered)
            self.export_actions[kind] = action
        self._mp4 = False  # offered once the check (off this thread) says it works
        when_mp4_known(self._on_mp4_known)
        menu.addSeparator()
        self.bounce = menu.addAction("Loop there and back (A → B → A)")
        self.bounce.setCheckable(True)
        self.bounce.setChecked(True)
        self.bounce.setToolTip("GIF and MP4 loops go A → B → A, as the player does; off: A → B, then start again")
        menu.setToolTipsVisible(True)
        self.export_button.setMenu(menu)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.writing = Latest(self, "export", supersede=False)  # a second export waits for the first
        self.writing.succeeded.connect(self._on_writing_succeeded)
        self.writing.failed.connect(self._on_writing_failed)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.fps)
        controls.addWidget(self.info, 1)
        controls.addWidget(self.export_button)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addStretch(1)
        left.addWidget(self.strip_view, 3)
        left.addStretch(1)
        left.addLayout(controls)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 1)
        layout.addWidget(self.player, 0, Qt.AlignTop)
        self._refresh()

    def set_frames(self, frames: list[np.ndarray] | np.ndarray) -> None:
        self.frames = [np.asarray(f) for f in frames]
        self._at = 0
        if self.frames:  # room for two frames at MIN_ZOOM×, tall or not
            h = self.frames[0].shape[0]
            self.strip_view.setMinimumHeight(MIN_ZOOM * (h + 2 * PADDING) + MARGIN)
            self.strip_view.setMaximumHeight(max(150, 4 * h + MARGIN))
        self.shown = 0
        self._refresh()

    def _on_mp4_known(self, available: bool) -> None:
        self._mp4 = available
        if not available:
            self.export_actions["mp4"].setText("MP4 video (needs imageio-ffmpeg)")
        self.export_actions["mp4"].setEnabled(available)

    def set_busy(self, text: str) -> None:
        self.info.setText(text)

    def _refresh(self) -> None:
        n = len(self.frames)
        if n:
            self._fill_strip()
            self.player.set_image(self.frames[min(self._at, n - 1)])
        else:
            self.strip_view.set_image(None)
            self.player.set_image(None)
            self.play_button.setChecked(False)
        self.export_button.setEnabled(n > 0)
        self.export_actions["mp4"].setEnabled(self._mp4)
        self.play_button.setEnabled(n > 1)

    def _fill_strip(self) -> None:
        n = len(self.frames)
        k = strip_count(self.strip_view.width(), self.strip_view.height(), self.frames[0].shape, n)
        if k == self.shown:
            return
        self.shown = k
        picked = [self.frames[int(round(i))] for i in np.linspace(0, n - 1, k)]
        self.strip_view.set_image(strip(picked, padding=PADDING, fill=31))
        self.info.setText(f"{n} frames" + (f" (the strip shows {k})" if k < n else ""))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.frames:
            self._fill_strip()

    # --- playing -------------------------------------------------------------------------------
    @Slot(bool)
    def _on_play_button_toggled(self, on: bool) -> None:
        self.play_button.setText("❚❚  Pause" if on else "▶  Play")
        if on:
            self.timer.start(int(1000 / self.fps.value()))
        else:
            self.timer.stop()

    @Slot(int)
    def _on_fps_value_changed(self, fps: int) -> None:
        if self.timer.isActive():
            self.timer.start(int(1000 / fps))

    @Slot()
    def _on_timer_timeout(self) -> None:
        n = len(self.frames)
        if n < 2:
            return
        self._at = (self._at + 1) % (2 * n - 2)  # ping-pong: A → B → A
        self.player.set_image(self.frames[self._at if self._at < n else 2 * n - 2 - self._at])

    # --- exporting -----------------------------------------------------------------------------
    def export(self, path: str) -> None:
        """Write the frames (by the file's suffix: .png strip, .gif, .mp4) in the background."""
        if not self.frames:
            return
        frames = there_and_back(self.frames) if self.bounce.isChecked() and not path.lower().endswith(".png") \
            else list(self.frames)
        self.info.setText(f"writing {path.rsplit('/', 1)[-1]}…")
        self.writing.submit(save_animation, frames, path, self.fps.value(), export_scale(frames[0]))

    @Slot()
    def _on_export_triggered(self) -> None:
        kind = self.sender().data()
        filters = {"png": "PNG image (*.png)", "gif": "GIF animation (*.gif)", "mp4": "MP4 video (*.mp4)"}
        stem = self.name + ("-strip" if kind == "png" else "")
        path = ask_save_path(self, "Export frames", f"{stem}.{kind}", filters[kind])
        if path:
            self.export(path if path.lower().endswith(f".{kind}") else f"{path}.{kind}")

    @Slot(object)
    def _on_writing_succeeded(self, path) -> None:
        self.info.setText(f"saved {path.name}")
        self.info.setToolTip(tip(str(path)))
        self.exported.emit(str(path))

    @Slot(str)
    def _on_writing_failed(self, message: str) -> None:
        self.info.setText(f"export failed: {message}")
        self.export_failed.emit(message)
