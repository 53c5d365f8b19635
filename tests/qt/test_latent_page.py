"""The Latent explorer page with real tiny runs: map, click-to-decode, sliders, interpolation
export, attribute directions, a GAN without an encoder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.latent import DirectionStore
from studio.latent.state import TOOLS


@pytest.fixture
def vae_folder(trained_run, tmp_path):
    """A private copy (the page saves directions into the run folder)."""
    target = tmp_path / "vae"
    shutil.copytree(trained_run("vae"), target)
    return str(target)


def open_page(window, qtbot, path):
    window.show_page("latent")
    page = window.latent
    with qtbot.waitSignal(page.space_opened, timeout=60_000):
        page.open_run(path)
    qtbot.waitUntil(lambda: page.frames_shown > 0, timeout=10_000)
    return page


def isolated_point(latent_map) -> int:
    px = np.asarray(latent_map.view.viewPixelSize())
    xy = latent_map.xy / px  # in screen pixels
    (x0, x1), (y0, y1) = (np.asarray(r) / p for r, p in zip(latent_map.view.viewRange(), px))
    inside = np.flatnonzero((xy[:, 0] > x0 + 20) & (xy[:, 0] < x1 - 20) & (xy[:, 1] > y0 + 20) & (xy[:, 1] < y1 - 20))
    candidates = inside[:400]
    d = np.linalg.norm(xy[candidates, None] - xy[None], axis=2)
    d[np.arange(len(candidates)), candidates] = np.inf
    return int(candidates[np.argmax(d.min(1))])


def decoded(page, z, label=None):
    return page.space.decode(z, label)[0]


def shown_equals(page, image):
    return page.state.image is not None and np.array_equal(page.state.image, image)


def test_map_click_decodes_that_point_and_sliders_move_the_image(window, qtbot, vae_folder):
    page = open_page(window, qtbot, vae_folder)
    space = page.space
    assert len(page.map.xy) == len(space.codes) == 5000
    assert page.map.legend.isVisible() and len(page.sliders) == 4  # latent_dim 4: PC1..PC4
    # a real mouse click on a point on screen with no other point within a few pixels
    i = isolated_point(page.map)
    pos = page.map.widget_pos(*page.map.xy[i])
    qtbot.mouseClick(page.map.plot.viewport(), Qt.LeftButton, pos=pos)
    assert page.state.point == i
    expected = decoded(page, space.codes[i])
    qtbot.waitUntil(lambda: shown_equals(page, expected), timeout=10_000)
    # the slider along PC1 moves the latent along that component, and the image changes
    before = page.state.image.copy()
    slider = page.sliders.sliders[0]
    slider.setValue(slider.value() + 250)
    assert page.state.point == -1
    coords = space.pca.transform(page.state.z, k=4) / space.pca.std
    old = space.pca.transform(space.codes[i], k=4) / space.pca.std
    assert coords[0] == pytest.approx(slider.value() / 100, abs=1e-4)  # PC1 is where the slider says
    assert np.allclose(coords[1:], old[1:], atol=1e-4)  # the other components stay
    moved = page.state.z.copy()
    qtbot.waitUntil(lambda: shown_equals(page, decoded(page, moved)), timeout=10_000)
    assert not np.array_equal(page.state.image, before)
    # a click on empty space decodes its inverse-PCA latent
    corner = page.map.xy.min(0) - 0.5
    page.map.space_clicked.emit(float(corner[0]), float(corner[1]))
    assert np.allclose(page.space.pca.transform(page.state.z), corner, atol=1e-4)


def test_interpolation_exports_a_gif_from_a_to_b(window, qtbot, vae_folder, tmp_path):
    from PIL import Image

    page = open_page(window, qtbot, vae_folder)
    space, tool = page.space, page.interpolation
    a, b = int(np.argmin(page.map.xy[:, 0])), int(np.argmax(page.map.xy[:, 0]))  # far apart: frames differ
    tool.count.setValue(7)
    page.state.select_point(a)
    tool.set_a.click()
    page.state.select_point(b)
    with qtbot.waitSignal(tool.decoding.succeeded, timeout=10_000):
        tool.set_b.click()
    assert len(tool.frames.frames) == 7
    path = tmp_path / "walk.gif"
    with qtbot.waitSignal(tool.frames.exported, timeout=20_000):
        tool.frames.export(str(path))
    gif = Image.open(path)
    assert gif.n_frames == 12  # there and back: A → B → A, the ends not repeated
    scale = gif.width // 28
    assert gif.width == gif.height == 280 and scale == 10  # at least 256 px, whole pixels

    def frame(k):
        gif.seek(k)
        return np.asarray(gif.convert("L"))[::scale, ::scale]

    assert np.array_equal(frame(0), decoded(page, space.codes[a])[:, :, 0])
    assert np.array_equal(frame(6), decoded(page, space.codes[b])[:, :, 0])
    assert np.array_equal(frame(11), frame(1))  # on the way back
    tool.frames.bounce.setChecked(False)
    with qtbot.waitSignal(tool.frames.exported, timeout=20_000):
        tool.frames.export(str(path))
    assert Image.open(path).n_frames == 7


def test_attribute_direction_from_two_labels(window, qtbot, vae_folder):
    page = open_page(window, qtbot, vae_folder)
    space, tool = page.space, page.directions
    page.tool_buttons.button(1).click()
    tool.groups["A"].setCurrentIndex(1)  # Trouser
    tool.groups["B"].setCurrentIndex(0)  # T-shirt/top
    tool.add_direction("add trousers")
    vector = space.codes[space.labels == 1].mean(0) - space.codes[space.labels == 0].mean(0)
    saved = DirectionStore.for_run(vae_folder, space.latent_dim)
    assert saved.names() == ["add trousers"] and np.allclose(saved.directions[0].array(), vector, atol=1e-5)
    assert len(tool.bank) == 1
    page.state.select_point(0)
    start = page.state.z.copy()
    tool.bank.sliders[0].setValue(150)  # 1.5 × the direction
    assert np.allclose(page.state.z, start + 1.5 * vector, atol=1e-4)
    expected = decoded(page, start + 1.5 * vector)
    qtbot.waitUntil(lambda: shown_equals(page, expected), timeout=10_000)
    assert not np.array_equal(expected, decoded(page, start))
    # a new point restarts the direction slider at 0
    page.state.select_point(1)
    assert tool.bank.value(0) == 0


def test_walk_records_keyframes_and_reconstruction_ranks(window, qtbot, vae_folder):
    page = open_page(window, qtbot, vae_folder)
    walk = page.walk
    walk.record.setChecked(True)
    walk.per.setValue(3)
    for i in (0, 1, 2):
        page.state.select_point(i)
    assert len(walk.keys) == 3
    qtbot.waitUntil(lambda: len(walk.frames.frames) == 7, timeout=10_000)
    qtbot.waitUntil(lambda: page.reconstruction.ranking.count() > 0, timeout=30_000)
    errors = page.space.errors
    top = page.reconstruction.ranking.item(0).data(Qt.UserRole)
    assert top == int(np.argmax(errors))


def test_a_gan_opens_without_an_encoder(window, qtbot, trained_run):
    page = open_page(window, qtbot, trained_run("dcgan"))
    space = page.space
    assert not space.encoded and space.labels is None
    assert not page.tool_buttons.button(3).isEnabled()  # nothing to reconstruct
    page.state.select_point(3)
    qtbot.waitUntil(lambda: shown_equals(page, space.images[3]), timeout=10_000)  # that z's generated image


def test_tsne_runs_in_the_background_and_cancels_and_thumbnails_draw(window, qtbot, trained_run):
    page = open_page(window, qtbot, trained_run("dcgan"))
    page.bar.projection_combo.setCurrentIndex(1)
    assert page.bar.progress.isVisible() and page.bar.cancel_button.isVisible()
    qtbot.waitUntil(lambda: page.bar.progress.value() > 0, timeout=60_000)  # the UI runs while it computes
    handle = page.mapping._current
    page.bar.cancel_button.click()
    assert page.bar.projection_combo.currentData() == "pca" and page.bar.status.text() == "t-SNE cancelled"
    assert handle.wait(2.0) and handle.control.cancelled  # the computation itself stopped
    page.bar.thumbs.setChecked(True)
    assert len(page.map._thumbs) == 300


def test_a_class_conditional_model_gets_a_class_selector(window, qtbot, trained_run):
    page = open_page(window, qtbot, trained_run("cvae", options={"width": 8, "latent_dim": 4}))
    space = page.space
    assert space.class_conditional and not page.pane.class_row.isHidden()
    i = int(np.flatnonzero(space.labels == 7)[0])
    page.state.select_point(i)  # a point brings its own class
    assert page.state.label == 7 and page.pane.class_combo.currentIndex() == 7
    qtbot.waitUntil(lambda: shown_equals(page, decoded(page, space.codes[i], 7)), timeout=10_000)
    page.pane.class_combo.setCurrentIndex(1)  # the same latent, another class
    qtbot.waitUntil(lambda: shown_equals(page, decoded(page, space.codes[i], 1)), timeout=10_000)


def test_first_launch_without_runs_opens_a_bundled_demo(make_window, qtbot, trained_run, tmp_path, monkeypatch):
    demos = tmp_path / "models"
    shutil.copytree(trained_run("dcgan"), demos / "dcgan-fashion-mnist")
    shutil.copytree(trained_run("vae"), demos / "vae-fashion-mnist")
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "no-runs-yet"))
    monkeypatch.setattr("studio.runs.demo_runs_root", lambda: demos)
    monkeypatch.setattr("studio.qt.widgets.run_picker.demo_runs_root", lambda: demos)
    window = make_window()
    page = window.latent
    with qtbot.waitSignal(page.space_opened, timeout=60_000):
        window.show_page("latent")
    assert page.space.family == "vae" and page.picker.current_path.endswith("vae-fashion-mnist")


# --- stale states ---------------------------------------------------------------------------------
def test_the_picker_says_what_to_choose_once_your_runs_have_loaded(make_window, qtbot, trained_run, tmp_path,
                                                                     monkeypatch):
    from studio.qt.widgets.run_picker import LOOKING, NONE_YET

    monkeypatch.setattr("studio.qt.widgets.run_picker.demo_runs_root", lambda: tmp_path / "no-demos")
    monkeypatch.setattr("studio.runs.demo_runs_root", lambda: tmp_path / "no-demos")
    shutil.copytree(trained_run("vae"), tmp_path / "runs" / "my-vae")  # the window's runs folder (conftest)
    window = make_window()
    picker = window.latent.picker
    assert picker.combo.placeholderText() == LOOKING
    with qtbot.waitSignal(picker.listed, timeout=30_000):
        window.show_page("latent")
    assert picker.combo.currentIndex() == -1 and window.latent.space is None  # your own runs: you choose
    assert picker.combo.placeholderText() == "Choose one of your 1 trained model"
    shutil.rmtree(tmp_path / "runs" / "my-vae")
    with qtbot.waitSignal(picker.listed, timeout=30_000):
        picker.refresh()
    assert picker.combo.placeholderText() == NONE_YET


def hover(qtbot, latent_map, xy):
    qtbot.mouseMove(latent_map.plot.viewport(), latent_map.widget_pos(*xy))
    qtbot.wait(30)  # delivered before the next move (two queued moves are merged into one)


def test_the_hover_card_goes_when_the_pointer_leaves_a_point_or_the_map(window, qtbot, vae_folder):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    page = open_page(window, qtbot, vae_folder)
    latent_map, tip = page.map, page.map.tip
    i = isolated_point(latent_map)
    hover(qtbot, latent_map, latent_map.xy[i])
    qtbot.waitUntil(tip.isVisible, timeout=5_000)
    assert latent_map.hovered == i and tip_caption_names(latent_map, i)
    corner = latent_map.view.viewRange()[0][0], latent_map.view.viewRange()[1][0]  # empty space, inside the map
    hover(qtbot, latent_map, (corner[0] + 1e-3, corner[1] + 1e-3))
    qtbot.waitUntil(lambda: not tip.isVisible(), timeout=5_000)
    assert latent_map.hovered == -1
    hover(qtbot, latent_map, latent_map.xy[i])
    qtbot.waitUntil(tip.isVisible, timeout=5_000)
    QApplication.sendEvent(latent_map.plot.viewport(), QEvent(QEvent.Leave))  # the pointer leaves the plot
    assert not tip.isVisible() and latent_map.hovered == -1
    hover(qtbot, latent_map, (corner[0] + 1e-3, corner[1] + 1e-3))  # back in, then onto the point
    hover(qtbot, latent_map, latent_map.xy[i])
    qtbot.waitUntil(tip.isVisible, timeout=5_000)
    page.state.add_embedding("other", latent_map.xy[::-1].copy())
    page.state.set_projection("other")  # the points move from under the pointer
    assert not tip.isVisible() and latent_map.hovered == -1


def tip_caption_names(latent_map, i) -> bool:
    name = latent_map.names[int(latent_map.labels[i])]
    return latent_map.tip_caption.text() == f"{name}  ·  #{i}"


# --- closing the window while work runs ends it -----------------------------------------------------
def close_now(window) -> float:
    """Close the window; the seconds it took. Every job the runner had is over afterwards."""
    import time

    from studio.qt.runner import runner

    work = runner()  # (closing retires it: runner() afterwards is a new, empty one)
    assert work.active(), "the work under test was not running"
    t0 = time.perf_counter()
    window.close()
    took = time.perf_counter() - t0
    assert not work.active() and not window.isVisible()
    print(f"\nwindow.close() took {took:.3f} s")
    return took


def test_closing_while_t_sne_runs_ends_it(window, qtbot, trained_run):
    from studio.latent.projection import KNN_SHARE

    page = open_page(window, qtbot, trained_run("dcgan"))
    page.bar.projection_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.bar.progress.value() > KNN_SHARE, timeout=60_000)  # past the neighbour search
    assert close_now(window) < 1.5


def test_closing_during_t_sne_s_neighbour_search_ends_it(window, qtbot, vae_folder):
    page = open_page(window, qtbot, vae_folder)
    page.bar.projection_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: 0 < page.bar.progress.value(), timeout=60_000)
    assert close_now(window) < 1.5


def slowed(monkeypatch, where: str, seconds: float, batch: int = 100) -> None:
    """Make each batch of ``where`` (a function of studio.latent.space) take ``seconds`` longer,
    in batches of ``batch``, so the work is surely running when the window closes."""
    import time

    import studio.latent.space as space_module

    fn = getattr(space_module, where) if "." not in where else getattr(space_module.LatentSpace, "decode")

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return fn(*args, **kwargs)

    monkeypatch.setattr(space_module, "BATCH", batch)
    if "." in where:
        monkeypatch.setattr(space_module.LatentSpace, "decode", slow)
    else:
        monkeypatch.setattr(space_module, where, slow)


def test_closing_while_a_run_opens_ends_the_encoding(window, qtbot, vae_folder, monkeypatch):
    slowed(monkeypatch, "_with_labels", 0.05)  # 50 batches of 100 images, 0.05 s more each
    window.show_page("latent")
    page = window.latent
    page.open_run(vae_folder)
    qtbot.waitUntil(lambda: page.bar.progress.value() > 0, timeout=60_000)
    assert page.opening.busy and page.space is None
    assert close_now(window) < 1.5


def test_closing_while_reconstructions_are_ranked_ends_it(window, qtbot, vae_folder, monkeypatch):
    slowed(monkeypatch, "LatentSpace.decode", 0.05)
    page = open_page(window, qtbot, vae_folder)
    qtbot.wait(200)
    assert page.measuring.busy and page.space.errors is None
    assert close_now(window) < 1.5


# --- layout at 1366×768 ----------------------------------------------------------------------------
def test_choosing_a_tool_never_moves_the_tab_bar(window, qtbot, vae_folder):
    from PySide6.QtCore import QPoint

    window.resize(1366, 768)
    page = open_page(window, qtbot, vae_folder)
    tabs = page.tool_buttons

    def tab_bar_y():
        qtbot.wait(50)  # the layout settles
        return tabs.button(0).mapTo(window, QPoint(0, 0)).y()

    start = tab_bar_y()
    # the page leaves the sidebar and the window frame room on a 1366-pixel screen, whatever tool is shown
    assert page.minimumSizeHint().width() + window.sidebar.width() <= 1366 - 20
    for k in (1, 2, 3, 0, 1):
        tabs.button(k).click()
        assert page.tools.currentIndex() == k and page.state.tool == TOOLS[k]
        assert tab_bar_y() == start, f"the tab bar moved when {tabs.button(k).text()!r} was chosen"


def strip_zoom(frames) -> float:
    """Screen pixels per image pixel of the frames drawn in the strip."""
    view, image = frames.strip_view, frames.strip_view.image()
    return min((view.width() - 16) / image.width(), (view.height() - 16) / image.height())


def test_interpolation_frames_are_at_least_twice_native_and_grow_with_the_window(window, qtbot, vae_folder):
    window.resize(1366, 768)
    page = open_page(window, qtbot, vae_folder)
    tool = page.interpolation
    tool.count.setValue(24)
    with qtbot.waitSignal(tool.decoding.succeeded, timeout=10_000):
        tool.set_ends(page.space.codes[0], page.space.codes[1])
    qtbot.wait(50)
    small = strip_zoom(tool.frames)
    assert small >= 2 and 2 <= tool.frames.shown < 24  # fewer frames, none below 2× their pixels
    assert "the strip shows" in tool.frames.info.text()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.width() >= 1900, timeout=5_000)
    qtbot.wait(50)
    assert strip_zoom(tool.frames) >= small and tool.frames.shown >= 2


def test_map_thumbnails_keep_their_aspect(window, qtbot, vae_folder):
    page = open_page(window, qtbot, vae_folder)
    page.bar.thumbs.setChecked(True)
    for size in ((1366, 768), (1920, 700)):  # the map's x and y scales differ, and change
        window.resize(*size)
        qtbot.wait(50)
        for _, image in page.map._thumbs[:20]:
            rect = page.map.plot.mapFromScene(image.mapRectToScene(image.boundingRect())).boundingRect()
            assert abs(rect.width() - rect.height()) <= 2, (size, rect)  # 28×28 images stay square on screen


def test_a_run_opened_by_another_page_shows_in_the_model_box(window, qtbot, vae_folder):
    """Opened without the Model menu (the Runs page, a script): the box names the run, not blank."""
    page = open_page(window, qtbot, vae_folder)
    assert page.picker.current_path == str(Path(vae_folder))
    assert page.picker.combo.currentText()
