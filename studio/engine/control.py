"""Pause / resume / stop flags that a job checks between steps (thread-safe)."""

from __future__ import annotations

import threading


class Control:
    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused job so it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, on_pause=None) -> bool:
        """Block while paused; return True when the job should stop."""
        if not self._running.is_set():
            if on_pause is not None:
                on_pause()
            self._running.wait()
        return self._stop.is_set()
