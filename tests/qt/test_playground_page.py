"""The Playground page driven through its real widgets: play / pause / step / reset, every
family's frames, drawing and erasing points, live options, export, and the window size."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.playground import LESSONS, family_names


@pytest.fixture
def page(qtbot):
    from studio.qt.panels.playground import PlaygroundPanel

    panel = PlaygroundPanel()
    qtbot.addWidget(panel)
    panel.resize(1170, 740)
    panel.show()
    yield panel
    handle = panel.handle
    panel.shutdown()
    if handle is not None:
        assert handle.wait(10)


def choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def wait_frame(qtbot, page, at_least: int = 1):
    with qtbot.waitSignal(page.frame_drawn, timeout=30_000, check_params_cb=lambda step: step >= at_least) as blocker:
        pass
    return blocker.args[0]


@pytest.mark.parametrize("lesson", [lesson.key for lesson in LESSONS])
def test_every_lesson_plays_and_draws_its_family_view(qtbot, page, lesson):
    choose(page.controls.lesson, lesson)
    assert page.state.lesson.key == lesson and page.controls.family.currentData() == page.state.family
    assert page.controls.lesson_text.text().startswith("<b>What to look for.</b>")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    assert page.play.text() == "❚❚ Pause"
    step = wait_frame(qtbot, page, 2 * page.state.speed)
    assert int(page.step_label.text().split()[1].replace(",", "")) >= step  # later frames may follow at once
    shown = [item for item in page.main.items.values() if item.isVisible()]
    assert len(shown) >= 3  # the family's own layers, the data and the samples
    assert "energy distance" in page.stats.text()
    assert page.side.legend.text()
    qtbot.mouseClick(page.play, Qt.LeftButton)
    assert page.job.paused and page.play.text() == "▶ Play"


def test_step_trains_one_frame_and_reset_forgets_the_model(qtbot, page):
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    assert wait_frame(qtbot, page, page.state.speed) == page.state.speed
    assert page.job.paused
    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    assert wait_frame(qtbot, page, 2 * page.state.speed) == 2 * page.state.speed
    qtbot.waitUntil(lambda: len(page._loss[0]) >= 1, timeout=10_000)
    qtbot.mouseClick(page.reset, Qt.LeftButton)
    assert page.job is None and page.step_label.text() == "step 0" and page._loss == ([], [])


def test_drawing_erasing_and_clearing_points(qtbot, page):
    choose(page.controls.preset, "spiral")
    before = len(page.state.points)
    brush = page.controls.findChild(type(page.play), "tool_brush")
    qtbot.mouseClick(brush, Qt.LeftButton)
    assert page.main.tool == "brush"
    for x in (-1.0, -0.5, 0.0, 0.5):
        qtbot.mousePress(page.main.plot.viewport(), Qt.LeftButton, pos=page.main.scene_point(x, 2.5).toPoint())
    assert len(page.state.points) == before + 4 * 6
    assert page.state.dataset == "drawn" and page.controls.preset.currentData() == "drawn"
    near_top = abs(page.state.points[before:, 1] - 2.5) < 0.5
    assert near_top.mean() > 0.9  # the brush puts them where the mouse is
    erase = page.controls.findChild(type(page.play), "tool_erase")
    qtbot.mouseClick(erase, Qt.LeftButton)
    assert page.main.tool == "erase" and not brush.isChecked()
    qtbot.mousePress(page.main.plot.viewport(), Qt.LeftButton, pos=page.main.scene_point(-1.0, 2.5).toPoint())
    assert len(page.state.points) < before + 24
    qtbot.mouseClick(page.controls.clear, Qt.LeftButton)
    assert len(page.state.points) == 0 and "draw at least 16" in page.controls.point_count.text()
    qtbot.mouseClick(page.play, Qt.LeftButton)
    assert page.job is None and "draw at least 16 points" in page.message.text()


def test_drawing_while_it_learns_feeds_the_running_job(qtbot, page):
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page)
    choose(page.controls.preset, "rings")  # new data, same model
    job = page.job
    qtbot.waitUntil(lambda: job.data_np is page.state.points, timeout=10_000)
    assert page.job is job and page.running


def test_a_live_option_changes_the_sampler_without_a_reset(qtbot, page):
    choose(page.controls.lesson, "ddpm-reverse")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page)
    job = page.job
    page.controls.form.editors["sampler"].setCurrentText("ddim")
    assert page.job is job and job.model.config.sampler == "ddim"
    page.controls.form.editors["hidden"].setValue(32)  # not live: a new, untrained model
    assert page.job is None and page.state.options["hidden"] == 32


def test_family_picker_swaps_the_form_and_the_view_slider(qtbot, page):
    for family in family_names():
        choose(page.controls.family, family)
        assert page.state.family == family
        from studio.playground import build_family, get_family

        names = {f for f in get_family(family).Config.__dataclass_fields__}
        assert set(page.controls.form.editors) == names
        assert page.setting.isVisibleTo(page) == (build_family(family).slider is not None)


def test_the_view_slider_reaches_the_job(qtbot, page):
    choose(page.controls.lesson, "flow-matching-straight")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page)
    page.setting.setValue(100)
    assert page.state.setting == pytest.approx(0.1)
    assert page.job._setting == pytest.approx(0.1)
    assert page.setting_label.text().endswith("0.1")


def test_export_png_saves_the_plots(qtbot, page, tmp_path):
    from PySide6.QtGui import QImage

    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    wait_frame(qtbot, page)
    path = tmp_path / "playground.png"
    assert page.export_png(str(path))
    image = QImage(str(path))
    assert image.width() == page.views.width() and image.height() == page.views.height()


def test_the_page_fits_the_smallest_window(qtbot, make_window):
    window = make_window()
    window.show_page("playground")
    assert window.stack.currentWidget() is window.playground
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, hint
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() <= 1366)
    page = window.playground
    assert page.main.plot.width() >= 400 and page.main.plot.height() >= 400
