"""The Edit page's picture: your picture shown crisp, the inpainting mask painted on it with the
mouse (left button paints, right button or Erase erases), a ring showing the brush; and the
helpers that turn a drop, a paste or a QImage into a ``PictureSource``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from ...editing.session import EditSession, PictureSource, file_source
from .. import theme
from .diffusion_views import FrameView
from .image_view import ImageView


def qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage of any format → uint8 (H, W, 4) RGBA (a copy)."""
    rgba = image.convertToFormat(QImage.Format_RGBA8888)
    h, w, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
    rows = np.frombuffer(rgba.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, :w * 4].reshape(h, w, 4).copy()


def local_file(mime: QMimeData) -> str | None:
    """The first local file among dropped / pasted URLs."""
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile() and Path(url.toLocalFile()).is_file():
            return url.toLocalFile()
    return None


def source_of(mime: QMimeData | None) -> PictureSource | None:
    """What a drop or the clipboard holds as a picture: a local file, else image data."""
    if mime is None:
        return None
    path = local_file(mime)
    if path:
        return file_source(path)
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            size = f"{image.width()}×{image.height()}"
            return PictureSource("pixels", qimage_to_array(image), f"a pasted {size} picture")
    return None


class MaskCanvas(ImageView):
    """Shows ``session``'s picture; while ``painting`` is on, the mouse paints its mask with a
    brush of ``diameter`` picture pixels (``erase``: the left button erases too)."""

    def __init__(self, session: EditSession, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(placeholder, parent)
        self.session = session
        self.painting, self.erase, self.diameter = False, False, 4.0
        self._hover: QPointF | None = None
        self.setMouseTracking(True)

    def set_painting(self, on: bool) -> None:
        self.painting = on
        self.enlargeable = not on  # a click paints; otherwise it opens the picture large
        self.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)
        self.update()

    def to_picture(self, pos: QPointF) -> tuple[float, float] | None:
        """A point of the widget → picture pixels (x, y), or None off the picture's view."""
        rect = self.image_rect()
        if rect is None or rect.width() <= 0:
            return None
        scale = rect.width() / self.image().width()
        return (pos.x() - rect.left()) / scale, (pos.y() - rect.top()) / scale

    def _dab(self, event, start: bool) -> None:
        point = self.to_picture(event.position())
        if point is None:
            return
        erase = self.erase or bool(event.buttons() & Qt.RightButton)
        self.session.paint(point[0], point[1], self.diameter, not erase, start)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self.painting and event.buttons() & (Qt.LeftButton | Qt.RightButton):
            self._dab(event, True)
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        self._hover = event.position()
        if self.painting and event.buttons() & (Qt.LeftButton | Qt.RightButton):
            self._dab(event, False)
        self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        rect = self.image_rect()
        if not self.painting or self._hover is None or rect is None:
            return
        radius = self.diameter / 2 * rect.width() / self.image().width()
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(QPen(QColor(theme.WARNING if self.erase else theme.TEXT), 1.5))
        p.drawEllipse(self._hover, radius, radius)


class PictureCard(FrameView):
    """The "Your picture" card: a ``FrameView`` whose picture is a ``MaskCanvas``."""

    def __init__(self, session: EditSession, placeholder: str, parent: QWidget | None = None):
        super().__init__("Your picture", "drop · paste · open · dataset", parent=parent)
        self.canvas = MaskCanvas(session, placeholder)
        old, self.view = self.view, self.canvas
        self.layout().replaceWidget(old, self.canvas)
        old.hide()
        old.deleteLater()
