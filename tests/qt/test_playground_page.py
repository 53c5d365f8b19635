"""The Playground page driven through its real widgets: play / pause / step / reset, every
family's frames, drawing and erasing points, live options, export, and the window size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.playground import LESSONS, family_names
from studio.playground.compare import PlaygroundPair


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
    assert page.controls.lesson_text.text().startswith(f"<b>{page.state.lesson.title}.</b> <b>What to look for.</b>")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    assert page.play.text() == "❚❚ Pause"
    step = wait_frame(qtbot, page, 2 * page.state.speed)
    assert int(page.pane.step_label.text().split()[1].replace(",", "")) >= step  # later frames may follow at once
    shown = [item for item in page.pane.main.items.values() if item.isVisible()]
    assert len(shown) >= 3  # the family's own layers, the data and the samples
    assert "energy distance" in page.pane.stats.text()
    assert page.pane.side.legend.text()
    qtbot.mouseClick(page.play, Qt.LeftButton)
    assert page.job.paused and page.play.text() == "▶ Play"


def test_step_trains_one_frame_and_reset_forgets_the_model(qtbot, page):
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    assert wait_frame(qtbot, page, page.state.speed) == page.state.speed
    assert page.job.paused
    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    assert wait_frame(qtbot, page, 2 * page.state.speed) == 2 * page.state.speed
    qtbot.waitUntil(lambda: len(page.pane._loss[0]) >= 1, timeout=10_000)
    qtbot.mouseClick(page.reset, Qt.LeftButton)
    assert page.job is None and page.pane.step_label.text() == "step 0" and page.pane._loss == ([], [])


def test_drawing_erasing_and_clearing_points(qtbot, page):
    choose(page.controls.preset, "spiral")
    before = len(page.state.points)
    brush = page.controls.findChild(type(page.play), "tool_brush")
    qtbot.mouseClick(brush, Qt.LeftButton)
    assert page.pane.main.tool == "brush"
    for x in (-1.0, -0.5, 0.0, 0.5):
        qtbot.mousePress(page.pane.main.plot.viewport(), Qt.LeftButton, pos=page.pane.main.scene_point(x, 2.5).toPoint())
    assert len(page.state.points) == before + 4 * 6
    assert page.state.dataset == "drawn" and page.controls.preset.currentData() == "drawn"
    near_top = abs(page.state.points[before:, 1] - 2.5) < 0.5
    assert near_top.mean() > 0.9  # the brush puts them where the mouse is
    erase = page.controls.findChild(type(page.play), "tool_erase")
    qtbot.mouseClick(erase, Qt.LeftButton)
    assert page.pane.main.tool == "erase" and not brush.isChecked()
    qtbot.mousePress(page.pane.main.plot.viewport(), Qt.LeftButton, pos=page.pane.main.scene_point(-1.0, 2.5).toPoint())
    assert len(page.state.points) < before + 24
    qtbot.mouseClick(page.controls.clear, Qt.LeftButton)
    assert len(page.state.points) == 0 and "draw at least 16" in page.controls.point_count.text()
    assert not page.play.isEnabled() and not page.step_button.isEnabled()  # nothing to train on
    assert page.play.toolTip() == "draw at least 16 points, or pick a data set"
    page.start()
    assert page.job is None and page.message.text() == "The data has 0 points: draw at least 16, or pick a data set"


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
        assert page.pane.setting.isVisibleTo(page) == (build_family(family).slider is not None)


def test_the_view_slider_reaches_the_job(qtbot, page):
    choose(page.controls.lesson, "flow-matching-straight")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page)
    page.pane.setting.setValue(100)
    assert page.state.setting == pytest.approx(0.1)
    assert page.job._setting == pytest.approx(0.1)
    assert page.pane.setting_label.text().endswith("0.1")


def test_export_png_saves_the_plots_where_the_dialog_says(qtbot, page, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage

    from studio.qt.widgets import playground_export

    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    wait_frame(qtbot, page)
    path = tmp_path / "view.png"
    asked = []
    monkeypatch.setattr(playground_export, "ask_save_path", lambda *a: asked.append(a[2]) or str(path))
    qtbot.mouseClick(page.export, Qt.LeftButton)
    assert asked == ["playground-gan.png"]
    assert page.message.text() == f"Saved view.png in {tmp_path}"
    image = QImage(str(path))
    assert image.width() == page.views.width() and image.height() == page.views.height()


def test_the_drawer_draws_only_the_newest_frame_at_most_30_a_second(qtbot, page, monkeypatch):
    from studio.playground import PlaygroundJob
    from studio.qt.widgets.playground_drawer import DRAW_HZ

    job = PlaygroundJob(page.state.spec())
    frames = []
    for _ in range(4):
        job.train(2)
        frames.append(job.frame())
    calls, starts = [], []  # when each drawing started
    monkeypatch.setattr(page.pane, "show_main", lambda f: calls.append(("main", f.step)))
    page.frame_drawn.connect(lambda _step: starts.append(page.drawer._last))
    monkeypatch.setattr(page.pane, "show_side", lambda f: calls.append(("side", f.step)))
    with qtbot.waitSignal(page.frame_drawn, timeout=5000) as first:
        for frame in frames:  # they arrive faster than the UI draws: only the newest counts
            page.drawer.offer(frame)
    assert first.args == [8] and calls == [("main", 8), ("side", 8)]
    with qtbot.waitSignal(page.frame_drawn, timeout=5000):
        page.drawer.offer(frames[0])
    assert calls[2:] == [("main", 2), ("side", 2)] and page.frames_drawn == 2
    assert starts[1] - starts[0] >= 1 / DRAW_HZ - 0.002  # at most DRAW_HZ frames a second


def gif_frames(path) -> list:
    from PIL import Image, ImageSequence

    with Image.open(path) as gif:
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]


def test_export_gif_writes_the_training_so_far_as_an_animation(qtbot, page, tmp_path, monkeypatch):
    from studio.qt.widgets import playground_export

    path = tmp_path / "training.gif"
    monkeypatch.setattr(playground_export, "ask_save_path", lambda *a: str(path))
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    assert page.message.text().startswith("Nothing to export yet") and not path.exists()
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page, 12 * page.state.speed)
    qtbot.mouseClick(page.play, Qt.LeftButton)  # pause: the recording ends here
    recorded = len(page.recorder)
    assert recorded >= 10
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("Saved"), timeout=60_000)
    assert page.message.text().startswith(f"Saved training.gif in {tmp_path} ({recorded} frames, steps ")
    frames = gif_frames(path)
    assert len(frames) >= recorded // 2  # Pillow merges identical neighbours
    assert frames[0].shape[0] >= 400 and frames[0].shape[1] >= 800
    changed = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames, frames[1:])]
    assert sum(c > 0.5 for c in changed) >= 3, changed  # the model learns: the pictures move
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 2
    qtbot.mouseClick(page.reset, Qt.LeftButton)  # the run is dropped: so is its recording
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    assert page.message.text().startswith("Nothing to export yet")


def test_compare_trains_two_families_on_the_same_data_side_by_side(qtbot, page):
    choose(page.controls.lesson, "ddpm-reverse")
    assert not page.pane_b.isVisible()
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    assert page.state.compare == "flow-matching" and page.pane_b.isVisible() and page.pane.compact
    assert page.pane_b.family.currentData() == "flow-matching" and page.pane.family.currentData() == "ddpm"
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page, 2 * page.state.speed)
    job = page.job
    assert job.other.data_np is job.data_np and job.other.model.name == "flow-matching"
    for pane in page.panes:
        qtbot.waitUntil(lambda p=pane: int(p.step_label.text().split()[1].replace(",", "")) > 0, timeout=10_000)
        assert "energy distance" in pane.stats.text()
        assert any(item.isVisible() for item in pane.main.items.values())
    qtbot.waitUntil(lambda: all(len(p._loss[0]) for p in page.panes), timeout=10_000)
    page.pane_b.setting.setValue(500)  # each view has its own slider
    assert job.other._setting == pytest.approx(0.5) and job._setting != pytest.approx(0.5)
    choose(page.pane_b.family, "autoregressive")  # its own picker: a new pair, the left model goes on
    assert page.state.compare == "autoregressive" and page.job is not job and page.job.model is job.model
    assert page.job.other.model.name == "autoregressive"
    choose(page.controls.lesson, "gan-mode-collapse")
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    qtbot.mouseClick(page.compare, Qt.LeftButton)  # off and on: a GAN faces the other GAN loss
    assert page.state.compare == "gan" and page.state.compare_options == {"loss": "wgan-gp"}
    assert page.pane_b.loss.getPlotItem().titleLabel.text == "critic loss"
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    assert page.state.compare is None and not page.pane_b.isVisible() and not page.pane.compact


def test_a_change_that_needs_a_new_model_says_so_and_keeps_playing(qtbot, page):
    """A tester's finding: changing the family or toggling Compare while it trained set the step
    counter and the curve back to 0 without a word."""
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page, 4 * page.state.speed)
    old = page.job
    choose(page.controls.family, "vae")
    qtbot.waitUntil(lambda: page.job is not None and page.job is not old, timeout=5_000)
    text = page.message.text()
    assert text.startswith("Family changed to VAE — training restarted from step 0 with a new model"), text
    assert "had reached step " in text and page.job.model.name == "vae" and page.running
    assert page.play.text() == "❚❚ Pause"
    wait_frame(qtbot, page, page.state.speed)  # and it trains
    qtbot.mouseClick(page.play, Qt.LeftButton)  # paused: Compare keeps the left model, paused, beside a new one
    qtbot.waitUntil(lambda: page.job.paused)
    vae = page.job
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    assert page.message.text() == (f"Compare: VAE beside Flow matching / rectified flow — the left model goes on "
                                   f"from step {vae.step:,}; the right one starts from step 0")
    assert isinstance(page.job, PlaygroundPair) and page.job.model is vae.model and page.job.paused
    assert page.play.text() == "▶ Play"
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page, page.state.speed)
    choose(page.controls.lesson, "gan-mode-collapse")  # one action, several changes: one restart, named once
    qtbot.waitUntil(lambda: page.job is not None, timeout=5_000)
    assert page.message.text().startswith("Lesson “GAN: mode collapse” — training restarted from step 0")
    job = page.job
    qtbot.wait(200)
    assert page.job is job and isinstance(job, PlaygroundPair) and job.other.model.config.loss == "wgan-gp"
    page.controls.form.editors["hidden"].setValue(32)  # not live: options changed
    qtbot.waitUntil(lambda: page.job is not None and page.job is not job, timeout=5_000)
    assert page.message.text().startswith("Options changed (hidden = 32) — training restarted")


def test_compare_follows_the_lesson(qtbot, page):
    """A tester's finding: the second view stayed on "gan" after a lesson made the first a VAE."""
    choose(page.controls.lesson, "gan-mode-collapse")
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    assert page.pane_b.family.currentData() == "gan" and page.pane_b.options == {"loss": "wgan-gp"}
    choose(page.controls.lesson, "vae-posterior-collapse")
    assert page.state.compare == "vae" and page.pane_b.family.currentData() == "vae"
    assert page.pane_b.options == {"beta": 1.0} and page.pane.options == {"beta": 8.0}
    choose(page.controls.lesson, "ddpm-reverse")
    assert page.pane_b.family.currentData() == "flow-matching" and page.pane_b.options == {}
    choose(page.pane_b.family, "autoregressive")  # the user's pick stays when the first family changes
    choose(page.controls.family, "flow")
    assert page.pane_b.family.currentData() == "autoregressive"
    qtbot.mouseClick(page.step_button, Qt.LeftButton)
    wait_frame(qtbot, page)
    assert page.job.other.model.name == "autoregressive" and page.job.model.name == "flow"


def test_the_page_fits_the_smallest_window(qtbot, make_window):
    window = make_window()
    window.show_page("playground")
    assert window.stack.currentWidget() is window.playground
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, hint
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() <= 1366)
    page = window.playground
    assert page.pane.main.plot.width() >= 400 and page.pane.main.plot.height() >= 400
    page.compare.setChecked(True)
    qtbot.waitUntil(lambda: page.pane_b.main.plot.width() > 0)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, hint
    for pane in page.panes:
        assert pane.main.plot.width() >= 330 and pane.main.plot.height() >= 330, pane.main.plot.size()
        assert pane.loss.height() >= 80 and pane.family.isVisible()


def test_the_ui_bench_measures_lateness_and_where_it_went(qtbot):
    from studio.qt.bench_playground import measure_ui

    ui = measure_ui(["autoregressive"], seconds=1.0)
    assert ui["page_fps"]["autoregressive"] > 0 and ui["ticks"] >= 2  # a starved machine gets few ticks
    assert ui["job_fps"]["autoregressive"] >= ui["page_fps"]["autoregressive"] - 1.5  # the page draws no frame twice
    assert 0 <= ui["p50_ms"] <= ui["p99_ms"] <= ui["max_ms"] and ui["ui_busy_p99_ms"] >= 0
    split = ui["late_split"]
    assert set(split) == {"ui_ms", "job_ms", "other_ms"} and all(v >= 0 for v in split.values())
    assert ui["late_ticks"] == 0 or abs(sum(split.values()) - 1) < 0.01
