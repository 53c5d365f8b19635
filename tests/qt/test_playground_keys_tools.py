"""The Playground page's tools, keys and layout as a new user meets them (UX findings F4, F18,
F13, F6, F7, tab order): a pressed tool looks pressed and Brush is on when there is nothing to
train on; Space plays / pauses whatever button was clicked; Reset keeps playing; Clear forgets the
old loss axis and the preset's count; the controls never move when the lesson text changes."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton

from studio.playground import LESSONS
from studio.playground.compare import PlaygroundPair
from tests.qt.test_playground_page import choose, page, wait_frame  # noqa: F401 (the page fixture)


def pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format_RGB888)
    return np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).copy()


def brush_and_erase(page) -> tuple[QPushButton, QPushButton]:
    return (page.controls.findChild(QPushButton, "tool_brush"), page.controls.findChild(QPushButton, "tool_erase"))


def test_a_checked_push_button_looks_pressed(qtbot, page):
    """Brush on, Brush off and Erase on were pixel-identical (the style sheet styled only
    QToolButton:checked); the same for every checkable push button (the enlarged view's "Whole grid")."""
    brush, erase = brush_and_erase(page)
    off = pixels(brush)
    brush.setChecked(True)
    on = pixels(brush)
    assert page.pane.main.tool == "brush"
    assert np.count_nonzero(on != off) > 0.2 * on.size  # the whole face changes, not a pixel or two
    erase.setChecked(True)
    assert not brush.isChecked() and np.array_equal(pixels(brush), off)
    whole = QPushButton("Whole grid", checkable=True)
    qtbot.addWidget(whole)
    whole.resize(whole.sizeHint())
    plain = pixels(whole)
    whole.setChecked(True)
    assert not np.array_equal(pixels(whole), plain)


def test_with_nothing_to_train_on_a_drag_draws(qtbot, page):
    """After Clear the page says "draw at least 16": Brush is on, so a drag draws; the Points field
    shows the points there are (drawn by hand: no preset count to set), not the preset's 1000."""
    brush, erase = brush_and_erase(page)
    assert not brush.isChecked() and not erase.isChecked()  # a lesson's data: no tool until one is chosen
    assert page.controls.points.value() == 1000 and page.controls.points.isEnabled()
    qtbot.mouseClick(page.controls.clear, Qt.LeftButton)
    assert brush.isChecked() and page.pane.main.tool == "brush"
    assert page.controls.points.value() == 0 and not page.controls.points.isEnabled()
    viewport = page.pane.main.plot.viewport()
    for x in (-1.0, 0.0, 1.0):
        qtbot.mousePress(viewport, Qt.LeftButton, pos=page.pane.main.scene_point(x, 0.5).toPoint())
    assert len(page.state.points) == 18 and page.controls.points.value() == 18
    assert page.play.isEnabled()
    qtbot.mouseClick(erase, Qt.LeftButton)  # the user's own choice of tool stays, even with too few points
    qtbot.mousePress(viewport, Qt.LeftButton, pos=page.pane.main.scene_point(0.0, 0.5).toPoint())
    assert len(page.state.points) < 16 and erase.isChecked() and not brush.isChecked()
    choose(page.controls.preset, "spiral")
    assert page.controls.points.value() == 1000 and page.controls.points.isEnabled()


def press_space(qtbot, window) -> None:
    target = QApplication.focusWidget() or window
    QTest.keyClick(target, Qt.Key_Space)
    qtbot.wait(20)


def test_space_plays_and_pauses_whatever_button_was_clicked(qtbot, window):
    """Click Step, press Space twice: it played and paused (it stepped twice, still paused:
    the clicked button took the focus and Space pressed it). Also after Reset and Export buttons,
    and after a click on the plot; not on another page."""
    window.resize(1340, 730)
    window.show_page("playground")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    page = window.playground
    try:
        choose(page.controls.lesson, "autoregressive-bins")
        qtbot.mouseClick(page.step_button, Qt.LeftButton)
        wait_frame(qtbot, page, page.state.speed)
        assert page.job.paused
        press_space(qtbot, window)
        assert not page.job.paused and page.play.text() == "❚❚ Pause"
        press_space(qtbot, window)
        assert page.job.paused and page.play.text() == "▶ Play"
        for button in (page.reset, page.controls.clear.parentWidget().findChild(QPushButton, "tool_brush")):
            qtbot.mouseClick(button, Qt.LeftButton)
            assert QApplication.focusWidget() is not button
        qtbot.mouseClick(page.pane.main.plot.viewport(), Qt.LeftButton)
        press_space(qtbot, window)
        assert page.running and not page.job.paused
        press_space(qtbot, window)
        assert page.job.paused
        window.show_page("train")  # another page: Space is not the Playground's
        press_space(qtbot, window)
        assert page.job.paused
    finally:
        handle = page.handle
        page.shutdown()
        if handle is not None:
            assert handle.wait(10)


def test_tab_reaches_play_step_reset_before_the_left_column(qtbot, page):
    chain, widget = [], page.nextInFocusChain()
    while widget is not page and len(chain) < 500:
        if widget.isVisibleTo(page) and widget.focusPolicy() & Qt.TabFocus:
            chain.append(widget)
        widget = widget.nextInFocusChain()
    order = [chain.index(w) for w in (page.play, page.step_button, page.reset, page.controls.lesson,
                                      page.controls.preset)]
    assert order == sorted(order), order
    assert page.play.focusPolicy() == Qt.TabFocus  # Tab reaches it, a click does not take the focus


def test_reset_while_playing_keeps_playing_and_says_so(qtbot, page):
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    step = wait_frame(qtbot, page, 3 * page.state.speed)
    old = page.job
    qtbot.mouseClick(page.reset, Qt.LeftButton)
    assert page.job is not old and page.running and not page.job.paused and page.play.text() == "❚❚ Pause"
    assert page.message.text().startswith("Reset — training restarted from step 0 with a new model")
    reached = int(page.message.text().split("reached step ")[1].rstrip(")").replace(",", ""))
    assert reached >= step
    qtbot.mouseClick(page.play, Qt.LeftButton)  # paused: Reset drops the run, Play starts the new one
    qtbot.mouseClick(page.reset, Qt.LeftButton)
    assert page.job is None and page.play.text() == "▶ Play"
    assert page.message.text().endswith("was dropped; ▶ Play trains the new model from step 0")
    qtbot.mouseClick(page.reset, Qt.LeftButton)  # nothing to reset: nothing said
    assert page.message.text() == ""


def test_clear_forgets_the_old_runs_loss_axis(qtbot, page):
    choose(page.controls.lesson, "autoregressive-bins")
    page.speed.setValue(40)
    qtbot.mouseClick(page.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(page.pane._loss[0]) >= 3, timeout=30_000)
    page.pane.flush_loss()
    (_, x1), _ = page.pane.loss.getPlotItem().getViewBox().viewRange()
    assert x1 > 10
    qtbot.mouseClick(page.controls.clear, Qt.LeftButton)
    (x0, x1), (y0, y1) = page.pane.loss.getPlotItem().getViewBox().viewRange()
    assert (x0, x1, y0, y1) == pytest.approx((0, 10, 0, 1))


def test_the_controls_stay_put_whatever_the_lesson_text(qtbot, page):
    """Brush was at y = 505, 441, 425, 393 for different lessons, and 48 px lower after the first
    stroke (the longer "your own setup" text): a second click in the same place hit another control."""
    brush, _ = brush_and_erase(page)
    places = set()
    for lesson in LESSONS:
        choose(page.controls.lesson, lesson.key)
        page.controls.layout().activate()
        places.add(brush.mapTo(page.controls, brush.rect().topLeft()).y())
    page.state.brush(0.0, 0.0)  # "your own setup": the longest text
    page.controls.layout().activate()
    places.add(brush.mapTo(page.controls, brush.rect().topLeft()).y())
    assert len(places) == 1, places
    text, box = page.controls.lesson_text, page.controls.lesson_box
    assert text.heightForWidth(box.viewport().width()) > box.height()  # the long text scrolls in its box
    assert box.verticalScrollBar().maximum() > 0


def test_the_wgan_gp_lesson_shows_the_critic_steps_its_text_names(qtbot, page):
    choose(page.controls.lesson, "wgan-gp-coverage")
    assert "five critic steps per generator step" in page.controls.lesson_text.text()
    assert page.controls.form.values()["critic_steps"] == 5
    page.start(paused=True)
    assert page.job.model.critic_steps == 5


def shown_lines(label) -> list[str]:
    """The lines a word-wrapped rich-text label lays its text out in at its width (word joiners dropped)."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setHtml(label.text())
    doc.setTextWidth(label.contentsRect().width())
    doc.size()  # lays it out
    block, lines = doc.firstBlock(), []
    while block.isValid():
        layout, text = block.layout(), block.text()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            lines.append(text[line.textStart():line.textStart() + line.textLength()].replace("\u2060", ""))
        block = block.next()
    return lines


def test_every_family_reads_whole_at_1366_by_768(qtbot, window):
    """One view, every lesson playing at 1340×730: the loss plot keeps its height (a GAN's "D loss"
    was ~40 px once the D-score legend wrapped, its labels drawn into each other), every number is
    read whole (the flow's "∫ p(x) dx over the view: 1" wrapped onto a cut third line) and no
    text on the page is clipped."""
    from tests.qt.test_playground_fit import assert_readable, fits, wait_drawn, wait_frames

    window.resize(1340, 730)
    window.show_page("playground")
    page = window.playground
    try:
        qtbot.mouseClick(page.play, Qt.LeftButton)
        for lesson in LESSONS:
            choose(page.controls.lesson, lesson.key)
            wait_frames(qtbot, page, 3)
            qtbot.waitUntil(lambda: len(page.pane._loss[0]) >= 2, timeout=30_000)
            page.pane.flush_loss()
            fits(window, qtbot, lesson.key)
            wait_drawn(qtbot, page.pane.loss)
            axis = page.pane.loss.getPlotItem().getAxis("left")
            assert axis.height() >= 70, (lesson.key, axis.height())  # 3-4 labels
            assert_readable(axis)
            stats = page.pane.stats
            assert stats.text() and stats.heightForWidth(stats.width()) <= stats.height(), (lesson.key, stats.text())
            lines = shown_lines(stats)
            for stat in re.findall(r"<span[^>]*>(.*?)</span>", stats.text()):  # each number on one line
                stat = html.unescape(stat).replace(" ", "\xa0").replace("\u2060", "")
                assert any(stat in line for line in lines), (lesson.key, stat, lines)
            bottom = stats.mapTo(page, stats.rect().bottomLeft()).y()
            assert bottom <= page.message.mapTo(page, page.message.rect().topLeft()).y(), lesson.key
    finally:
        handle = page.handle
        page.shutdown()
        if handle is not None:
            assert handle.wait(10)


def loss_steps(pane) -> list[int]:
    return list(pane._loss[0])


def test_compare_restarts_only_the_model_that_changed(qtbot, page):
    """Compare on, another right-hand family and One view each kept the left model and its curve
    (they restarted it: step 810 -> 0, "the last one had reached step 13,350"); the right model starts
    at 0, its loss curve on its own steps."""
    choose(page.controls.lesson, "autoregressive-bins")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frame(qtbot, page, 4 * page.state.speed)
    left = page.job
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    pair = page.job
    assert isinstance(pair, PlaygroundPair) and pair.model is left.model and pair.step >= 4 * page.state.speed
    assert page.running and not pair.paused and page.play.text() == "❚❚ Pause"
    assert page.message.text().startswith("Compare: Autoregressive")
    assert "— the left model goes on from step " in page.message.text()
    assert loss_steps(page.pane) and not loss_steps(page.pane_b)  # the left curve stays, the right one is new
    qtbot.waitUntil(lambda: len(loss_steps(page.pane_b)) >= 2, timeout=30_000)
    behind = page.views.b_behind  # fixed when Compare began (the job's two live step counts race its thread)
    assert behind >= 4 * page.state.speed
    assert loss_steps(page.pane_b)[0] <= 2 * page.state.speed  # B's curve starts at B's step, not A's
    assert loss_steps(page.pane)[-1] - loss_steps(page.pane_b)[-1] == behind
    choose(page.pane_b.family, "ddpm")  # another right-hand family: the left model still goes on
    assert page.job is not pair and page.job.model is left.model and page.job.other.model.name == "ddpm"
    assert page.job.step >= pair.step and page.job.other.step == 0
    wait_frame(qtbot, page, page.job.step + 1)
    step = page.job.step
    qtbot.mouseClick(page.compare, Qt.LeftButton)  # One view: the left model once more
    assert not isinstance(page.job, PlaygroundPair) and page.job.model is left.model and page.job.step >= step
    assert page.message.text().startswith("One view — the left model goes on from step ")
    choose(page.controls.family, "flow")  # the left family changes: that one does restart
    qtbot.waitUntil(lambda: page.job is not None and page.job.model is not left.model, timeout=5_000)
    assert "training restarted from step 0" in page.message.text()


def test_play_wears_the_main_action_look_like_every_pages_main_button(qtbot, page):
    """Play set objectName 'primary' while the style sheet matches the ``primary`` property
    (as Start, Run, Resume use it): it was drawn as a plain grey button. Its face is the violet
    #9b87ff when enabled."""
    play = page.play
    assert play.isEnabled()
    image = play.grab().toImage()
    face = image.pixelColor(image.width() // 2, 3)  # above the label, inside the border
    assert (face.red(), face.green(), face.blue()) == (0x9b, 0x87, 0xff)
