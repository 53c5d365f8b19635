"""Draws the playground job's frames into the page's panes without letting the UI thread fall
behind: only the newest frame is drawn (one that arrives while another waits replaces it), at
most ``DRAW_HZ`` a second, and one plot per event-loop turn, so no single turn (its setData and
the paint after it) holds the UI thread long. The job's frames are numpy arrays ready to draw."""

from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ...playground.compare import FramePair

DRAW_HZ = 30


class FrameDrawer(QObject):
    drawn = Signal(int)  # the step of the frame just drawn in full

    def __init__(self, panes: tuple, parent: QObject | None = None):
        super().__init__(parent)
        self.panes = panes
        self.frames_drawn = 0
        self._latest = None
        self._stages: list = []  # what is left to draw of the current frame
        self._last = 0.0
        self._wait = QTimer(self, singleShot=True)
        self._wait.timeout.connect(self._on_wait_timeout)
        self._turns = QTimer(self, interval=0)
        self._turns.timeout.connect(self._on_turns_timeout)

    def offer(self, frame) -> None:
        """A new frame (a ``Frame``, or a ``FramePair`` for two panes); drawn when its turn comes."""
        self._latest = frame
        self._schedule()

    def clear(self) -> None:
        """Drop what waits to be drawn (the run ended)."""
        self._latest, self._stages = None, []
        self._wait.stop()
        self._turns.stop()

    def _schedule(self) -> None:
        if self._latest is not None and not self._stages and not self._wait.isActive():
            self._wait.start(max(0, round(1000 * (1 / DRAW_HZ - (time.perf_counter() - self._last)))))

    @Slot()
    def _on_wait_timeout(self) -> None:
        frame, self._latest = self._latest, None
        if frame is None:
            return
        self._last = time.perf_counter()
        parts = list(zip(self.panes, frame.frames if isinstance(frame, FramePair) else (frame,)))
        self._stages = [*(partial(pane.show_main, part) for pane, part in parts),
                        *(partial(pane.show_side, part) for pane, part in parts if not pane.compact),
                        partial(self._done, frame.step)]
        self._turns.start()

    @Slot()
    def _on_turns_timeout(self) -> None:
        if self._stages:
            self._stages.pop(0)()
        if not self._stages:
            self._turns.stop()

    def _done(self, step: int) -> None:
        self._stages = []
        self.frames_drawn += 1
        self.drawn.emit(step)
        self._schedule()
