"""Pause / resume / stop / cancel flags that a job checks between steps (thread-safe).

``stop()`` asks for a graceful end (a training run finishes its step, checkpoints with
its held-out evaluation and ends "stopped"); ``cancel()`` asks for the quickest safe end
(training still checkpoints, but skips the evaluation; other jobs raise ``Cancelled`` at
their next ``check()``). Both wake a paused job.
"""

from __future__ import annotations

import threading

from ..errors import Cancelled


class Control:
    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._cancel = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused job so it can stop

    def cancel(self) -> None:
        self._cancel.set()
        self.stop()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait_while_paused(self, on_pause=None, on_resume=None) -> bool:
        """Block while paused; return True when the job should stop. ``on_pause`` is called
        when the pause begins, ``on_resume`` when it ends (unless the job is stopping)."""
        if not self._running.is_set():
            if on_pause is not None:
                on_pause()
            self._running.wait()
            if on_resume is not None and not self._stop.is_set():
                on_resume()
        return self._stop.is_set()

    def check(self) -> None:
        """Wait while paused; raise ``Cancelled`` once stopped or cancelled (for jobs
        whose only way to end early is to give up)."""
        if self.wait_while_paused():
            raise Cancelled()
