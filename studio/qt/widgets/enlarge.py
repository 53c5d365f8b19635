"""A picture seen large: the window every ``ImageView`` opens on a click (or Space / Enter).

A grid of pictures (``imaging.tile``'s layout, read back from its pixels by ``imaging.find_grid``)
opens on the tile that was clicked; "Whole grid" shows all of them, and a click on a tile there
zooms into it. Small pictures are drawn at whole-pixel zoom (``ImageView``'s rule), so a 28 px
image fills the screen crisp, not blurred. Esc, Close or a click on the single picture closes;
← → step through the tiles; "Save image…" writes what is on screen as a PNG enlarged by whole
pixels to at least ``export.EXPORT_PX``."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Slot
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QVBoxLayout

from ...imaging import GRID_FILL, GridLayout, find_grid
from .. import theme
from .plain_text import plain
from .save_dialog import ask_save_path

SCREEN_SHARE = 0.85  # the window takes this much of the screen's free width and height


def qimage_array(image: QImage) -> np.ndarray:
    """A QImage → uint8 (H, W, 1) gray or (H, W, 3) RGB (a copy; alpha dropped)."""
    gray = image.format() in (QImage.Format_Grayscale8, QImage.Format_Indexed8) and image.isGrayscale()
    image = image.convertToFormat(QImage.Format_Grayscale8 if gray else QImage.Format_RGB888)
    h, w, stride, c = image.height(), image.width(), image.bytesPerLine(), 1 if gray else 3
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, :w * c].reshape(h, w, c).copy()


class EnlargeDialog(QDialog):
    """Shows one picture, or one tile of a grid, as large as the screen allows."""

    def __init__(self, view, parent=None):
        """``view``: the ``ImageView`` to draw in (passed in: image_view.py opens this dialog)."""
        super().__init__(parent)
        self.setModal(True)
        self.grid: np.ndarray | None = None  # the whole picture as given
        self.layout_: GridLayout | None = None
        self.tiles: list[int] = []  # the cells that hold a picture (a last row may be part empty)
        self.index: int | None = None  # the tile on screen; None: the whole picture
        self.title = ""
        self.view = view
        self.view.enlargeable = False
        self.view.setFocusPolicy(Qt.NoFocus)  # the keys belong to the dialog (← → Space Esc)
        self.view.setMinimumSize(200, 200)
        self.view.clicked.connect(self._on_view_clicked)
        self.caption = plain(QLabel(""))  # names what is shown: a run's or a picture's name
        self.caption.setProperty("role", "muted")
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # never widens the window
        self.back, self.forward = QToolButton(text="◀"), QToolButton(text="▶")
        self.back.setToolTip("Previous picture (←)")
        self.forward.setToolTip("Next picture (→)")
        self.whole = QPushButton("Whole grid", checkable=True)
        self.whole.setToolTip("Show every picture of the grid; click one to see it alone (Space)")
        self.save_button = QPushButton("Save image…")
        self.save_button.setToolTip("Save the picture on screen as a PNG, enlarged by whole pixels")
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Back to the page (Esc, or click the picture)")
        self.back.clicked.connect(lambda: self.step(-1))
        self.forward.clicked.connect(lambda: self.step(1))
        self.whole.toggled.connect(self._on_whole_toggled)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.close_button.clicked.connect(self.accept)
        for key, slot in (("Left", lambda: self.step(-1)), ("Right", lambda: self.step(1)),
                          ("Space", self.whole.toggle)):
            QShortcut(QKeySequence(key), self).activated.connect(slot)
        row = QHBoxLayout()
        row.addWidget(self.back)
        row.addWidget(self.forward)
        row.addWidget(self.caption, 1)
        row.addWidget(self.whole)
        row.addWidget(self.save_button)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 10)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        self.setStyleSheet(f"QDialog {{ background: {theme.SURFACE}; }}")

    def show_picture(self, picture: np.ndarray | QImage, index: int | None = None, title: str = "",
                     fill: int | None = GRID_FILL) -> None:
        """Open on ``picture``; if it is a grid (``fill`` between its tiles; None: never a grid),
        on tile ``index`` (None, or an empty cell: the whole grid)."""
        array = qimage_array(picture) if isinstance(picture, QImage) else np.asarray(picture)
        self.grid, self.title = array, title
        self.layout_ = find_grid(array, fill=fill) if fill is not None else None
        self.tiles = [] if self.layout_ is None else [
            i for i in range(self.layout_.rows * self.layout_.cols) if not np.all(self.layout_.crop(array, i) == fill)]
        self.whole.setVisible(len(self.tiles) > 1)
        self.back.setVisible(len(self.tiles) > 1)
        self.forward.setVisible(len(self.tiles) > 1)
        self._show(index if index in self.tiles else None)
        self.setWindowTitle(title or "Picture")
        screen = (self.parentWidget().screen() if self.parentWidget() else None) or QGuiApplication.primaryScreen()
        free = screen.availableGeometry()
        self.resize(int(free.width() * SCREEN_SHARE), int(free.height() * SCREEN_SHARE))
        self.move(free.center() - self.rect().center())
        self.open()
        self.raise_()
        self.activateWindow()

    def picture(self) -> np.ndarray:
        """The pixels on screen: the tile, or the whole picture."""
        return self.grid if self.index is None else self.layout_.crop(self.grid, self.index)

    def zoom(self) -> float:
        """Screen pixels per picture pixel as drawn now."""
        rect = self.view.image_rect()
        return 0.0 if rect is None else rect.width() / self.picture().shape[1]

    def step(self, by: int) -> None:
        """Show the tile ``by`` places on (from the whole grid: the first or the last)."""
        if len(self.tiles) < 2:
            return
        at = self.tiles.index(self.index) + by if self.index is not None else (0 if by > 0 else -1)
        self._show(self.tiles[at % len(self.tiles)])

    def _show(self, index: int | None) -> None:
        self.index = index
        self.whole.blockSignals(True)
        self.whole.setChecked(index is None and len(self.tiles) > 1)
        self.whole.blockSignals(False)
        picture = self.picture()
        self.view.set_image(picture)
        self._caption()

    def _caption(self) -> None:
        picture, index = self.picture(), self.index
        if index is None:
            what = f"all {len(self.tiles)} pictures: click one" if len(self.tiles) > 1 else "the picture"
        else:
            what = f"picture {self.tiles.index(index) + 1} of {len(self.tiles)}"
        zoom = self.zoom()
        shown = f"  ·  shown {zoom:.3g}×" if zoom else ""
        self.caption.setText(f"{what}  ·  {picture.shape[1]} × {picture.shape[0]} px{shown}")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.grid is not None:
            self._caption()

    @Slot(QPointF)
    def _on_view_clicked(self, pos: QPointF) -> None:
        if self.index is None and len(self.tiles) > 1:
            i = self.view.tile_at(pos, self.layout_)
            if i in self.tiles:
                self._show(i)
            return
        self.accept()

    @Slot(bool)
    def _on_whole_toggled(self, whole: bool) -> None:
        self._show(None if whole else (self.tiles[0] if self.tiles else None))

    @Slot()
    def _on_save_clicked(self) -> None:
        stem = (self.title or "picture").replace(" ", "-").replace("/", "-")
        stem += "" if self.index is None else f"-{self.tiles.index(self.index) + 1}"
        path = ask_save_path(self, "Save image", f"{stem}.png", "PNG image (*.png)")
        if path:
            self.save(path if path.lower().endswith(".png") else path + ".png")

    def save(self, path: str) -> None:
        """Write the picture on screen, enlarged by whole pixels to at least ``EXPORT_PX`` tall."""
        from ...export import export_scale
        from ...imaging import save_png

        picture = np.ascontiguousarray(self.picture())
        save_png(picture, path, scale=export_scale(picture))
