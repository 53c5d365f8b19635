"""`studio` with no arguments: studio.qt.app.main opens the window and returns the exit code."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication


def test_main_opens_the_window_and_returns_when_it_is_closed(qapp):
    from studio.qt.app import main

    seen = []

    def close_all():
        seen.extend(w.windowTitle() for w in QApplication.topLevelWidgets() if w.isVisible())
        QApplication.closeAllWindows()

    QTimer.singleShot(300, close_all)
    assert main([]) == 0
    assert "Generative Studio" in seen


def test_the_window_fits_a_1366_by_768_laptop_screen_on_every_page(window, qtbot):
    """A 1366×768 screen leaves about 1340×730 for a window (frame, task bar): no page may
    demand more, or the window spills off a common laptop screen (not even with a long
    run folder in the status bar)."""
    window.train.status_posted.emit("finished at step 120; run folder: " + "/a/long/path" * 40)
    window.diffusion.top.say("Saved diffusion.gif in " + "/a/long/folder" * 60)  # a page's own message line
    for page in window.pages:
        window.show_page(page)
        qtbot.wait(20)
        need = window.minimumSizeHint().expandedTo(window.minimumSize())
        assert need.width() <= 1340 and need.height() <= 730, (page, need.toTuple())


def _fits(window, qtbot, state: str) -> None:
    qtbot.wait(20)
    need = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert need.width() <= 1340 and need.height() <= 730, (state, need.toTuple())


def test_the_train_page_fits_1366_by_768_in_every_state(window, tiny_run, qtbot):
    """Idle, running, paused, stopped, finished and failed, with Settings shown again after a run
    and long messages: the window never asks for more than a 1366×768 laptop gives it."""
    panel = window.train
    window.resize(1340, 730)
    _fits(window, qtbot, "idle")
    tiny_run(panel, steps=100_000)
    with qtbot.waitSignal(panel.run_started, timeout=60_000):
        panel.start()
    qtbot.waitUntil(lambda: panel.controls.last is not None and panel.controls.last.step >= 2, timeout=60_000)
    _fits(window, qtbot, "running")
    panel.toggle_pause()
    qtbot.waitUntil(lambda: panel.controls.headline.text().startswith("Paused"), timeout=10_000)
    _fits(window, qtbot, "paused")
    with qtbot.waitSignal(panel.run_ended, timeout=30_000):
        panel.stop()
    _fits(window, qtbot, "stopped")
    assert panel.setup_area.isVisible()
    tiny_run(panel, steps=30)
    with qtbot.waitSignal(panel.run_ended, timeout=120_000):
        panel.start()
    assert panel.controls.headline.text() == "Finished · 30 steps"
    _fits(window, qtbot, "finished")
    panel.controls.show_outcome("failed")
    panel.controls.set_message("training failed at step 1,234,567: " + "a very long reason " * 30, "error")
    _fits(window, qtbot, "failed")
    assert window.width() <= 1340


def test_help_menu_opens_the_glossary(window, qtbot):
    actions = [a.text() for a in window.help_button.menu().actions()]
    assert actions[0].startswith("Glossary") and "F1" in actions[0]
    window.help_button.glossary()
    dialog = window.help_button.dialogs["glossary"]
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    assert "Latent cost" in dialog.text.toPlainText() and "KL divergence" in dialog.text.toPlainText()
    dialog.close()


def test_each_page_has_its_own_idle_line_in_the_status_bar(window, qtbot):
    """The status bar speaks for the page on show: the drop hint on Train; elsewhere the page's
    own line, which says that a dropped folder opens Train."""
    from studio.qt.main_window import DROP_HINT, IDLE_LINES

    seen = {}
    for page in window.pages:
        window.show_page(page)
        seen[page] = window.status.text()
        assert seen[page] == IDLE_LINES[page]
    assert seen["train"] == DROP_HINT and len(set(seen.values())) == len(seen)
    assert all(line.endswith("(opens Train).") for page, line in seen.items() if page != "train")
    assert "Ctrl+Enter" in seen["diffusion"] and "F5" in seen["runs"] and "Play" in seen["playground"]


def test_a_folder_dragged_over_any_page_is_taken_by_the_window_and_opens_train(window, qtbot, tmp_path):
    """What the other pages' idle line promises: a folder dragged over any of them (even over a
    part that takes dropped pictures, like the Diffusion viewer's Edit page) reaches the window,
    and dropping it opens the Train page with the folder as the dataset."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    folder = tmp_path / "my pictures"
    folder.mkdir()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    window.show_page("diffusion")
    window.diffusion.mode_buttons.button(3).click()  # Edit a picture: takes dropped pictures, not folders
    for page, target in (("latent", window.latent), ("diffusion", window.diffusion.edit), ("runs", window.runs.table),
                         ("playground", window.playground)):
        window.show_page(page)
        event = QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(target, event)  # Qt passes it up to the first widget that accepts it
        assert event.isAccepted(), page
        window.dropEvent(QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
        assert window.page == "train", page
        assert window.train.setup.dataset.spec == f"folder:{folder.resolve()}"
        qtbot.waitUntil(lambda: not window.train.setup.dataset.loading, timeout=20_000)


def test_the_diffusion_viewers_ready_line_names_the_button_of_its_mode(window, trained_run, qtbot):
    """On the Edit page the button reads ▶ Edit: its ready line says so (it said "press Run"),
    opened there or switched to; a line saying something else is left as it is."""
    page = window.diffusion
    window.show_page("diffusion")
    page.mode_buttons.button(3).click()
    page.open_run(trained_run("ddpm"))
    qtbot.waitUntil(lambda: page.model is not None, timeout=30_000)
    line = page.top.message.text
    assert "press ▶ Edit" in line() and page.top.run_button.text() == "▶  Edit"
    page.mode_buttons.button(0).click()
    assert "press Run" in line() and page.top.run_button.text() == "▶  Run"
    page.mode_buttons.button(1).click()
    assert page.pair.compare_button.text() in line()
    page.top.say("Saved a.gif in /tmp")
    page.mode_buttons.button(3).click()
    assert line() == "Saved a.gif in /tmp"
