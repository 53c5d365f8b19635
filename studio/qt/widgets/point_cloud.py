"""A pyqtgraph item for many same-looking dots, each ``size`` screen pixels whatever the zoom: one
antialiased dot drawn once into a pixmap, stamped at every point by one
``QPainter.drawPixmapFragments`` call (Qt's fastest way to draw many small copies; pyqtgraph's
scatter plot paints the same way).

pyqtgraph's ``ScatterPlotItem`` keeps a record per spot (symbol, size, pen, brush, data) so any
spot can differ; the playground redraws 500–1,000 identical dots ~25 times a second, where that
bookkeeping cost 3–4 ms of the UI thread's ~11 ms a frame (``setData`` 2.9–3.4 ms, painting
1.8–2.4 ms; 2-core AMD EPYC). Here ``setData`` keeps the coordinates and painting maps them to the screen with numpy and makes one Qt call. (A round cosmetic pen
with ``drawPoints`` was tried: Qt strokes each dot as a path, painting 2.5× slower.)
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from pyqtgraph.Qt.internals import PrimitiveArray


class PointCloud(pg.GraphicsObject):
    """Dots of ``size`` pixels in ``color`` at the finite (x, y) given to ``setData``."""

    def __init__(self, color: QColor, size: float):
        super().__init__()
        self.size = float(size)
        self.color = QColor(color)
        self._dot: QPixmap | None = None
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)
        self.xy = np.zeros((0, 2))
        self._bounds = QRectF()

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:  # noqa: N802 (pyqtgraph's name)
        """Show the points (x[i], y[i]) (N,) each, data units; non-finite ones are left out."""
        xy = np.column_stack([np.asarray(x, np.float64), np.asarray(y, np.float64)])
        xy = xy[np.isfinite(xy).all(1)]
        self.prepareGeometryChange()
        self.xy = xy
        if len(xy):
            (x0, y0), (x1, y1) = xy.min(0), xy.max(0)
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = QRectF()
        self.informViewBoundsChanged()
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 (pyqtgraph API)
        """The points' extent along axis ``ax`` (0: x, 1: y), for the view's auto range."""
        if not len(self.xy):
            return None, None
        return float(self.xy[:, ax].min()), float(self.xy[:, ax].max())

    def pixelPadding(self) -> float:  # noqa: N802 (pyqtgraph API)
        return self.size / 2

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        if self._bounds.isNull() and not len(self.xy):
            return QRectF()
        px, py = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0  # a dot's radius reaches past its centre
        pad_x, pad_y = px * self.size, py * self.size
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def _dot_pixmap(self, ratio: float) -> QPixmap:
        """The dot, antialiased, at the screen's device-pixel ratio (made again if that changes)."""
        if self._dot is None or self._dot.devicePixelRatio() != ratio:
            diameter = self.size * ratio
            side = math.ceil(diameter) + 2  # a pixel of margin around the disc for its antialiased edge
            dot = QPixmap(side, side)
            dot.fill(Qt.transparent)
            painter = QPainter(dot)
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setPen(Qt.NoPen)
            painter.setBrush(self.color)
            painter.drawEllipse(QRectF((side - diameter) / 2, (side - diameter) / 2, diameter, diameter))
            painter.end()
            dot.setDevicePixelRatio(ratio)
            self._dot = dot
        return self._dot

    def paint(self, painter, option=None, widget=None) -> None:
        if not len(self.xy):
            return
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0
        dot = self._dot_pixmap(ratio)
        screen = pg.functions.transformCoordinates(painter.transform(), self.xy.T)  # (2, N) device pixels
        painter.resetTransform()
        self._fragments.resize(len(self.xy))
        fragments = self._fragments.ndarray()  # per dot: centre x, y; source x, y, w, h; scale x, y; angle; opacity
        fragments[:, 0:2] = np.clip(screen.T, -2.0**30, 2.0**30)
        fragments[:, 2:6] = (0, 0, dot.width(), dot.height())
        fragments[:, 6:10] = (1 / ratio, 1 / ratio, 0.0, 1.0)
        painter.drawPixmapFragments(*self._fragments.drawargs(), dot)
