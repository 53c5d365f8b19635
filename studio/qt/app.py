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


def create_app(argv: list[str] | None = None, eager: bool = True):
    """The QApplication (made once), named, themed and with its icon. ``eager=False`` leaves
    what needs pyqtgraph (the plots' colours, the collector's timer) to the caller: ``open_window``
    sets them up once pyqtgraph has been imported off the UI thread."""
    from .theme import app_icon, apply_theme

    app = _application(argv)
    app.setWindowIcon(app_icon())
    apply_theme(app, plots=eager)
    if eager:
        collect_on_gui_thread(app)
    # the UI thread competes with the training thread for the GIL: ask for it back sooner
    sys.setswitchinterval(0.002)
    return app


def collect_on_gui_thread(app) -> None:
    """Python's cyclic garbage collector runs in whichever thread allocates; when it frees a Qt
    object in a job's thread, Qt warns ("Timers cannot be started from another thread") or
    crashes. Collect on a timer in the GUI thread instead (pyqtgraph's GarbageCollector, which
    turns the automatic collection off)."""
    if not hasattr(app, "_studio_gc"):
        from pyqtgraph.util.garbage_collector import GarbageCollector

        app._studio_gc = GarbageCollector(interval=1.0)


def open_window(argv: list[str] | None = None):
    """The app and its window, shown: the window and its Train page paint before torch is
    imported (about 1 s from launch on a quiet 2-core machine); ``preload`` then imports torch,
    pyqtgraph and the pages' modules on a job thread (from the event loop's first turn), and the
    Train page fills in its forms when that is done. Returns ``(app, window)``."""
    from PySide6.QtCore import QTimer

    from . import preload
    from .main_window import MainWindow
    from .startup import StartupProbe
    from .theme import theme_plots

    gc.disable()  # until the collector's timer runs: no collection in the import job's thread
    app = create_app(argv, eager=False)
    probe = StartupProbe.from_environment()
    preload.defer()  # the window's torch-needing parts wait for the import that starts below
    # first of the callbacks once the core is in (the Train page's plot is made by a later one);
    # start-up objects (Qt, torch, pyqtgraph) live on: frozen out of full collections
    preload.when_loaded(lambda: (theme_plots(), gc.freeze(), collect_on_gui_thread(app)), lambda _: gc.enable())
    window = MainWindow()
    if probe is not None:
        probe.watch(window)
    window.show()
    # paint first: the import job holds the GIL for most of a second at a time at first
    QTimer.singleShot(0, preload.start)
    return app, window


def main(argv: list[str] | None = None) -> int:
    """Open the window; return the exit code once it is closed."""
    from PySide6.QtCore import QTimer

    app, window = open_window(argv)
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
