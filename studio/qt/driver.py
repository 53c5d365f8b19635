"""Driving the real window from a script (screenshots, the artist's-path walk-through): a
scratch runs folder and settings so the user's own are untouched, the app, and two waits that
keep the event loop turning."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


class Driver:
    def __init__(self, prefix: str = "studio-drive-"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        self.scratch = Path(tempfile.mkdtemp(prefix=prefix))
        os.environ["STUDIO_RUNS_DIR"] = str(self.scratch / "runs")
        from PySide6.QtCore import QSettings

        from .app import create_app

        self.app = create_app()
        QSettings.setDefaultFormat(QSettings.IniFormat)
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(self.scratch / "settings"))

    def settle(self, seconds: float = 0.4) -> None:
        """Let the window run for ``seconds`` (animations, late paints)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def wait_until(self, condition, timeout: float = 600.0) -> float:
        """Turn the event loop until ``condition()`` holds; the seconds it took. Raises
        TimeoutError naming the wait after ``timeout`` seconds."""
        start = time.monotonic()
        while not condition():
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"the window did not get there within {timeout:.0f} s")
            self.app.processEvents()
            time.sleep(0.01)
        return time.monotonic() - start
