"""Short background work (loading a dataset preview, reading a run folder) off the UI thread.

One ``BackgroundTask`` per kind of request: only the latest request's result is delivered
(latest wins), so a user flicking through a combo box never sees a stale answer.
Results travel back through a signal of this GUI-thread object to its own ``@Slot``,
which Qt queues onto the GUI thread.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot


# the core words its errors for the command line; the window names its own fields instead
WINDOW_WORDS = {"pass --download (needs internet) or point --data-root at a folder holding": "choose a Data root "
                "holding", "--data-root": "the Data root", "pass --resolution": "choose a Size under Images",
                "--batch-size": "Batch size",
                "--steps": "Steps", "--lr": "Learning rate", "--seed": "Seed"}


def for_window(message: str) -> str:
    for cli, window in WINDOW_WORDS.items():
        message = message.replace(cli, window)
    return message


def plain_message(exc: BaseException) -> str:
    """An exception in words a user can act on: our errors carry their own sentence."""
    if isinstance(exc, ValueError) and str(exc):  # DatasetError, RunError, config errors
        return for_window(str(exc))
    if isinstance(exc, MemoryError):
        return "out of memory: try a smaller batch size or dataset"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class TaskCancelled(Exception):
    """Raised inside a task's ``progress`` call once the task has been cancelled or replaced."""


class BackgroundTask(QObject):
    succeeded = Signal(object)
    failed = Signal(str)
    progressed = Signal(int, int)  # done, total (for loads that report progress)
    partial = Signal(object)  # a result so far (a task that draws images shows them growing)

    _done = Signal(int, object, str)
    _progress = Signal(int, int, int)
    _partial = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._latest = 0
        self._running = 0
        self._done.connect(self._on_self_done)
        self._progress.connect(self._on_self_progress)
        self._partial.connect(self._on_self_partial)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def submit(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False) -> None:
        """Run ``fn(*args)`` in the pool; if asked, with ``progress=callable(done, total,
        partial=None)``, which stops the work (raising ``TaskCancelled``) once this request is
        cancelled or replaced by a newer one."""
        self._latest += 1
        self._running += 1
        ticket = self._latest

        def progress(done: int, total: int, partial: Any = None) -> None:
            if ticket != self._latest:
                raise TaskCancelled
            self._emit(self._progress, ticket, done, total)
            if partial is not None:
                self._emit(self._partial, ticket, partial)

        def job() -> None:
            kwargs = {"progress": progress} if with_progress else {}
            try:
                result, error = fn(*args, **kwargs), ""
            except TaskCancelled:  # nobody waits for the result: drop it
                result, error = None, "cancelled"
            except Exception as exc:  # reported to the UI in words
                if not isinstance(exc, ValueError):  # a bug, not a user's input: keep the trace
                    traceback.print_exc()
                result, error = None, plain_message(exc)
            self._emit(self._done, ticket, result, error)

        QThreadPool.globalInstance().start(job)

    def cancel(self) -> None:
        """Forget pending requests (their results are dropped)."""
        self._latest += 1

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiver was deleted (window closed): nobody is waiting
            pass

    @Slot(int, object, str)
    def _on_self_done(self, ticket: int, result: object, error: str) -> None:
        self._running -= 1
        if ticket != self._latest:
            return
        if error:
            self.failed.emit(error)
        else:
            self.succeeded.emit(result)

    @Slot(int, int, int)
    def _on_self_progress(self, ticket: int, done: int, total: int) -> None:
        if ticket == self._latest:
            self.progressed.emit(done, total)

    @Slot(int, object)
    def _on_self_partial(self, ticket: int, partial: object) -> None:
        if ticket == self._latest:
            self.partial.emit(partial)
