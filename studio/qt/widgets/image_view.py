"""Pictures: a uint8 array shown crisp (whole-pixel zoom), and a strip of the last few previews."""

from __future__ import annotations

from collections import deque

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from .. import theme
from .cards import make_opaque
from .save_dialog import ask_save_path


def to_qimage(array: np.ndarray) -> QImage:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) -> a QImage that owns its pixels."""
    a = np.ascontiguousarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = np.ascontiguousarray(a[:, :, 0])
    h, w = a.shape[:2]
    fmt = QImage.Format_Grayscale8 if a.ndim == 2 else QImage.Format_RGB888
    return QImage(a.data, w, h, a.strides[0], fmt).copy()


class ImageView(QWidget):
    """Fits an image into the widget; from 2× up, whole-number zoom without smoothing keeps
    pixels crisp; below that the image is scaled smoothly to fill the room."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self.placeholder = placeholder
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAttribute(Qt.WA_OpaquePaintEvent)  # paints every pixel: parents need not repaint

    def set_image(self, image: np.ndarray | QImage | None) -> None:
        self._image = to_qimage(image) if isinstance(image, np.ndarray) else image
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(theme.SURFACE))  # the card around the rounded corners
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        path = QPainterPath()
        path.addRoundedRect(frame, 10, 10)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillPath(path, QColor("#141519"))
        if self._image is None or self._image.isNull():
            p.setPen(QColor(theme.MUTED))
            p.drawText(self.rect().adjusted(16, 16, -16, -16), Qt.AlignCenter | Qt.TextWordWrap, self.placeholder)
            return
        iw, ih = self._image.width(), self._image.height()
        room_w, room_h = self.width() - 16, self.height() - 16
        scale = min(room_w / iw, room_h / ih)
        crisp = scale >= 2
        if crisp:
            scale = float(int(scale))  # whole pixels: sharp, even rows
        w, h = iw * scale, ih * scale
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        p.setClipPath(path)
        p.setRenderHint(QPainter.SmoothPixmapTransform, not crisp)
        p.drawImage(target, self._image)


class PreviewStrip(QWidget):
    """The last ``keep`` sample grids with ◀ ▶ to step through them and "Save image…"."""

    shown = Signal(int)  # step of the grid on screen

    def __init__(self, placeholder: str, keep: int = 10, parent: QWidget | None = None):
        super().__init__(parent)
        self.history: deque[tuple[int, np.ndarray]] = deque(maxlen=keep)
        self.index = -1
        self.view = ImageView(placeholder)
        self.caption = QLabel("")
        self.caption.setProperty("role", "muted")
        self.note = QLabel("", wordWrap=True, alignment=Qt.AlignCenter)
        self.note.setProperty("role", "muted")
        self.note.hide()
        for text in (self.caption, self.note):  # long words elide or wrap: never widen the window
            text.setSizePolicy(QSizePolicy.Ignored, text.sizePolicy().verticalPolicy())
        self.back, self.forward = QToolButton(text="◀"), QToolButton(text="▶")
        self.back.setToolTip("Earlier preview")
        self.forward.setToolTip("Later preview")
        self.save_button = QToolButton(text="Save image…")
        self.save_button.setToolTip("Save the grid on screen as a PNG (4× enlarged)")
        self.back.clicked.connect(self._on_back_clicked)
        self.forward.clicked.connect(self._on_forward_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.back)
        row.addWidget(self.caption, 1, Qt.AlignCenter)
        row.addWidget(self.forward)
        row.addSpacing(8)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        layout.addLayout(row)
        make_opaque(self)
        self._refresh()

    def set_note(self, text: str) -> None:
        """A line under the image saying what the grid shows."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def clear(self) -> None:
        self.history.clear()
        self.index = -1
        self._refresh()

    def add(self, step: int, grid: np.ndarray) -> None:
        """Show the newest grid, unless the user is looking at an older one."""
        following, full = self.index in (-1, len(self.history) - 1), len(self.history) == self.history.maxlen
        self.history.append((step, grid))
        if following:
            self.index = len(self.history) - 1
        elif full:  # the oldest dropped out: keep the same grid on screen
            self.index = max(0, self.index - 1)
        self._refresh()

    def set_history(self, items: list[tuple[int, np.ndarray]]) -> None:
        self.history.clear()
        self.history.extend(items)
        self.index = len(self.history) - 1
        self._refresh()

    def current(self) -> tuple[int, np.ndarray] | None:
        return self.history[self.index] if self.index >= 0 else None

    def _refresh(self) -> None:
        n, current = len(self.history), self.current()
        self.view.set_image(current[1] if current else None)
        self.caption.setText(f"step {current[0]:,}  ·  {self.index + 1} of {n}" if current else "")
        self.back.setEnabled(self.index > 0)
        self.forward.setEnabled(0 <= self.index < n - 1)
        self.save_button.setEnabled(current is not None)
        if current:
            self.shown.emit(current[0])

    @Slot()
    def _on_back_clicked(self) -> None:
        self.index = max(0, self.index - 1)
        self._refresh()

    @Slot()
    def _on_forward_clicked(self) -> None:
        self.index = min(len(self.history) - 1, self.index + 1)
        self._refresh()

    @Slot()
    def _on_save_clicked(self) -> None:
        current = self.current()
        if current is None:
            return
        path = ask_save_path(self, "Save image", f"samples-step-{current[0]}.png", "PNG image (*.png)")
        if path:
            self.save(path)

    def save(self, path: str) -> None:
        from ...imaging import save_png

        save_png(self.current()[1], path if path.lower().endswith(".png") else path + ".png", scale=4)
