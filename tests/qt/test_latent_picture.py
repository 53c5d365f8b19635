"""The Latent explorer's "Your picture" with real widgets: a picture dropped, opened, pasted or
picked is encoded and marked on the map near its class (the bundled demo VAE), the sliders,
attribute directions and interpolation start from it; a GAN's inversion shows its error
falling, is added to the map and stops at Cancel; bad pictures are one line; the page fits
1366×768 with a picture in and during an inversion."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from test_diffusion_fit import clipped
from test_latent_page import close_now, open_page

from studio.editing.picture import load_picture
from studio.editing.session import file_source
from studio.latent.pictures import encode_user_picture, place
from studio.latent.state import TOOLS
from studio.runs import Run, demo_runs_root
from studio.qt.widgets.image_view import to_qimage

DEMO_VAE = str(demo_runs_root() / "vae-fashion-mnist")
GRAY = (1, 28, 28)


@pytest.fixture(autouse=True)
def _directions_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # a demo's directions are saved there


def garment(tmp_path, label: int, name: str, k: int = 0, mode: str = "L") -> str:
    """The k-th fashion-mnist test image of class ``label``, saved 4× as a picture file."""
    test = Run.open(DEMO_VAE).dataset("test")
    i = int(np.flatnonzero(test.labels.numpy() == label)[k])
    image = Image.fromarray(test.images[i, 0].numpy()).resize((112, 112), Image.Resampling.BICUBIC)
    path = tmp_path / name
    image.convert(mode).save(path)
    return str(path)


def drop(page, path: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    page.dropEvent(QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def wait_pictures(qtbot, page, n: int) -> None:
    qtbot.waitUntil(lambda: len(page.state.pictures) == n, timeout=60_000)


def shown(page, image) -> bool:
    return page.state.image is not None and np.array_equal(page.state.image, image)


def fits_1366x768(window, page) -> None:
    assert page.minimumSizeHint().width() + window.sidebar.width() <= 1366 - 20
    assert window.minimumSizeHint().height() <= 768 and window.minimumSizeHint().width() <= 1366
    assert (window.width(), window.height()) == (1366, 768)


def test_a_dropped_picture_is_encoded_marked_near_its_class_and_the_sliders_start_from_it(
        window, qtbot, tmp_path, monkeypatch):
    window.resize(1366, 768)
    page = open_page(window, qtbot, DEMO_VAE)
    state, space, tool = page.state, page.space, page.picture
    trousers = garment(tmp_path, 1, "trousers.png")
    drop(page, trousers)
    wait_pictures(qtbot, page, 1)
    picture = state.pictures[0]
    expected = encode_user_picture(space, load_picture(trousers, GRAY), "trousers.png")
    assert np.allclose(picture.z, expected.z, atol=1e-5) and np.array_equal(picture.recon, expected.recon)
    assert state.tool == "picture" and page.tools.currentIndex() == TOOLS.index("picture")
    assert not tool.steps.isVisibleTo(tool) and not tool.invert_row.isVisibleTo(tool)  # nothing to search for
    # marked on the map: a diamond and its picture, at its PCA place, among trousers
    xy = page.marks.dots.getData()
    assert np.allclose(np.stack(xy, 1), state.picture_positions()) and len(page.marks.rects()) == 1
    assert np.allclose(state.picture_positions()[0], space.pca.transform(picture.z))
    nearest = np.argsort(np.square(page.map.xy - state.picture_positions()[0]).sum(1))[:10]
    assert np.bincount(space.labels[nearest]).argmax() == 1
    # the sliders start from its latent; the decoded image is its reconstruction, beside the picture
    values = np.clip(state.basis.values(picture.z), -3, 3)
    assert np.allclose([s.value() / 100 for s in page.sliders.sliders], values, atol=0.006)
    qtbot.waitUntil(lambda: shown(page, picture.recon), timeout=10_000)
    assert tool.input_view.image() == to_qimage(picture.image) and tool.output_view.image() == to_qimage(picture.recon)
    assert "Trouser" in tool.detail.text() and page.pane.caption.text() == "your picture · trousers.png · encoded"
    fits_1366x768(window, page)

    # opened from a file, pasted, picked from the dataset: each one more picture on the map
    sneaker = garment(tmp_path, 7, "sneaker.png", mode="RGB")
    monkeypatch.setattr("studio.qt.widgets.save_dialog.QFileDialog.getOpenFileName",
                        lambda *args: (sneaker, "Pictures"))
    tool.intake.open_button.click()
    wait_pictures(qtbot, page, 2)
    assert state.picture == 1 and state.pictures[1].name == "sneaker.png"
    rgba = np.zeros((20, 10, 4), np.uint8)
    rgba[:, :5] = 255  # a white left half on a transparent right half: white all over (on white)
    QGuiApplication.clipboard().setImage(QImage(rgba.data, 10, 20, 40, QImage.Format_RGBA8888).copy())
    page.intake.paste()
    wait_pictures(qtbot, page, 3)
    assert state.pictures[2].image.min() == 255
    qtbot.waitUntil(lambda: tool.intake.images is not None, timeout=20_000)
    tool.intake.dataset_index.setValue(3)
    tool.intake.dataset_button.click()
    wait_pictures(qtbot, page, 4)
    assert state.pictures[3].name == "dataset image 3" and tool.shelf.count() == 4
    assert len(page.marks.rects()) == 4
    # the shelf shows a picture again: sliders and image follow; so does a click on its frame on the map
    tool.shelf.itemClicked.emit(tool.shelf.item(1))
    assert state.picture == 1
    frame = page.marks.rects()[0]
    qtbot.mouseClick(page.map.plot.viewport(), Qt.LeftButton, pos=page.map.widget_pos(frame.center().x(),
                                                                                     frame.center().y()))
    assert state.picture == 0 and np.array_equal(state.z, picture.z) and state.point == -1
    fits_1366x768(window, page)
    # another projection (a stand-in for t-SNE, whose real run is slow): the marks follow, each picture
    # at the mean of its nearest codes' places, and the star of the latent on screen with it
    state.add_embedding("tsne", np.random.default_rng(0).normal(size=(len(space.codes), 2)))
    state.set_projection("tsne")
    placed = [place(space, state.positions, "tsne", p.z) for p in state.pictures]
    assert np.allclose(np.stack(page.marks.dots.getData(), 1), placed) and len(page.marks.rects()) == 4
    assert np.allclose(page.map._marker.getData()[0], placed[0][0])


def test_directions_apply_to_your_picture_and_interpolation_runs_between_two(window, qtbot, tmp_path):
    page = open_page(window, qtbot, DEMO_VAE)
    state = page.state
    for n, path in enumerate((garment(tmp_path, 5, "sandal.png"), garment(tmp_path, 9, "boot.png")), 1):
        page.intake.bring(file_source(path))
        wait_pictures(qtbot, page, n)
    sandal, boot = state.pictures
    # "more of what makes a sneaker": the direction Sneaker − Sandal applied to your sandal
    state.show_picture(0)
    tool = page.directions
    tool.groups["A"].setCurrentIndex(tool.groups["A"].findData(7))
    tool.groups["B"].setCurrentIndex(tool.groups["B"].findData(5))
    tool.add_direction("more sneaker")
    vector = tool.store.directions[-1].array()
    tool.move(len(tool.store.directions) - 1, 1.0)
    assert np.allclose(state.z, sandal.z + vector, atol=1e-5) and state.picture == 0
    edited = page.space.decode(state.z)[0]
    qtbot.waitUntil(lambda: shown(page, edited), timeout=10_000)
    assert not np.array_equal(edited, sandal.recon) and page.pane.caption.text().endswith("· moved")
    # interpolation from one of your pictures to the other starts and ends at their reconstructions
    interpolation = page.interpolation
    state.show_picture(0)
    interpolation.set_a.click()
    state.show_picture(1)
    with qtbot.waitSignal(interpolation.decoding.succeeded, timeout=10_000):
        interpolation.set_b.click()
    frames = interpolation.frames.frames
    assert len(frames) == interpolation.count.value()
    for frame, picture in ((frames[0], sandal), (frames[-1], boot)):
        assert np.abs(frame.astype(int) - picture.recon).max() <= 1  # batch vs single decode: rounding


def test_gan_inversion_shows_its_error_falling_is_marked_and_cancel_stops_it(window, qtbot, trained_run):
    window.resize(1366, 768)
    page = open_page(window, qtbot, trained_run("dcgan"))
    tool, state = page.picture, page.state
    assert tool.steps.isVisibleTo(tool) and tool.curve.isVisibleTo(tool)  # iterations and the error curve
    qtbot.waitUntil(lambda: tool.intake.images is not None, timeout=20_000)
    tool.steps.setValue(60)
    tool.intake.dataset_button.click()
    qtbot.waitUntil(lambda: tool.inverting, timeout=20_000)
    assert tool.invert_row.isVisible() and tool.cancel_button.isVisible() and not tool.steps.isEnabled()
    fits_1366x768(window, page)  # during the inversion
    wait_pictures(qtbot, page, 1)
    picture = state.pictures[0]
    assert picture.how == "inverted" and len(picture.errors) == 60 and tool.errors == picture.errors
    assert picture.errors[-1] < picture.errors[0]  # fell, and the curve drew every iteration
    assert len(tool.line.getData()[0]) == 60 and tool.progress.value() == 60 and not tool.invert_row.isVisible()
    assert np.allclose(page.marks.dots.getData()[0], state.picture_positions()[:, 0])
    assert np.array_equal(state.z, picture.z) and page.pane.caption.text().endswith("· inverted")
    fits_1366x768(window, page)

    # a long search: Cancel ends its thread within a second and adds nothing
    tool.steps.setValue(100_000)
    tool.intake.dataset_index.setValue(1)
    tool.intake.dataset_button.click()
    qtbot.waitUntil(lambda: tool.inverting and len(tool.errors) >= 3, timeout=20_000)
    handle = tool.handle
    tool.cancel_button.click()
    assert handle.wait(1.0), "the inversion's thread still runs a second after Cancel"
    assert not tool.inverting and len(state.pictures) == 1 and tool.message.text().startswith("Stopped after")
    qtbot.wait(100)
    assert len(state.pictures) == 1


def test_closing_the_window_while_a_gan_inversion_runs_ends_it(window, qtbot, trained_run):
    page = open_page(window, qtbot, trained_run("wgan-gp"))
    tool = page.picture
    qtbot.waitUntil(lambda: tool.intake.images is not None and not page.measuring.busy, timeout=60_000)
    tool.steps.setValue(100_000)
    tool.intake.dataset_button.click()
    qtbot.waitUntil(lambda: tool.inverting and len(tool.errors) >= 2, timeout=20_000)
    assert close_now(window) < 1.5


def huge_png(path) -> str:
    """9000 × 5000 pixels (45 megapixels, over the 40 the intake decodes), 1 bit each."""
    Image.new("1", (9000, 5000)).save(path)
    return str(path)


def test_bad_pictures_are_one_line_and_odd_ones_come_in(window, qtbot, tmp_path):
    page = open_page(window, qtbot, DEMO_VAE)
    tool = page.picture
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    for path, words in ((str(notes), "notes.png: not a readable image"),
                        (huge_png(tmp_path / "huge.png"), "huge.png is 9000×5000 pixels; at most 40 megapixels")):
        drop(page, path)
        qtbot.waitUntil(lambda: tool.message.property("role") == "error", timeout=20_000)
        assert tool.message.text().startswith(words) and "\n" not in tool.message.text(), tool.message.text()
        assert str(tmp_path) not in tool.message.text() and not page.state.pictures
        tool.say("")
    # a 16-bit greyscale picture and an RGBA one (transparency on white) are decoded, fitted and encoded
    deep = tmp_path / "deep.png"
    Image.fromarray((np.linspace(0, 65535, 56 * 56).reshape(56, 56)).astype(np.uint16)).save(deep)
    rgba = tmp_path / "rgba.png"
    a = np.zeros((40, 40, 4), np.uint8)
    a[10:30, 10:30] = (0, 0, 0, 255)
    Image.fromarray(a, "RGBA").save(rgba)
    for n, path in enumerate((deep, rgba), 1):
        drop(page, str(path))
        wait_pictures(qtbot, page, n)
        picture = page.state.pictures[-1]
        expected = (load_picture(path, GRAY).numpy()[0, 0] + 1) * 127.5
        assert np.abs(picture.image[:, :, 0].astype(float) - expected).max() <= 0.5
    assert page.state.pictures[1].image[0, 0, 0] == 255  # the transparent border came in white
    drop(page, str(notes))  # a bad picture after good ones: said, and they stay
    qtbot.waitUntil(lambda: tool.message.property("role") == "error", timeout=20_000)
    assert len(page.state.pictures) == 2


def test_a_dataset_that_cannot_be_loaded_is_said_and_files_still_come_in(window, qtbot, trained_run, tmp_path,
                                                                          monkeypatch):
    def gone(run_path):
        raise ValueError("the folder was moved")

    monkeypatch.setattr("studio.qt.widgets.latent_picture.dataset_images", gone)
    page = open_page(window, qtbot, trained_run("autoencoder"))
    tool = page.picture
    qtbot.waitUntil(lambda: tool.message.property("role") == "error", timeout=20_000)
    assert tool.message.text().startswith("The model's dataset could not be loaded (the folder was moved)")
    tool.say("")
    tool.intake.dataset_button.click()  # says again why there are no dataset images
    assert tool.message.text().startswith("The model's dataset could not be loaded (the folder was moved)")
    drop(page, garment(tmp_path, 8, "bag.png"))
    wait_pictures(qtbot, page, 1)


def test_two_quick_pastes_are_two_pictures(window, qtbot):
    """Ctrl+V twice before the first picture is in: both come onto the map, in order (the
    second used to replace the first silently)."""
    page = open_page(window, qtbot, DEMO_VAE)
    black, white = np.zeros((20, 20, 4), np.uint8), np.full((20, 20, 4), 255, np.uint8)
    black[..., 3] = 255
    for rgba in (black, white):
        QGuiApplication.clipboard().setImage(QImage(rgba.data, 20, 20, 80, QImage.Format_RGBA8888).copy())
        page.intake.paste()
    wait_pictures(qtbot, page, 2)
    assert [p.image.max() for p in page.state.pictures] == [0, 255]
    qtbot.waitUntil(lambda: not page.intake.busy, timeout=10_000)
    assert not page.intake.waiting


def test_hovering_your_pictures_mark_shows_its_card(window, qtbot, tmp_path):
    """The pointer on your picture's diamond (or its frame) shows the map's hover card with the
    picture and its code, as a dataset point's shows its image (it showed nothing)."""
    from test_latent_page import hover

    page = open_page(window, qtbot, DEMO_VAE)
    drop(page, garment(tmp_path, 1, "trousers.png"))
    wait_pictures(qtbot, page, 1)
    picture, latent_map = page.state.pictures[0], page.map
    hover(qtbot, latent_map, page.state.picture_positions()[0])
    qtbot.waitUntil(latent_map.tip.isVisible, timeout=5_000)
    z = ", ".join(f"{v:.2f}".replace("-", "−") for v in picture.z[:4])
    assert latent_map.tip_caption.text() == (f"trousers.png  ·  your picture (encoded)\n"
                                             f"z = ({z}, …) · {len(picture.z)} numbers")
    shown = latent_map.tip_image.pixmap().toImage()
    assert shown.size().width() == 112 and shown == to_qimage(picture.image).scaled(112, 112).convertToFormat(
        shown.format())
    assert latent_map.hovered == -1  # no dataset point is ringed under the mark
    corner = latent_map.view.viewRange()[0][0], latent_map.view.viewRange()[1][0]
    hover(qtbot, latent_map, (corner[0] + 1e-3, corner[1] + 1e-3))
    qtbot.waitUntil(lambda: not latent_map.tip.isVisible(), timeout=5_000)


def test_a_model_change_stops_the_gan_search_at_once_and_the_pictures_come_into_the_new_model(
        window, qtbot, trained_run):
    """Tester 29: the search went on in the old model (iteration 70 → 160) and then said
    'Stopped after 280 iterations: nothing was added'; VAE → DCGAN emptied Your pictures while
    the hint still said the picture was on the map."""
    page = open_page(window, qtbot, trained_run("dcgan"))
    tool = page.picture
    qtbot.waitUntil(lambda: tool.intake.images is not None, timeout=20_000)
    tool.steps.setValue(100_000)
    tool.intake.dataset_button.click()
    qtbot.waitUntil(lambda: tool.inverting and len(tool.errors) >= 3, timeout=20_000)
    handle = tool.handle
    page.open_run(DEMO_VAE)
    assert not tool.inverting and handle.wait(1.0), "the search still runs after the model change"
    assert "another model is opening" in tool.message.text() and "dataset image 0" in tool.message.text()
    wait_pictures(qtbot, page, 1)  # searched in the GAN, now encoded by the VAE
    assert page.space.encoded and page.state.pictures[0].how == "encoded"
    assert page.state.pictures[0].name == "dataset image 0"
    qtbot.waitUntil(lambda: "is on the map" in tool.message.text(), timeout=10_000)

    # VAE → GAN: the picture is searched for again, and the hint says what is there at each moment
    tool.steps.setValue(20)
    with qtbot.waitSignal(page.space_opened, timeout=60_000):
        page.open_run(trained_run("dcgan"))
    assert page.state.pictures == [] and "searched for again" in tool.message.text()
    wait_pictures(qtbot, page, 1)
    assert page.state.pictures[0].how == "inverted" and len(page.state.pictures[0].errors) == 20
    qtbot.waitUntil(lambda: "dataset image 0 is on the map" in tool.message.text(), timeout=10_000)


def test_each_paste_has_its_own_name(window, qtbot):
    page = open_page(window, qtbot, DEMO_VAE)
    for value in (0, 255):
        rgba = np.full((20, 30, 4), value, np.uint8)
        rgba[..., 3] = 255
        QGuiApplication.clipboard().setImage(QImage(rgba.data, 30, 20, 120, QImage.Format_RGBA8888).copy())
        page.intake.paste()
    wait_pictures(qtbot, page, 2)
    assert [p.name for p in page.state.pictures] == ["pasted #1 (30×20)", "pasted #2 (30×20)"]
    assert [page.picture.shelf.item(i).text() for i in range(2)] == ["pasted #1…", "pasted #2…"]


def test_your_picture_fits_1366x768_with_two_pictures_and_a_gan_search_running(window, qtbot, trained_run):
    """Tester 29 (s52): the error chart squashed under the list, the hint cut at the bottom."""
    window.resize(1366, 768)
    page = open_page(window, qtbot, trained_run("dcgan"))
    tool = page.picture
    qtbot.waitUntil(lambda: tool.intake.images is not None, timeout=20_000)
    tool.steps.setValue(10)
    for i in range(2):
        tool.intake.dataset_index.setValue(i)
        tool.intake.dataset_button.click()
        wait_pictures(qtbot, page, i + 1)
    tool.steps.setValue(100_000)
    tool.intake.dataset_index.setValue(2)
    tool.intake.dataset_button.click()
    qtbot.waitUntil(lambda: tool.inverting and len(tool.errors) >= 3, timeout=20_000)
    qtbot.wait(50)
    fits_1366x768(window, page)
    assert clipped(tool) == []
    assert tool.curve.height() >= 90  # the chart readable under the list (was ~50 px)
    for i in range(2):  # each picture with its name, whole, in the list
        assert tool.shelf.visualItemRect(tool.shelf.item(i)).bottom() <= tool.shelf.viewport().height()
    assert tool.message.heightForWidth(tool.message.width()) <= tool.message.height() + 1  # the whole hint
    assert tool.message.geometry().bottom() <= tool.height()
    tool.cancel()
