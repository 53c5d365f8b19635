"""Draws the playground's numpy layers (``studio.playground.frame``) with pyqtgraph, whatever
family made them: one item per layer, created once and fed with ``setData``; a layer's
``kind`` picks the item, its ``role`` the colour. The main view also takes mouse strokes
(brush / erase) and reports them in data coordinates."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ...playground.frame import Layer
from .. import theme
from .point_cloud import PointCloud

ROLE_COLORS = {"data": "#c9ccd6", "model": "#f2b75e", "field": "#b9e26c", "grid": "#9b87ff", "aux": "#ff7fa8",
               "noised": "#79c1ff", "outline": "#e7e7ec", "path": "#4fd3c4", "heat": "#f2b75e",
               "diverging": "#ff6b7d"}
POINT_SIZES = {"data": 4, "model": 5, "aux": 4, "noised": 4}
Z_ORDER = {"heatmap": -10, "bars": 0, "lines": 1, "curve": 2, "points": 3, "arrows": 5}
ROLE_Z = {"data": 0.0, "noised": 0.1, "aux": 0.2, "model": 0.3}


def _rgba(role: str, alpha: float) -> QColor:
    color = QColor(ROLE_COLORS.get(role, theme.TEXT))
    color.setAlphaF(alpha)
    return color


def _colormap(role: str) -> pg.ColorMap:
    if role == "diverging":  # fake (blue) … unsure (dark) … real (red)
        return pg.ColorMap([0.0, 0.5, 1.0], [(49, 110, 200), (31, 33, 40), (214, 60, 75)])
    return pg.ColorMap([0.0, 0.35, 0.7, 1.0], [(23, 24, 29), (90, 40, 120), (214, 90, 60), (250, 220, 120)])


def polylines(xy: np.ndarray) -> np.ndarray:
    """(L, P, 2) polylines as one (L·(P + 1), 2) array with NaN rows between them."""
    gap = np.full((xy.shape[0], 1, 2), np.nan, np.float32)
    return np.concatenate([xy, gap], 1).reshape(-1, 2)


def arrow_segments(xy: np.ndarray, uv: np.ndarray, head: float = 0.3) -> np.ndarray:
    """Shaft and two head strokes per arrow as point pairs (for ``connect="pairs"``)."""
    tip = xy + uv
    out = [xy, tip]
    for angle in (math.radians(150), math.radians(-150)):
        c, s = math.cos(angle), math.sin(angle)
        barb = np.stack([uv[:, 0] * c - uv[:, 1] * s, uv[:, 0] * s + uv[:, 1] * c], 1) * head
        out += [tip, tip + barb]
    return np.stack(out, 1).reshape(-1, 2)


class MagnitudeAxis(pg.AxisItem):
    """An axis that can label its ticks by magnitude (for histograms mirrored below the axis:
    a density is never negative, whichever way it is drawn)."""

    magnitudes = False

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        return super().tickStrings([abs(v) for v in values] if self.magnitudes else values, scale, spacing)


class WrappedLabel(QLabel):
    """A word-wrapped label that is always as tall as its text needs at its width (two views side
    by side wrap a legend onto more lines; a plain QLabel kept its old height and cut them off)."""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        super().setText(text)
        self._fit_height()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        need = self.heightForWidth(self.width()) if self.width() > 0 and self.text() else 0
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)


class LayerPlot(QWidget):
    """A plot of layers with a one-line legend under it. ``equal``: 1:1 aspect over ±``lim``."""

    stroke = Signal(float, float, bool)  # x, y in data units; True: erase

    def __init__(self, title: str = "", equal: bool = True, lim: float = 3.0, drawable: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.left_axis = MagnitudeAxis("left")
        self.plot = pg.PlotWidget(background=theme.SURFACE, axisItems={"left": self.left_axis})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getPlotItem().setTitle(title, size="9pt", color=theme.MUTED)
        for side in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
        self.legend = WrappedLabel(objectName="muted", wordWrap=True)
        self.legend.setTextFormat(Qt.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self.items: dict[tuple, pg.GraphicsObject] = {}
        self._legend_names: list[tuple[str, str]] = []
        self._data_xy: np.ndarray | None = None
        self.lim = lim
        self.set_equal(equal)
        self.drawable = drawable
        self.tool: str | None = None  # "brush" | "erase" | None
        if drawable:
            self.plot.setMouseEnabled(False, False)
            self.plot.viewport().installEventFilter(self)

    def set_equal(self, equal: bool) -> None:
        self.equal = equal
        vb = self.plot.getPlotItem().getViewBox()
        vb.setAspectLocked(equal)
        if equal:
            vb.disableAutoRange()
            vb.setRange(xRange=(-self.lim, self.lim), yRange=(-self.lim, self.lim), padding=0.02)
        else:
            vb.enableAutoRange()

    def set_titles(self, title: str, axes: tuple[str, str] = ("", "")) -> None:
        """Title and axis labels; unchanged ones are left alone (setting a label re-lays out
        the plot and redraws its axes: 5-15 ms a frame when done every frame, measured)."""
        if (title, tuple(axes)) == getattr(self, "_titles", None):
            return
        self._titles = (title, tuple(axes))
        item = self.plot.getPlotItem()
        item.setTitle(title, size="9pt", color=theme.MUTED)
        item.setLabel("bottom", axes[0])
        item.setLabel("left", axes[1])

    def clear_layers(self) -> None:
        for item in self.items.values():
            self.plot.removeItem(item)
        self.items.clear()
        self._data_xy = None
        self._legend_names = []
        self.legend.setText("")

    def show_layers(self, layers: list[Layer]) -> None:
        """Draw ``layers``; items of layers no longer present are hidden."""
        seen = set()
        counts: dict[tuple, int] = {}
        names = []
        for layer in layers:
            base = (layer.kind, layer.role)
            key = (*base, counts.get(base, 0))
            counts[base] = key[2] + 1
            seen.add(key)
            item = self.items.get(key)
            if item is None:
                item = self.items[key] = self._make(layer)
                item.setZValue(Z_ORDER[layer.kind] + ROLE_Z.get(layer.role, 0.0))
                self.plot.addItem(item)
            item.setVisible(True)
            self._update(item, layer)
            if layer.kind != "heatmap":
                names.append((layer.role, layer.name))
        for key, item in self.items.items():
            if key not in seen:
                item.setVisible(False)
        if names != self._legend_names:
            self._legend_names = names
            self.legend.setText("  ".join(f"<span style='color:{ROLE_COLORS.get(r, theme.TEXT)}'>■</span> {n}"
                                          for r, n in names))

    def _make(self, layer: Layer) -> pg.GraphicsObject:
        role = layer.role
        if layer.kind == "points":
            size = POINT_SIZES.get(role, 4)
            alpha = 0.45 if role == "data" else 0.8
            return PointCloud(_rgba(role, alpha), size)
        if layer.kind == "heatmap":
            item = pg.ImageItem(axisOrder="row-major")
            item.setLookupTable(_colormap(role).getLookupTable(nPts=256))
            item.setOpacity(0.9)
            return item
        if layer.kind == "bars":
            if role == "outline":
                return pg.BarGraphItem(x0=[0], x1=[1], height=[0], brush=None, pen=pg.mkPen(_rgba(role, 0.9), width=1))
            return pg.BarGraphItem(x0=[0], x1=[1], height=[0], brush=pg.mkBrush(_rgba(role, 0.55)), pen=None)
        width = {"outline": 1.2}.get(role, 1.0)  # 1 px takes Qt's cosmetic-line path; wider pens are stroked (VAE view paint 10 → 6 ms)
        alpha = {"grid": 0.55, "path": 0.75}.get(role, 0.9)
        connect = "pairs" if layer.kind == "arrows" else "finite"
        return pg.PlotCurveItem(pen=pg.mkPen(_rgba(role, alpha), width=width), connect=connect, antialias=False)

    def _update(self, item: pg.GraphicsObject, layer: Layer) -> None:
        a = layer.arrays
        if layer.kind == "points":
            xy = a["xy"]
            if layer.role == "data" and xy is self._data_xy:
                return  # the data changes only when someone draws
            if layer.role == "data":
                self._data_xy = xy
            item.setData(x=xy[:, 0], y=xy[:, 1])
        elif layer.kind == "heatmap":
            x0, x1, y0, y1 = (float(v) for v in a["extent"])
            item.setImage(a["values"], levels=tuple(float(v) for v in a["levels"]), autoLevels=False)
            item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        elif layer.kind == "bars":
            e = a["edges"]
            item.setOpts(x0=e[:-1], x1=e[1:], y0=np.zeros_like(a["heights"]), height=a["heights"])
        else:
            if layer.kind == "lines":
                xy = polylines(a["xy"])
            elif layer.kind == "arrows":
                xy = arrow_segments(a["xy"], a["uv"])
            else:
                xy = a["xy"]
            item.setData(x=xy[:, 0], y=xy[:, 1])

    # --- drawing with the mouse ------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind in (event.Type.MouseButtonPress, event.Type.MouseMove):
            buttons = event.buttons()
            if self.tool is not None and buttons & (Qt.LeftButton | Qt.RightButton):
                p = self.plot.getPlotItem().getViewBox().mapSceneToView(
                    self.plot.mapToScene(event.position().toPoint()))
                erase = self.tool == "erase" or bool(buttons & Qt.RightButton)
                self.stroke.emit(float(p.x()), float(p.y()), erase)
                return True
        return False

    def scene_point(self, x: float, y: float) -> QPointF:
        """Where data point (x, y) is in the viewport's pixels (for tests that draw)."""
        scene = self.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))
        return QPointF(self.plot.mapFromScene(scene))
