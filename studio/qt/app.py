"""``studio`` with no arguments: the window."""

from __future__ import annotations

import gc
import os
import signal
import sys

ORGANIZATION = "GenerativeStudio"
APPLICATION = "Generative Studio"


def _application(argv: list[str] | None = None):
    """The bare QApplication (made once) with its names: no theme yet, so it is quick."""
    from PySide6.QtWidgets import QApplication

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless: still runs (benchmarks, CI)
    app = QApplication.instance()
    if app is None:
        app = QApplication(["studio", *(argv or [])])
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
        app.setApplicationDisplayName(APPLICATION)
        app.setDesktopFileName("generative-studio")
    return app


def create_app(argv: list[str] | None = None):
    """The QApplication (made once), named, themed and with its icon."""
    from .theme import app_icon, apply_theme

    app = _application(argv)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    if not hasattr(app, "_studio_gc"):
        # Python's cyclic garbage collector runs in whichever thread allocates; when it frees a Qt
        # object in a job's thread, Qt warns ("Timers cannot be started from another thread") or
        # crashes. Collect on a timer in the GUI thread instead (pyqtgraph's GarbageCollector).
        from pyqtgraph.util.garbage_collector import GarbageCollector

        app._studio_gc = GarbageCollector(interval=1.0)
    # the UI thread competes with the training thread for the GIL: ask for it back sooner
    sys.setswitchinterval(0.002)
    return app


def main(argv: list[str] | None = None) -> int:
    """Open the window; return the exit code once it is closed.

    The window and its Train page paint before torch is imported (about 1 s from launch on a
    quiet 2-core machine); ``preload`` then imports torch and the pages' modules on a job thread,
    and the Train page fills in its forms when that is done."""
    from PySide6.QtCore import QTimer

    from . import preload
    from .main_window import MainWindow
    from .startup import StartupProbe

    app = create_app(argv)
    probe = StartupProbe.from_environment()
    preload.defer()  # the window's torch-needing parts wait for the import that starts below
    window = MainWindow()
    if probe is not None:
        probe.watch(window)
    window.show()
    # paint first: the import job holds the GIL for most of a second at a time at first
    QTimer.singleShot(0, preload.start)
    preload.when_loaded(gc.freeze)  # start-up objects (Qt, torch, pyqtgraph) live on: out of full collections
    # Ctrl-C in the terminal closes the window like its close button (the job stops with a checkpoint);
    # the timer gives Python a moment now and then to notice the signal
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer(interval=250)
    wake.timeout.connect(lambda: None)
    wake.start()
    code = app.exec()
    window.shutdown()  # a job still running (quit from elsewhere) stops with a checkpoint
    signal.signal(signal.SIGINT, previous)
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
