"""The probe that times start-up (``STUDIO_STARTUP_PROBE=FILE``; ``packaging/startup_time.py``
and the README's start-up figures use it).

It writes the wall-clock times (``time.time()``) of four moments into a JSON file, then quits
the app, so a harness that noted the time before launching the process gets each from launch:

- ``window``: the main window's first paint (the Train page, before PyTorch is imported);
- ``usable``: the Train page's forms are filled in and Start is enabled (torch-free: a Start
  clicked before torch and the images are in waits for them, "Preparing…");
- ``loaded``: PyTorch and the core are imported (the devices listed, the plot made);
- ``ready``: the dataset's summary is in as well: a Start begins the run at once.
"""

from __future__ import annotations

import json
import os
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from . import preload

MARKS = ("window", "usable", "loaded", "ready")


class StartupProbe(QObject):
    def __init__(self, path: str, timeout_s: float = 120.0):
        super().__init__()
        self.path = path
        self.marks: dict[str, float] = {}
        self._window = None
        self._poll = QTimer(self, interval=10)
        self._poll.timeout.connect(self._check)
        QTimer.singleShot(int(timeout_s * 1000), self._write_and_quit)  # never hangs a harness

    @classmethod
    def from_environment(cls) -> "StartupProbe | None":
        path = os.environ.get("STUDIO_STARTUP_PROBE")
        return cls(path) if path else None

    def watch(self, window) -> None:
        """Time ``window`` (a MainWindow): its first paint, Start enabled, the core loaded, nothing pending."""
        self._window = window
        window._startup_probe = self  # lives as long as the window
        window.installEventFilter(self)
        preload.when_loaded(self._on_core_loaded)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Paint and "window" not in self.marks:
            self.marks["window"] = time.time()
            self._poll.start()
        return False

    def _on_core_loaded(self) -> None:
        # the callbacks before this one filled the Train page in; this marks it once painted
        QTimer.singleShot(0, lambda: self.marks.setdefault("loaded", time.time()))

    def _check(self) -> None:
        train = self._window.train
        now = time.time()
        if train.setup.model_form is not None and train.controls.start_button.isEnabled():
            self.marks.setdefault("usable", now)
        if "loaded" in self.marks and "usable" in self.marks and not train.setup.pending:
            self.marks["ready"] = now
            self._write_and_quit()

    def _write_and_quit(self) -> None:
        self._poll.stop()
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(self.marks, f)
        QTimer.singleShot(0, QApplication.instance().quit)  # from inside the event loop
