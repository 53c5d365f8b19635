"""A resume's first half on the Train page: the run's history is read off the UI thread (up to
its last checkpoint, as the resume will cut it, with its plot columns), shown in the page's
setup form, learning curves and samples, and only then is the training job handed back to be
launched, so the curve continues where the run stopped."""

from __future__ import annotations

import functools

from PySide6.QtCore import QObject, Signal, Slot

from ..run_history import RunHistory, preview_note, read_run_history
from ..runner import Latest


class ResumeHistory(QObject):
    """``open(job, path)`` shows the run's history, then emits ``ready(job, path)`` (also when
    the history cannot be read: the views are cleared and the job still runs); ``cancel()``
    (a Stop meanwhile) drops it. ``curves``: a ``LearningCurves`` (its plot exists by then)."""

    ready = Signal(object, str)  # the training job, its run folder

    def __init__(self, setup, curves, previews, parent: QObject | None = None):
        super().__init__(parent)
        self.setup, self.curves, self.previews = setup, curves, previews
        self._waiting: tuple | None = None  # (job, path) until its history is shown
        self._task = Latest(self, "run-history")
        self._task.succeeded.connect(self._on_task_succeeded)
        self._task.failed.connect(self._on_task_failed)

    @property
    def pending(self) -> bool:
        return self._waiting is not None

    def open(self, job, path: str) -> None:
        self._waiting = (job, path)
        self._task.submit(functools.partial(read_run_history, up_to_checkpoint=True), path)

    def cancel(self) -> str:
        """Drop the resume still reading its history; returns its run folder."""
        self._task.cancel()
        (_, path), self._waiting = self._waiting, None
        return path

    @Slot(object)
    def _on_task_succeeded(self, history: RunHistory) -> None:
        self.setup.show_spec(history.run.meta.get("spec", {}) | {"family": history.run.family})
        self.curves.plot.set_history(history.columns)  # made with the history, off this thread
        self.previews.set_history(history.previews)
        self.previews.set_note(preview_note(history.run.family))
        self._hand_back()

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self.curves.plot.clear()
        self.previews.clear()
        self._hand_back()

    def _hand_back(self) -> None:
        if self._waiting is not None:
            (job, path), self._waiting = self._waiting, None
            self.ready.emit(job, path)
