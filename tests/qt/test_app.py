"""`studio` with no arguments: studio.qt.app.main opens the window and returns the exit code."""

from PySide6.QtCore import QTimer
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
    for page in window.pages:
        window.show_page(page)
        qtbot.wait(20)
        need = window.minimumSizeHint().expandedTo(window.minimumSize())
        assert need.width() <= 1340 and need.height() <= 730, (page, need.toTuple())
