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
