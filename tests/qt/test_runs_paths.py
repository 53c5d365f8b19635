"""The run folder's path on the Runs page: shown whole (wrapped, no invisible characters), copied
by a button, Ctrl+C on a row and the row's menu; "Show in folder" with no file manager says where
it is; the table keeps room for rows and its empty state speaks of runs; the run's name (the
title) is shown whole and selected by a mouse drag."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDesktopServices, QGuiApplication, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.runs import Run, default_runs_root
from tests.qt.test_runs_page import _open

LONG = "averyveryverylongrunfoldername_" * 4 + "vae-2026"  # as the tester named it


def _run(name: str) -> Path:
    path = default_runs_root() / name
    Run.create(path, {"family": "vae", "data": "fashion-mnist-5k", "status": "finished",
                      "image_shape": [1, 28, 28]}).close()
    return path


def test_the_whole_path_is_shown_wrapped_and_copied_as_it_is(window, qtbot):
    window.resize(1366, 768)
    path = _run(LONG)
    runs = _open(window, qtbot, path)
    qtbot.waitUntil(lambda: runs.path_text.isVisible())
    assert runs.path_text.text() == str(path)  # the path, whole
    assert runs.path_text.width() <= runs.width()  # wraps within the page
    assert runs.path_text.document().size().height() > runs.path_text.fontMetrics().height() * 1.5  # 2+ lines
    clipboard = QGuiApplication.clipboard()
    runs.copy_path_button.click()
    assert clipboard.text() == str(path)
    clipboard.setText("")
    runs.path_text.selectAll()
    runs.path_text.copy()
    assert clipboard.text() == str(path)  # the selection: no U+200B (the old wrapping trick)
    assert "\u200b" not in runs.info.text() and "\u200b" not in runs.info.toHtml()
    clipboard.setText("")
    runs.table.setFocus()
    qtbot.keyClick(runs.table, Qt.Key_C, Qt.ControlModifier)
    assert clipboard.text() == str(path)  # Ctrl+C on the row: the path (was the name cell)
    names = {a.text(): a for a in runs.table.row_menu(str(path)).actions()}
    names["Copy name"].trigger()
    assert clipboard.text() == LONG
    names["Copy path"].trigger()
    assert clipboard.text() == str(path)


def test_show_in_folder_without_a_file_manager_says_where(window, qtbot, monkeypatch):
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    path = _run("no-file-manager")
    runs = _open(window, qtbot, path)
    runs.reveal_button.click()
    box = next(b for b in runs.findChildren(QMessageBox) if b.isVisible())
    assert str(path) in box.text()
    copy = next(b for b in box.buttons() if b.text() == "Copy path")
    copy.click()
    assert QGuiApplication.clipboard().text() == str(path)
    assert box.isVisible()  # copying leaves it open to read
    box.close()


def test_the_table_keeps_six_rows_and_its_empty_state_speaks_of_runs(window, qtbot):
    runs = window.runs
    window.resize(1366, 768)
    window.show_page("runs")
    qtbot.waitUntil(lambda: runs.plot.empty.text().startswith("No runs yet"), timeout=10_000)
    assert not default_runs_root().exists()
    path = _run("one")  # the runs folder is made now: its parent was watched, no Refresh needed
    runs = _open(window, qtbot, path)
    qtbot.wait(50)
    rows = runs.table.viewport().height() / runs.table.verticalHeader().defaultSectionSize()
    assert rows >= 6, rows  # was 3: the details took the room
    assert runs.plot.isVisible() and runs.plot.height() >= 150


def test_wrap_text_wraps_a_long_word_anywhere_and_keeps_its_text(qtbot):
    """A 144-character folder name (no space, "/" or "-") must not set the least width (a QLabel's
    was 973 px and widened the page); the text, selected and copied, is the text: no U+200B."""
    from studio.qt.widgets.wrap_text import WrapText

    path = "/home/someone/" + "verylongfoldername" * 8 + "/a&b<c>.npz"
    text = WrapText(path, "muted")
    qtbot.addWidget(text)
    text.resize(300, 10)
    assert text.minimumSizeHint().width() < 300
    assert text.height() > 3 * text.fontMetrics().height()  # wrapped inside the word, grown to fit
    assert text.text() == path and "\u200b" not in text.toHtml()
    text.setText("vae on <b>x</b><br>second line")  # text shows as it is, never as HTML (a run's name)
    assert text.text() == "vae on <b>x</b><br>second line"
    text.set_rich_text("vae on <b>x</b><br>second line")  # markup only when asked for
    assert text.text() == "vae on x\nsecond line"


def test_the_train_page_message_wraps_a_long_run_path_inside_its_card(window, qtbot):
    """The Train page's "Finished …; run folder: PATH" line: a 150-character path ran past the
    card's edge (it wrapped only at "/"); now it wraps inside it and copies as it is."""
    window.resize(1366, 768)
    window.show_page("train")
    controls = window.train.controls
    path = str(default_runs_root() / LONG) + "_and_more_and_more"
    text = f"Finished at step 50; run folder: {path}"
    controls.set_message(text)
    qtbot.wait(50)
    message = controls.message
    right = message.mapTo(window, message.rect().topRight()).x()
    card = controls.parentWidget()
    assert right <= card.mapTo(window, card.rect().topRight()).x()  # inside its card
    assert message.document().size().width() <= message.viewport().width()  # no line runs past it
    assert message.text() == text
    message.selectAll()
    message.copy()
    assert QGuiApplication.clipboard().text() == text  # no U+200B


def test_wrapped_text_is_not_handed_the_focus_when_a_button_goes_off():
    """Start disables itself when clicked; Qt then hands the focus to the next widget in the tab
    chain that takes tab focus. The Train page's message (a WrapText) took it and showed a blinking
    text caret before "Training vae…" (seen on Xvfb). A click still selects (and Ctrl+C copies)."""
    from studio.qt.widgets.wrap_text import WrapText

    text = WrapText()
    assert not text.focusPolicy() & Qt.TabFocus and text.focusPolicy() & Qt.ClickFocus


def _drag(widget, start: QPoint, end: QPoint) -> None:
    """A left-button drag from ``start`` to ``end`` (widget coordinates), as a mouse makes it."""
    QTest.mousePress(widget, Qt.LeftButton, Qt.NoModifier, start)
    for pos in (start + QPoint(5, 0), end):
        QApplication.sendEvent(widget, QMouseEvent(QEvent.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)),
                                                   Qt.NoButton, Qt.LeftButton, Qt.NoModifier))
    QTest.mouseRelease(widget, Qt.LeftButton, Qt.NoModifier, end)


def test_the_run_name_is_shown_whole_and_a_mouse_drag_selects_it(window, qtbot):
    """The title of a long-named run wraps instead of ending in "…" (it was an ElidedLabel) and is
    selectable by mouse: dragged across and copied, it gives the whole name."""
    window.resize(1366, 768)
    name = "lr-sweep-vae-fashion-mnist-latent-32-beta-0.5-second-attempt"
    assert len(name) == 60
    runs = _open(window, qtbot, _run(name))
    title = runs.title
    qtbot.waitUntil(title.isVisible)
    assert title.text() == name
    assert title.textInteractionFlags() & Qt.TextSelectableByMouse
    assert title.height() >= title.document().size().height()  # every line of it on show
    viewport = title.viewport()
    _drag(viewport, QPoint(1, 3), QPoint(viewport.width() - 1, viewport.height() - 3))
    assert title.textCursor().selectedText() == name
    QGuiApplication.clipboard().setText("")
    title.copy()
    assert QGuiApplication.clipboard().text() == name

    long_name = ("an-artist-named-this-run-after-everything-she-tried-on-a-rainy-afternoon-with-the-vae-and-a-"
                 "lower-learning-rate-than-before-and-a-bigger-latent-space")
    _open(window, qtbot, _run(long_name))
    assert title.text() == long_name and "…" not in title.toPlainText()
    assert title.document().size().height() > 1.5 * title.fontMetrics().height()  # wrapped onto 2+ lines
    assert title.height() >= title.document().size().height() and title.width() <= runs.width()
