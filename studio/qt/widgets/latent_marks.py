"""Your pictures on the latent map: a pink diamond where each one's latent sits (in the map's
projection: PCA exactly, t-SNE placed by its nearest codes, ``studio.latent.pictures.place``)
and the picture itself in a pink frame beside it, a fixed size on screen whatever the zoom; a
click on either shows that picture, and the pointer over either shows the map's hover card
with the picture and its code. A view of the page's ``ExplorerState``: it follows its
pictures, projection and latent."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Slot
from PySide6.QtWidgets import QGraphicsRectItem

from .latent_map import Dots
from .latent_picture import PICTURE_COLOR

THUMB_PX = 52  # a picture's side on screen
OFFSET_PX = 10  # from its diamond, up and to the right
HIT_PX = 9  # a click this near a diamond (screen pixels) shows its picture


class PictureMarks:
    """Draws ``state``'s pictures on a ``LatentMap``'s view (``set_pictures``)."""

    def __init__(self, latent_map, state):
        self.view, self.state = latent_map.view, state
        self.dots = Dots(size=17, symbol="d", pen=pg.mkPen("#ffffff", width=1.6), brush=pg.mkBrush(PICTURE_COLOR))
        self.dots.setZValue(41)  # over the star of the latent on screen: yours is marked pink
        self.view.addItem(self.dots, ignoreBounds=True)
        self.xy = np.zeros((0, 2), np.float32)
        self.items: list[tuple[pg.ImageItem, QGraphicsRectItem]] = []
        self.view.sigRangeChanged.connect(self._on_view_changed)
        self.view.sigResized.connect(self._on_view_changed)
        for event in (state.events.pictures, state.events.projection):
            event.connect(self.update)
        state.events.latent.connect(self._on_state_latent)
        latent_map.claims.append(self.take_click)
        latent_map.hover_claims.append(self.hover_card)
        self._current = -1

    def update(self, *_) -> None:
        """Draw the state's pictures where they sit on the map shown."""
        state = self.state
        self._current = state.picture
        self.set_pictures(state.picture_positions(), [p.image for p in state.pictures], state.picture)

    def _on_state_latent(self, change) -> None:
        if self.state.picture != self._current:  # another picture shown: its frame is drawn thicker
            self.update()

    def set_pictures(self, xy: np.ndarray, images: list[np.ndarray], current: int = -1) -> None:
        """Diamonds at ``xy`` (n, 2) map coordinates, pictures uint8 (H, W, C) beside them;
        ``current``'s frame drawn thicker."""
        for image, frame in self.items:
            self.view.removeItem(image)
            self.view.removeItem(frame)
        self.items = []
        self.xy = np.asarray(xy, np.float32).reshape(-1, 2)
        self.dots.setData(self.xy[:, 0], self.xy[:, 1])
        for i, picture in enumerate(images):
            a = picture[::-1]  # rows run upward in the view
            image = pg.ImageItem(a[:, :, 0] if a.shape[2] == 1 else a, axisOrder="row-major", levels=(0, 255))
            frame = QGraphicsRectItem()
            frame.setPen(pg.mkPen(PICTURE_COLOR, width=3 if i == current else 1.5))
            frame.setBrush(Qt.NoBrush)
            for item, z in ((image, 37), (frame, 38)):
                item.setZValue(z)
                self.view.addItem(item, ignoreBounds=True)
            self.items.append((image, frame))
        self._place()

    def _place(self) -> None:
        if not self.items:
            return
        px_w, px_h = self.view.viewPixelSize()
        w, h = THUMB_PX * px_w, THUMB_PX * px_h
        for (x, y), (image, frame) in zip(self.xy, self.items):
            rect = QRectF(x + OFFSET_PX * px_w, y + OFFSET_PX * px_h, w, h)
            image.setRect(rect)
            frame.setRect(rect)

    def at(self, x: float, y: float) -> int:
        """The picture whose diamond or frame is at map (x, y) (the topmost first), or -1."""
        if not self.items:
            return -1
        px_w, px_h = self.view.viewPixelSize()
        for i in reversed(range(len(self.items))):
            near = ((self.xy[i, 0] - x) / px_w) ** 2 + ((self.xy[i, 1] - y) / px_h) ** 2 <= HIT_PX ** 2
            if near or self.items[i][1].rect().contains(QPointF(x, y)):
                return i
        return -1

    def take_click(self, x: float, y: float) -> bool:
        """A click at map (x, y) on a picture's diamond or frame shows it."""
        i = self.at(x, y)
        if i >= 0:
            self.state.show_picture(i)
        return i >= 0

    def hover_card(self, x: float, y: float) -> tuple | None:
        """The hover card for the picture at map (x, y): (its index, the picture uint8 (H, W, C),
        its name, how it got its latent and that code z), or None."""
        i = self.at(x, y)
        if i < 0 or i >= len(self.state.pictures):
            return None
        picture = self.state.pictures[i]
        return i, picture.image, f"{picture.name}  ·  your picture ({picture.how})\n{code_text(picture.z)}"

    def rects(self) -> list[QRectF]:
        """Where each picture is drawn, in map coordinates (for tests)."""
        return [frame.rect() for _, frame in self.items]

    @Slot()
    def _on_view_changed(self, *args) -> None:
        self._place()


def code_text(z: np.ndarray, shown: int = 4) -> str:
    """A latent code in a line: its first ``shown`` numbers and its length ("z = (0.12, −1.30,
    0.44, 0.05, …) · 32 numbers")."""
    z = np.asarray(z, np.float64).ravel()
    head = ", ".join(f"{v:.2f}".replace("-", "−") for v in z[:shown])
    return f"z = ({head}{', …' if len(z) > shown else ''}) · {len(z)} numbers"
