"""The latent map: a 2D scatter of a dataset's codes coloured by label, with a legend; hover
shows a point's image, a click picks a point (or empty space), a box drag selects points, and
a thumbnails mode draws a few hundred images in place of dots (like TensorBoard's projector),
each in its own aspect whatever the axes' scales. ``MapCard`` is the map shown from an
``ExplorerState``: it writes clicks and boxes to the state and follows its events."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QFrame, QGraphicsItem, QGraphicsRectItem, QHBoxLayout, QLabel,
                               QToolButton, QVBoxLayout, QWidget)

from .. import theme
from .cards import ElidedLabel, label
from .plain_text import button_text, plain, tip
from .image_view import show_large, to_qimage

# label colours: Tableau 10's order of hues, lifted to read on the dark surface
LABEL_COLORS = ["#7aa2ff", "#ffb454", "#59d98e", "#ff6b6b", "#b38cff", "#c9a27e", "#ff8ad8", "#b0b4c0",
                "#e4e46a", "#4fd8e8", "#9b87ff", "#ff9966", "#6fe0b0", "#f5a3d0", "#8fa8ff", "#d0d07a"]
HOVER_PX = 10  # how near (screen pixels) the pointer must be to a point to hover or pick it
THUMBNAILS = 300
THUMB_SPAN = 28  # a thumbnail's width is the map's extent / this (it grows as you zoom in)


def label_color(index: int) -> str:
    return LABEL_COLORS[index % len(LABEL_COLORS)]


def _dot_icon(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


class Dots(pg.ScatterPlotItem):
    """A scatter that leaves clicks to the view box, which picks the nearest point itself
    (pyqtgraph's own hit test would swallow clicks on points)."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        ev.ignore()


class MapViewBox(pg.ViewBox):
    """A ViewBox that reports left clicks in data coordinates and, in select mode, turns a
    left drag into a selection rectangle instead of panning."""

    clicked_at = Signal(float, float)
    double_clicked_at = Signal(float, float)
    region_selected = Signal(QRectF)

    def __init__(self):
        super().__init__()
        self.select_mode = False
        self._band = QGraphicsRectItem()
        self._band.setPen(pg.mkPen(theme.WARNING, width=1.5, style=Qt.DashLine))
        self._band.setBrush(pg.mkBrush(242, 183, 94, 40))
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        if ev.button() == Qt.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            (self.double_clicked_at if ev.double() else self.clicked_at).emit(p.x(), p.y())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if not (self.select_mode and ev.button() == Qt.LeftButton):
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        rect = QRectF(self.mapSceneToView(ev.buttonDownScenePos()), self.mapSceneToView(ev.scenePos())).normalized()
        self._band.setRect(rect)
        self._band.setVisible(not ev.isFinish())
        if ev.isFinish():
            self.region_selected.emit(rect)


class LatentMap(QWidget):
    point_clicked = Signal(int)  # index of the point
    space_clicked = Signal(float, float)  # empty map space, data coordinates
    selection_made = Signal(object)  # int64 indices inside the dragged box

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = MapViewBox()
        self.plot = pg.PlotWidget(viewBox=self.view)
        item = self.plot.getPlotItem()
        for axis in ("left", "bottom"):
            item.hideAxis(axis)
        item.setMenuEnabled(False)
        self.view.setAspectLocked(False)
        self.legend = QWidget()  # beside the plot, never over the points; a click hides/shows a label
        self.legend_layout = QVBoxLayout(self.legend)
        self.legend_layout.setContentsMargins(0, 4, 0, 0)
        self.legend_layout.setSpacing(2)
        self.legend.hide()
        self.xy = np.zeros((0, 2), np.float32)
        self.labels: np.ndarray | None = None
        self.images: np.ndarray | None = None
        self.names: list[str] = []
        self._scatters: list[pg.ScatterPlotItem] = []
        self._thumbs: list[tuple[int, pg.ImageItem]] = []
        self._thumb_size = 1.0
        self.thumbnails = False
        self.hovered = -1
        self.claims: list = []  # callables (x, y) -> bool asked first about a click: True takes it
        # callables (x, y) -> (key, image uint8 (H, W, C), caption) or None, asked first about a
        # hover: a card for something drawn over the points (your picture's mark, latent_marks.py)
        self.hover_claims: list = []
        self._tip_key = None  # what the card shows: a point's index or a claim's key
        self.selected = np.zeros(0, np.int64)
        self._selection = Dots(size=9, pen=pg.mkPen(theme.WARNING, width=1.4), brush=None)
        self._ring = Dots(size=16, pen=pg.mkPen("#ffffff", width=2), brush=None)
        self._marker = Dots(size=22, symbol="star", pen=pg.mkPen("#15131f", width=1.5),
                                          brush=pg.mkBrush("#ffffff"))
        for extra, z in ((self._selection, 20), (self._ring, 30), (self._marker, 40)):
            extra.setZValue(z)
            self.view.addItem(extra, ignoreBounds=True)
        self.placeholder = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        self.view.addItem(self.placeholder, ignoreBounds=True)
        self.tip = QFrame(self.plot, objectName="mapTip")  # the hover card: the image, enlarged, and its label
        self.tip.setStyleSheet(f"QFrame#mapTip {{ background: {theme.RAISED}; border: 1px solid {theme.BORDER}; "
                               f"border-radius: 8px; }} QLabel {{ background: transparent; }}")
        self.tip.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.tip_image, self.tip_caption = plain(QLabel()), plain(QLabel(alignment=Qt.AlignCenter))
        tip_layout = QVBoxLayout(self.tip)
        tip_layout.setContentsMargins(6, 6, 6, 4)
        tip_layout.setSpacing(3)
        tip_layout.addWidget(self.tip_image)
        tip_layout.addWidget(self.tip_caption)
        self.tip.hide()
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.plot.viewport().installEventFilter(self)  # the pointer leaving the plot ends the hover
        self.view.sigRangeChanged.connect(self._on_view_sig_range_changed)  # thumbnails keep their aspect
        self.view.sigResized.connect(self._on_view_sig_range_changed)
        self.view.clicked_at.connect(self._on_view_clicked_at)
        self.view.double_clicked_at.connect(self._on_view_double_clicked_at)  # a point's image, large
        self.view.region_selected.connect(self._on_view_region_selected)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)

    # --- data ------------------------------------------------------------------------------
    def set_message(self, text: str) -> None:
        """A line in the middle of an empty map (no run yet, loading, an error)."""
        self.placeholder.setText(text)
        self.placeholder.setVisible(bool(text))
        if text and not len(self.xy):
            self.view.setRange(QRectF(-1, -1, 2, 2), padding=0)
            self.placeholder.setPos(0, 0)

    def clear(self) -> None:
        for scatter in self._scatters:
            self.view.removeItem(scatter)
        self._scatters = []
        while self.legend_layout.count():
            widget = self.legend_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self._clear_thumbs()
        self.xy = np.zeros((0, 2), np.float32)
        self.images = self.labels = None
        self.selected = np.zeros(0, np.int64)
        for extra in (self._selection, self._ring, self._marker):
            extra.setData([], [])
        self._hover(-1, None)

    def set_points(self, xy: np.ndarray, labels: np.ndarray | None, names: list[str], images: np.ndarray) -> None:
        """One scatter per label (so the legend names each colour), all drawn as fast dots."""
        self.clear()
        self.labels, self.names, self.images = labels, names, images
        groups = [np.arange(len(xy))] if labels is None else [np.flatnonzero(labels == k)
                                                               for k in range(int(labels.max()) + 1)]
        size = 6 if len(xy) <= 3000 else 4.5
        for k, idx in enumerate(groups):
            if len(idx) == 0:
                continue
            color = QColor(label_color(k) if labels is not None else theme.ACCENT)
            color.setAlpha(200)
            scatter = Dots(size=size, pen=None, brush=pg.mkBrush(color), hoverable=False)
            scatter.setProperty("indices", idx)
            scatter.setZValue(10)
            # drawn once into a pixmap: moving the star or the hover ring then repaints cheaply
            scatter.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
            self.view.addItem(scatter)
            self._scatters.append(scatter)
            if labels is not None:
                self.legend_layout.addWidget(self._legend_entry(k, names[k] if k < len(names) else str(k), scatter))
        self.legend_layout.addStretch(1)
        self.legend.setVisible(labels is not None)
        self.set_positions(xy, fit=True)

    def _legend_entry(self, k: int, name: str, scatter: pg.ScatterPlotItem) -> QToolButton:
        entry = QToolButton(checkable=True, checked=True)
        entry.setToolTip(tip(f"Show or hide {name}"))
        entry.setStyleSheet(f"QToolButton {{ border: none; background: transparent; text-align: left; "
                            f"padding: 2px 6px; color: {theme.TEXT}; }} QToolButton:!checked {{ color: #5f6472; }} "
                            f"QToolButton:hover {{ background: {theme.RAISED}; }}")
        entry.setProperty("label", k)
        entry.toggled.connect(scatter.setVisible)
        # the dot in the label's colour, the name in the text colour
        entry.setText(button_text(name))  # a folder name, "&" and all
        entry.setIcon(_dot_icon(label_color(k)))
        entry.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        return entry

    def set_positions(self, xy: np.ndarray, fit: bool = True) -> None:
        """Move every point (another projection), keeping colours, selection and thumbnails."""
        self.xy = np.asarray(xy, np.float32)
        for scatter in self._scatters:
            idx = scatter.property("indices")
            scatter.setData(self.xy[idx, 0], self.xy[idx, 1])
        if len(self.selected):
            self._selection.setData(self.xy[self.selected, 0], self.xy[self.selected, 1])
        if fit and len(self.xy):
            lo, hi = np.percentile(self.xy, 0.5, axis=0), np.percentile(self.xy, 99.5, axis=0)
            self.view.setRange(QRectF(QPointF(*lo), QPointF(*hi)), padding=0.08)
        span = float(np.ptp(self.xy, axis=0).max()) if len(self.xy) else 1.0
        self._thumb_size = span / THUMB_SPAN
        self._hover(-1, None)  # the points moved from under the pointer
        if self.thumbnails:
            self._show_thumbs()
        self.placeholder.setVisible(False)

    def set_marker(self, pos: tuple[float, float] | None) -> None:
        """The star at the current latent's place on the map (None hides it)."""
        self._marker.setData(*(([pos[0]], [pos[1]]) if pos is not None else ([], [])))

    def set_selection(self, indices: np.ndarray) -> None:
        self.selected = np.asarray(indices, np.int64)
        self._selection.setData(self.xy[self.selected, 0], self.xy[self.selected, 1])

    def set_select_mode(self, on: bool) -> None:
        self.view.select_mode = on
        self.plot.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)

    # --- thumbnails ---------------------------------------------------------------------------
    def set_thumbnails(self, on: bool) -> None:
        self.thumbnails = on
        self._show_thumbs() if on else self._clear_thumbs()
        for scatter in self._scatters:
            scatter.setOpacity(0.35 if on else 1.0)

    def _clear_thumbs(self) -> None:
        for _, image in self._thumbs:
            self.view.removeItem(image)
        self._thumbs = []

    def _show_thumbs(self) -> None:
        if self.images is None or not len(self.xy):
            return
        if not self._thumbs:  # a fixed, seeded sample, so toggling shows the same images
            rng = np.random.default_rng(0)
            pick = np.sort(rng.choice(len(self.xy), min(THUMBNAILS, len(self.xy)), replace=False))
            for i in pick:
                a = self.images[i][::-1]  # rows run upward in the view
                image = pg.ImageItem(a[:, :, 0] if a.shape[2] == 1 else a, axisOrder="row-major", levels=(0, 255))
                image.setZValue(15)
                self.view.addItem(image, ignoreBounds=True)
                self._thumbs.append((int(i), image))
        self._place_thumbs()

    def _place_thumbs(self) -> None:
        """Each thumbnail ``_thumb_size`` wide (map units) and as tall as its image's aspect
        needs on screen, whatever the x and y scales (the axes are not locked together)."""
        if not self._thumbs:
            return
        px_w, px_h = self.view.viewPixelSize()
        w = self._thumb_size
        height, width = self.images.shape[1:3]
        h = w / px_w * px_h * height / width if px_w > 0 else w
        for i, image in self._thumbs:
            image.setRect(QRectF(self.xy[i, 0] - w / 2, self.xy[i, 1] - h / 2, w, h))

    @Slot()
    def _on_view_sig_range_changed(self, *args) -> None:
        self._place_thumbs()

    # --- finding points ------------------------------------------------------------------------
    def nearest(self, x: float, y: float, radius_px: float = HOVER_PX) -> int:
        """The point nearest to (x, y) within ``radius_px`` screen pixels, or -1."""
        if not len(self.xy):
            return -1
        px_w, px_h = self.view.viewPixelSize()
        d2 = ((self.xy[:, 0] - x) / px_w) ** 2 + ((self.xy[:, 1] - y) / px_h) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= radius_px ** 2 else -1

    def widget_pos(self, x: float, y: float) -> QPoint:
        """Where data point (x, y) is in the plot's viewport (for tests and tools)."""
        return self.plot.mapFromScene(self.view.mapViewToScene(QPointF(x, y)))

    # --- events ----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Leave:
            self._hover(-1, None)
        return False

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().hideEvent(event)
        self._hover(-1, None)

    @Slot(object)
    def _on_scene_mouse_moved(self, scene_pos) -> None:
        if not len(self.xy) or not self.view.sceneBoundingRect().contains(scene_pos):
            self._hover(-1, None)
            return
        p = self.view.mapSceneToView(scene_pos)
        at = self.plot.mapFromScene(scene_pos)
        for claim in self.hover_claims:
            card = claim(p.x(), p.y())
            if card is not None:
                self._hover(-1, at, card)
                return
        self._hover(self.nearest(p.x(), p.y()), at)

    def _hover(self, i: int, at: QPoint | None, card: tuple | None = None) -> None:
        """Point ``i`` under the pointer at ``at`` (viewport pixels), or a claim's ``card``
        (key, image, caption); neither (-1, None): the card goes."""
        if i < 0 and card is None:
            if self.hovered >= 0 or self.tip.isVisible():
                self.hovered, self._tip_key = -1, None
                self._ring.setData([], [])
                self.tip.hide()
            return
        key = ("claim", card[0]) if card is not None else i
        if key != self._tip_key:
            self.hovered, self._tip_key = i, key
            if card is None:
                self._ring.setData([self.xy[i, 0]], [self.xy[i, 1]])
                self._fill_tip(self.images[i], self.caption(i))
            else:
                self._ring.setData([], [])
                self._fill_tip(*card[1:])
        if at is not None:
            x = at.x() + 18 if at.x() + 18 + self.tip.width() < self.plot.width() else at.x() - 18 - self.tip.width()
            y = min(max(4, at.y() - self.tip.height() // 2), self.plot.height() - self.tip.height() - 4)
            self.tip.move(x, y)
            self.tip.show()
            self.tip.raise_()

    def _fill_tip(self, image: np.ndarray, caption: str) -> None:
        scale = max(1, 112 // image.shape[0])
        pixmap = QPixmap.fromImage(to_qimage(image)).scaled(image.shape[1] * scale, image.shape[0] * scale,
                                                           Qt.KeepAspectRatio, Qt.FastTransformation)
        self.tip_image.setPixmap(pixmap)
        self.tip_caption.setText(caption)
        self.tip.adjustSize()

    @Slot(float, float)
    def _on_view_clicked_at(self, x: float, y: float) -> None:
        if any(claim(x, y) for claim in self.claims):  # e.g. your picture's mark (latent_marks.py)
            return
        i = self.nearest(x, y)
        if i >= 0:
            self.point_clicked.emit(i)
        else:
            self.space_clicked.emit(x, y)

    def caption(self, i: int) -> str:
        """Point ``i``'s class name (when labelled) and number."""
        if self.labels is None:
            return f"#{i}"
        k = int(self.labels[i])
        return f"{self.names[k] if k < len(self.names) else k}  ·  #{i}"

    @Slot(float, float)
    def _on_view_double_clicked_at(self, x: float, y: float) -> None:
        i = self.nearest(x, y)
        if i >= 0 and self.images is not None:
            show_large(self, self.images[i], title=self.caption(i))

    @Slot(QRectF)
    def _on_view_region_selected(self, rect: QRectF) -> None:
        inside = ((self.xy[:, 0] >= rect.left()) & (self.xy[:, 0] <= rect.right())
                  & (self.xy[:, 1] >= rect.top()) & (self.xy[:, 1] <= rect.bottom()))
        self.set_selection(np.flatnonzero(inside))
        self.selection_made.emit(self.selected)


class MapCard(QFrame):
    """The map of an ``ExplorerState`` (a card: title and what the axes show over the map).
    A click on a point, on empty space or a box drawn go to the state; the state's space,
    projection, latent and box-select events come back. ``said(text, role)`` carries a line
    for the page's status (a click on empty t-SNE space cannot be decoded)."""

    said = Signal(str, str)

    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("card", True)
        self.state = state
        self.map = LatentMap()
        self.map.set_message("Choose a trained model above: its dataset appears here as a map of latent codes.")
        self.title = label("LATENT MAP", "section")
        self.hint = ElidedLabel("", "muted")  # ends in "…" when the card is narrow (was cut off at its start)
        self.hint.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.addLayout(head)
        layout.addWidget(self.map, 1)
        self._marker_timer = QTimer(self, singleShot=True, interval=80)
        self._marker_timer.timeout.connect(self._update_marker)
        self.map.point_clicked.connect(self._on_map_point_clicked)
        self.map.space_clicked.connect(self._on_map_space_clicked)
        self.map.selection_made.connect(self._on_map_selection_made)
        state.events.space.connect(self._on_state_space)
        state.events.projection.connect(self._on_state_projection)
        state.events.latent.connect(self._on_state_latent)
        state.events.box_select.connect(self.map.set_select_mode)

    def _on_state_space(self, space) -> None:
        what = "images of the dataset" if space.encoded else "generated samples"
        self.title.setText(f"LATENT MAP  ·  {len(space.codes):,} {what}")
        self.title.setToolTip("Each dot is one latent code z: the numbers the model's decoder turns into an image"
                              + (" (for a VAE, the encoder's posterior mean)" if space.encoded else
                                 ". This model has no encoder: each dot is a random z and the image made from it"))
        self.map.set_points(self.state.positions, space.labels, space.label_names, space.images)
        self._show_projection()  # set_points placed them: not set_positions again (70 ms for 5k points)

    def _on_state_projection(self, kind: str) -> None:
        self.map.set_positions(self.state.positions)
        self._show_projection()

    def _show_projection(self) -> None:
        text, tip = self.state.map_hint()
        self.hint.setText(text)
        self.hint.setToolTip(tip)
        self._update_marker()

    def _on_state_latent(self, change) -> None:
        if not change.dragging:
            self._update_marker()
        elif not self._marker_timer.isActive():  # a drag moves the star ~12 times a second: each move
            self._marker_timer.start()           # repaints part of a 5k-point map, the image must not wait

    @Slot()
    def _update_marker(self) -> None:
        self.map.set_marker(self.state.marker())

    @Slot(int)
    def _on_map_point_clicked(self, i: int) -> None:
        self.state.select_point(i)

    @Slot(float, float)
    def _on_map_space_clicked(self, x: float, y: float) -> None:
        if self.state.space is None:
            return
        try:
            self.state.decode_at(x, y)
        except ValueError as exc:
            self.said.emit(str(exc), "muted")

    @Slot(object)
    def _on_map_selection_made(self, indices) -> None:
        self.said.emit(f"{len(indices):,} points selected", "muted")
        self.state.set_selection(indices)
        self.state.set_box_select(False)  # one box per press of "Box select"
