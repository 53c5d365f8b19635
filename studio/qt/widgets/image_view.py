"""Pictures: a uint8 array shown crisp (whole-pixel zoom), and a strip of the last few previews.
A click on a picture (or Space / Enter when it has focus) opens it large (``enlarge.py``); on a
grid, the tile under the pointer."""

from __future__ import annotations

from collections import deque

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from ...imaging import GRID_FILL, GridLayout
from .. import theme
from .cards import make_opaque
from .plain_text import plain
from .save_dialog import ask_save_path


def to_qimage(array: np.ndarray) -> QImage:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) -> a QImage that owns its pixels."""
    a = np.ascontiguousarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = np.ascontiguousarray(a[:, :, 0])
    h, w = a.shape[:2]
    fmt = QImage.Format_Grayscale8 if a.ndim == 2 else QImage.Format_RGB888
    return QImage(a.data, w, h, a.strides[0], fmt).copy()


def show_large(owner: QWidget, picture: np.ndarray | QImage, index: int | None = None, title: str = "",
               fill: int | None = GRID_FILL):
    """Open ``picture`` large in ``owner``'s ``EnlargeDialog`` (made on first use, kept as
    ``owner.enlarged``), on tile ``index`` of a grid; returns the dialog."""
    from .enlarge import EnlargeDialog

    if getattr(owner, "enlarged", None) is None:
        owner.enlarged = EnlargeDialog(ImageView(""), owner)
    owner.enlarged.show_picture(picture, index, title, fill)
    return owner.enlarged


class ImageView(QWidget):
    """Fits an image into the widget; from 2× up, whole-number zoom without smoothing keeps
    pixels crisp; below that the image is scaled smoothly to fill the room.

    A click (press and release without a drag) emits ``clicked`` and, while ``enlargeable``,
    opens the picture large — on a grid (``grid_fill`` between the tiles, ``imaging.tile``'s
    layout; None: never a grid) the tile under the pointer. Space / Enter with the focus (Tab)
    opens the whole picture. A subclass that uses the mouse (a mask brush) turns it off."""

    clicked = Signal(QPointF)  # widget coordinates of a click on the view

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._pressed_at: QPointF | None = None
        self._pointing = False  # the pointing-hand cursor is on
        self.placeholder = placeholder
        self.enlargeable = True
        self.grid_fill: int | None = GRID_FILL
        self.enlarge_title = ""  # the large view's window title and file name
        self.enlarged = None  # the EnlargeDialog, once opened
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAttribute(Qt.WA_OpaquePaintEvent)  # paints every pixel: parents need not repaint
        self.setFocusPolicy(Qt.TabFocus)  # a click does not take the focus (page shortcuts keep Space)

    def set_image(self, image: np.ndarray | QImage | None) -> None:
        self._image = to_qimage(image) if isinstance(image, np.ndarray) else image
        pointing = self.enlargeable and self._image is not None
        if pointing != self._pointing and self.enlargeable:  # a painting subclass keeps its own cursor
            self._pointing = pointing
            self.setCursor(Qt.PointingHandCursor if pointing else Qt.ArrowCursor)
            self.setToolTip("Click to see it large (Esc closes it)" if pointing else "")
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRectF | None:
        """Where the picture is drawn in the widget (whole-pixel zoom from 2× up); None: no picture."""
        image = self._image
        if image is None or image.isNull():
            return None
        iw, ih = image.width(), image.height()
        scale = min((self.width() - 16) / iw, (self.height() - 16) / ih)
        scale = float(int(scale)) if scale >= 2 else scale
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def tile_at(self, pos: QPointF, layout: GridLayout | None) -> int | None:
        """The grid cell under widget point ``pos`` (None: not a grid, or off the picture)."""
        rect = self.image_rect()
        if rect is None or layout is None or not rect.contains(pos):
            return None
        scale = rect.width() / self._image.width()
        return layout.index_at((pos.x() - rect.left()) / scale, (pos.y() - rect.top()) / scale)

    def enlarge(self, pos: QPointF | None = None):
        """Open the picture large (on the tile under ``pos`` for a grid); returns the dialog."""
        from ...imaging import find_grid
        from .enlarge import qimage_array

        if self._image is None or self._image.isNull():
            return None
        picture = qimage_array(self._image)  # a copy of the pixels on screen (the caller may reuse its array)
        index = None
        if pos is not None and self.grid_fill is not None:
            index = self.tile_at(pos, find_grid(picture, fill=self.grid_fill))
        return show_large(self, picture, index, self.enlarge_title, self.grid_fill)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self._pressed_at = event.position() if event.button() == Qt.LeftButton else None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        start, self._pressed_at = self._pressed_at, None
        if start is not None and event.button() == Qt.LeftButton \
                and (event.position() - start).manhattanLength() <= QApplication.startDragDistance():
            self.clicked.emit(event.position())
            if self.enlargeable:
                self.enlarge(event.position())
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self.enlargeable and event.key() in (Qt.Key_Space, Qt.Key_Return, Qt.Key_Enter) and self._image is not None:
            self.enlarge()
            return
        super().keyPressEvent(event)

    def event(self, event) -> bool:
        # with the focus, Space / Enter open the picture rather than a page's shortcut (Space: Play)
        if event.type() == QEvent.ShortcutOverride and self.enlargeable and self._image is not None \
                and event.key() in (Qt.Key_Space, Qt.Key_Return, Qt.Key_Enter) and not event.modifiers():
            event.accept()
            return True
        return super().event(event)

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
        target = self.image_rect()  # from 2× up whole pixels: sharp, even rows
        crisp = target.width() >= 2 * self._image.width()
        if self.hasFocus():
            p.setPen(QPen(QColor(theme.ACCENT), 2))
            p.drawPath(path)
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
        self.caption = plain(QLabel(""))
        self.caption.setProperty("role", "muted")
        self.note = plain(QLabel("", wordWrap=True, alignment=Qt.AlignCenter))
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
        self.caption.setAlignment(Qt.AlignCenter)  # a narrow card wraps it to two lines: never cut
        self.caption.setWordWrap(True)
        row.addWidget(self.caption, 1)
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
