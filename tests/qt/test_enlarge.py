"""Click a picture to see it large: every ImageView (and the diffusion filmstrip) opens the
shared EnlargeDialog, on the clicked tile of a grid, crisp and at least 4× its pixels."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.imaging import find_grid, tile
from studio.qt.widgets.enlarge import qimage_array
from studio.qt.widgets.image_view import ImageView, PreviewStrip


def frames(n=16, h=28, w=28, c=3, seed=0):
    a = np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)
    a[a == 96] = 97  # no tile of pure gap colour
    return a


def tile_centre(view: ImageView, grid: np.ndarray, i: int, fill: int = 96) -> QPoint:
    layout, rect = find_grid(grid, fill=fill), view.image_rect()
    y, x = layout.cell(i)
    scale = rect.width() / grid.shape[1]
    return QPoint(int(rect.left() + (x + layout.tile_w / 2) * scale), int(rect.top() + (y + layout.tile_h / 2) * scale))


def shown_pixels(dialog, picture: np.ndarray) -> np.ndarray:
    """What the dialog's view really painted, sampled at the centre of every picture pixel."""
    shot = qimage_array(dialog.view.grab().toImage())
    rect, (h, w) = dialog.view.image_rect(), picture.shape[:2]
    ratio = shot.shape[1] / dialog.view.width()  # device pixels (1 offscreen)
    ys = ((rect.top() + (np.arange(h) + 0.5) * rect.height() / h) * ratio).astype(int)
    xs = ((rect.left() + (np.arange(w) + 0.5) * rect.width() / w) * ratio).astype(int)
    return shot[ys][:, xs]


def shown(qtbot, widget, width: int, height: int):
    """``widget`` on screen at ``width`` × ``height``."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def view(qtbot):
    return shown(qtbot, ImageView(""), 420, 420)


def test_a_click_on_a_tile_shows_that_tile_large_crisp_and_saves_it(qtbot, view, tmp_path):
    images = frames()
    grid = tile(images)
    view.set_image(grid)
    qtbot.mouseClick(view, Qt.LeftButton, pos=tile_centre(view, grid, 6))
    dialog = view.enlarged
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.index == 6 and np.array_equal(dialog.picture(), images[6])
    assert dialog.zoom() >= 4 and dialog.zoom() == int(dialog.zoom())  # whole pixels: crisp
    assert np.array_equal(shown_pixels(dialog, images[6]), images[6])  # those pixels, on screen
    assert "picture 7 of 16" in dialog.caption.text() and "28 × 28 px" in dialog.caption.text()
    dialog.save(str(tmp_path / "tile.png"))
    from PIL import Image

    saved = np.asarray(Image.open(tmp_path / "tile.png"))
    assert saved.shape[0] >= 256 and np.array_equal(saved[::saved.shape[0] // 28], images[6].repeat(
        saved.shape[1] // 28, axis=1))
    # → steps to the next tile, Whole grid shows all of them, a click there picks one, a click on it closes
    dialog.step(1)
    assert np.array_equal(dialog.picture(), images[7])
    dialog.whole.click()
    assert dialog.index is None and np.array_equal(dialog.picture(), grid)
    qtbot.mouseClick(dialog.view, Qt.LeftButton, pos=tile_centre(dialog.view, grid, 15))
    assert dialog.index == 15 and np.array_equal(shown_pixels(dialog, images[15]), images[15])
    qtbot.mouseClick(dialog.view, Qt.LeftButton, pos=dialog.view.rect().center())
    assert not dialog.isVisible()


def test_an_empty_cell_or_a_single_picture_opens_the_whole_picture_and_esc_closes(qtbot, view):
    images = frames(n=7)  # 3 × 3 grid: the last two cells are empty
    grid = tile(images)
    view.set_image(grid)
    qtbot.mouseClick(view, Qt.LeftButton, pos=tile_centre(view, grid, 8))
    dialog = view.enlarged
    assert dialog.index is None and dialog.tiles == list(range(7)) and dialog.whole.isChecked()
    dialog.step(-1)
    assert dialog.index == 6
    qtbot.keyClick(dialog, Qt.Key_Escape)
    assert not dialog.isVisible()
    one = frames(n=1, h=32, w=20)[0]
    view.set_image(one)
    qtbot.mouseClick(view, Qt.LeftButton, pos=view.rect().center())
    assert np.array_equal(view.enlarged.picture(), one) and not view.enlarged.whole.isVisible()
    assert view.enlarged.zoom() >= 4
    view.enlarged.close()


def test_a_drag_a_right_click_or_no_picture_opens_nothing(qtbot, view):
    qtbot.mouseClick(view, Qt.LeftButton, pos=view.rect().center())
    assert view.enlarged is None  # placeholder only
    view.set_image(tile(frames()))
    qtbot.mousePress(view, Qt.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(160, 160))
    qtbot.mouseRelease(view, Qt.LeftButton, pos=QPoint(160, 160))
    qtbot.mouseClick(view, Qt.RightButton, pos=QPoint(100, 100))
    assert view.enlarged is None
    view.enlargeable = False
    clicks = []
    view.clicked.connect(clicks.append)
    qtbot.mouseClick(view, Qt.LeftButton, pos=QPoint(100, 100))
    assert view.enlarged is None and clicks == [QPointF(100, 100)]


def test_space_on_a_focused_picture_opens_it_before_the_pages_space_shortcut(qtbot):
    from PySide6.QtGui import QKeySequence, QShortcut

    page = QWidget()
    qtbot.addWidget(page)
    view = ImageView("")
    QVBoxLayout(page).addWidget(view)
    played = []
    QShortcut(QKeySequence("Space"), page, context=Qt.WidgetWithChildrenShortcut).activated.connect(
        lambda: played.append(1))
    page.resize(300, 300)
    page.show()
    qtbot.waitExposed(page)
    view.set_image(frames(n=1)[0])
    assert view.focusPolicy() == Qt.TabFocus  # a click leaves the focus where it was
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_Space)
    assert view.enlarged is not None and view.enlarged.isVisible() and not played
    view.enlarged.close()


def test_the_train_pages_samples_card_enlarges_a_tile(qtbot):
    strip = shown(qtbot, PreviewStrip(""), 500, 460)
    images = frames(n=12, h=28, w=28, c=1)
    grid = tile(images, ncol=4)
    strip.add(200, grid)
    qtbot.mouseClick(strip.view, Qt.LeftButton, pos=tile_centre(strip.view, grid, 9))
    dialog = strip.view.enlarged
    assert np.array_equal(dialog.picture(), images[9]) and dialog.zoom() >= 4
    assert np.array_equal(shown_pixels(dialog, images[9])[:, :, :1], images[9])
    dialog.close()


def test_the_mask_canvas_paints_without_enlarging_and_enlarges_when_not_painting(qtbot):
    from studio.editing.session import EditSession
    from studio.qt.widgets.edit_canvas import MaskCanvas

    canvas = shown(qtbot, MaskCanvas(EditSession()), 300, 300)
    canvas.set_image(frames(n=1)[0])
    canvas.set_painting(True)
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=canvas.rect().center())
    assert canvas.enlarged is None
    canvas.set_painting(False)
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=canvas.rect().center())
    assert canvas.enlarged is not None and canvas.enlarged.isVisible()
    canvas.enlarged.close()


def test_a_double_click_on_the_filmstrip_enlarges_that_step(qtbot):
    from studio.qt.widgets.diffusion_views import FilmStrip

    images = frames(n=5, h=16, w=16)
    film = shown(qtbot, FilmStrip(), 500, 100)
    film.reset(lambda i: images[i], lambda i: f"t={i + 1}")
    film.set_count(5)
    x = film.PAD + 3 * (film.CELL + film.PAD) + film.CELL // 2
    qtbot.mouseDClick(film.viewport(), Qt.LeftButton, pos=QPoint(x, 30))
    assert np.array_equal(film.enlarged.picture(), images[3]) and film.enlarged.zoom() >= 4
    film.enlarged.close()


def test_a_click_on_a_frame_of_the_latent_strip_enlarges_that_frame(qtbot):
    from studio.qt.widgets.latent_frames import FrameStrip

    images = frames(n=6, h=28, w=28, c=1, seed=3)
    images[images == 31] = 30  # no frame pixel of the strip's gap colour
    strip = shown(qtbot, FrameStrip("walk", ""), 900, 200)
    strip.set_frames(list(images))
    qtbot.wait(20)
    view = strip.strip_view
    grid = qimage_array(view.image())
    layout = find_grid(grid, fill=31)
    qtbot.mouseClick(view, Qt.LeftButton, pos=tile_centre(view, grid, 1, fill=31))
    assert np.array_equal(view.enlarged.picture(), layout.crop(grid, 1)) and view.enlarged.zoom() >= 4
    view.enlarged.close()


def test_a_double_click_on_a_latent_map_point_enlarges_its_image_and_a_click_still_picks_it(qtbot):
    from studio.qt.widgets.latent_map import LatentMap

    images = frames(n=3, h=28, w=28, c=1, seed=5)
    latent_map = shown(qtbot, LatentMap(), 500, 400)
    latent_map.set_points(np.array([[0, 0], [1, 1], [2, 0]], np.float32), np.array([0, 1, 2]), ["Shirt", "Bag", "Boot"],
                          images)
    qtbot.wait(20)
    picked = []
    latent_map.point_clicked.connect(picked.append)
    pos = latent_map.widget_pos(1, 1)
    qtbot.mouseClick(latent_map.plot.viewport(), Qt.LeftButton, pos=pos)
    assert picked == [1] and getattr(latent_map, "enlarged", None) is None
    qtbot.mouseDClick(latent_map.plot.viewport(), Qt.LeftButton, pos=pos)
    qtbot.mouseRelease(latent_map.plot.viewport(), Qt.LeftButton, pos=pos)  # pyqtgraph: the click on release
    dialog = latent_map.enlarged
    assert dialog.isVisible() and np.array_equal(dialog.picture(), images[1]) and dialog.zoom() >= 4
    assert dialog.windowTitle() == "Bag  ·  #1"
    dialog.close()
