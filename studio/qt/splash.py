"""What shows while the app starts: a splash drawn with QPainter before torch is imported, and
a probe that measures the time to a visible window (``STUDIO_STARTUP_PROBE=FILE``; the
bundle script and the README's startup numbers use it)."""

from __future__ import annotations

import json
import os
import time

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen, QWidget

from . import theme

SIZE = (440, 220)


def show_splash(app: QApplication) -> QSplashScreen:
    """The icon, the name and 'Loading…' on the dark surface, painted and shown at once."""
    ratio = app.devicePixelRatio()
    pixmap = QPixmap(int(SIZE[0] * ratio), int(SIZE[1] * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor(theme.BACKGROUND))
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QColor(theme.BORDER))
    p.drawRect(QRectF(0.5, 0.5, SIZE[0] - 1, SIZE[1] - 1))
    icon = theme.app_icon().pixmap(88, 88)
    p.drawPixmap(36, 66, icon)
    title = QFont()
    title.setPixelSize(26)
    title.setBold(True)
    p.setFont(title)
    p.setPen(QColor(theme.TEXT))
    p.drawText(QRectF(144, 78, 280, 36), Qt.AlignLeft | Qt.AlignVCenter, "Generative Studio")
    body = QFont()
    body.setPixelSize(14)
    p.setFont(body)
    p.setPen(QColor(theme.MUTED))
    p.drawText(QRectF(146, 116, 280, 24), Qt.AlignLeft | Qt.AlignVCenter, "Loading PyTorch and the pages…")
    p.end()
    splash = QSplashScreen(pixmap)
    splash.show()
    app.processEvents()
    StartupProbe.mark("splash")
    return splash


class StartupProbe(QObject):
    """Writes the wall-clock times (``time.time()``) at which the splash was shown and the main
    window first painted into a JSON file, then quits the app: a harness that noted the time
    before launching the process gets the time to a visible window."""

    _marks: dict[str, float] = {}

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    @classmethod
    def from_environment(cls) -> "StartupProbe | None":
        path = os.environ.get("STUDIO_STARTUP_PROBE")
        return cls(path) if path else None

    @classmethod
    def mark(cls, name: str) -> None:
        cls._marks.setdefault(name, time.time())

    def watch(self, window: QWidget) -> None:
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Paint and "window" not in self._marks:
            self.mark("window")
            with open(self.path, "w", encoding="utf-8") as f:
                json.dump(self._marks, f)
            QTimer.singleShot(0, QApplication.instance().quit)  # from inside the event loop
        return False
