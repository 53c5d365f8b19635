"""The Playground faults a new-user tester found (issue 17): Clear while playing, a lesson's text
left over after the family changed, buttons that change width under the mouse, the points field
that undid a typed 0 silently, a lesson title cut off."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from studio.playground import LESSONS_BY_KEY
from studio.qt.widgets.playground_controls import CUSTOM
from tests.qt.test_playground_page import choose, page  # noqa: F401 (the page fixture: 1170x740, shut down after)


def test_clear_while_playing_stops_the_run_and_play_waits_for_points(qtbot, page):
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.frames_drawn >= 2, timeout=30_000)
    handle = page.handle
    qtbot.mouseClick(page.controls.clear, Qt.LeftButton)
    assert page.job is None and not page.running and page.play.text() == "▶ Play"
    assert handle.wait(10)  # the old run's thread ends: no training on the old points
    assert page.message.text().startswith("Training stopped at step ")
    assert page.message.text().endswith("the data has 0 points — draw at least 16 points, or pick a data set")
    assert not page.play.isEnabled() and not page.step_button.isEnabled()
    shown = [item for key, item in page.pane.main.items.items() if item.isVisible() and key[0] == "points"]
    assert [len(item.xy) for item in shown] == [0]  # the plot shows the (empty) data only, not old points
    for _ in range(3):  # 18 points: Play comes back
        page.state.brush(0.0, 0.0)
    assert page.play.isEnabled() and page.step_button.isEnabled()
    assert page.controls.point_count.text() == "18 points"


def test_a_lesson_gives_way_to_your_own_setup_and_comes_back(qtbot, page):
    controls = page.controls
    choose(controls.lesson, "gan-mode-collapse")
    lesson = LESSONS_BY_KEY["gan-mode-collapse"]
    assert controls.lesson.currentText() == lesson.title and lesson.title in controls.lesson_text.text()
    choose(controls.family, "ddpm")
    assert controls.lesson.currentText() == CUSTOM
    text = controls.lesson_text.text()
    assert lesson.title not in text and lesson.text not in text and "Your own setup:</b> Diffusion (DDPM)" in text
    assert LESSONS_BY_KEY["ddpm-reverse"].text in text  # the family's own what-to-look-for
    choose(controls.lesson, "gan-mode-collapse")  # the same lesson again brings it all back
    assert (page.state.family, page.state.options, page.state.dataset, page.state.lr) == \
        ("gan", {"loss": "vanilla"}, "8-gaussians", 3e-3)
    assert controls.lesson.currentText() == lesson.title and lesson.text in controls.lesson_text.text()
    choose(controls.preset, "spiral")  # other data: the lesson's text no longer applies either
    assert controls.lesson.currentText() == CUSTOM


def test_toggle_buttons_keep_their_width(qtbot, page):
    qtbot.wait(20)
    x_step, w_play, w_compare = page.step_button.x(), page.play.width(), page.compare.width()
    qtbot.mouseClick(page.play, Qt.LeftButton)
    qtbot.wait(20)
    assert page.play.text() == "❚❚ Pause" and page.play.width() == w_play and page.step_button.x() == x_step
    assert page.play.width() >= page.play.sizeHint().width()  # the widest text fits
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    qtbot.wait(20)
    assert page.compare.text() == "One view" and page.compare.width() == w_compare
    assert page.compare.width() >= page.compare.sizeHint().width()
    w_speed = page.speed_label.width()
    page.speed.setValue(page.speed.maximum())
    assert page.speed_label.width() == w_speed >= page.speed_label.sizeHint().width()


def test_points_out_of_range_are_refused_with_the_limits(qtbot, page):
    controls = page.controls
    before = page.state.points.copy()
    controls.points.lineEdit().selectAll()
    qtbot.keyClicks(controls.points, "0")
    controls.points.editingFinished.emit()
    assert controls.point_count.text() == "Points must be from 16 to 20,000 (you typed 0); the data keeps 1,000"
    assert controls.point_count.property("role") == "error"
    assert np.array_equal(page.state.points, before) and page.state.points_count == 1000
    controls.points.setValue(500)
    controls.points.editingFinished.emit()
    assert len(page.state.points) == 500 and controls.point_count.text() == "500 points"


def test_long_lesson_titles_show_whole_in_the_popup_and_tooltip(qtbot, page):
    combo = page.controls.lesson
    choose(combo, "autoregressive-bins")
    widest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert combo.view().minimumWidth() >= widest
    combo.grab()  # painted: the tooltip is set as it draws
    shown = combo.shown_text()
    assert shown == combo.currentText() or (shown.endswith("…") and combo.toolTip() == combo.currentText())


def test_gif_frames_name_the_family_as_text_and_show_whole_legends(qtbot, page, tmp_path, monkeypatch):
    from studio.qt.widgets import playground_export

    seen = []
    grab = playground_export.qimage_to_array

    def spy(image):
        for pane in page.gif._panes:
            legend = pane.main.legend
            seen.append((pane.family.isVisible(), pane.title.text(), legend.height() >= legend.heightForWidth(legend.width())))
        return grab(image)

    monkeypatch.setattr(playground_export, "qimage_to_array", spy)
    choose(page.controls.lesson, "ddpm-reverse")  # many legend entries
    qtbot.mouseClick(page.compare, Qt.LeftButton)  # two narrow panes: the legends wrap
    qtbot.mouseClick(page.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(page.recorder.frames) >= 2, timeout=30_000)
    qtbot.mouseClick(page.play, Qt.LeftButton)
    page.gif.save(page.recorder.frames, page.panes, str(tmp_path / "a.gif"))
    qtbot.waitUntil(lambda: (tmp_path / "a.gif").exists() and not page.gif.busy, timeout=30_000)
    assert seen and all(not shown and title and whole for shown, title, whole in seen), seen[:4]
    assert {title for _, title, _ in seen} == {"Diffusion (DDPM)", page.pane_b.family.currentText()}
