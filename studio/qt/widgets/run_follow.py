"""The Runs page's live view: while another process trains the chosen run (a terminal, rank 0 of
a torchrun on a server, a synced folder), its curves and samples grow as its files do
(``studio.engine.follow`` on the window's runner), and the page marks it "live"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ...engine.control import Control
from ...engine.follow import FollowState, follow_job
from ...engine.jobs import Job
from ...engine.reporting import Progress, Reporter
from ..runner import JobHandle, runner
from .curve_data import History, history_columns

BATCH = 256  # a poll with at least this many records reaches the UI as plot columns


@dataclass(frozen=True)
class FollowBatch:
    """A poll's many records (a long run's backlog when following starts, or a burst) as plot
    columns made in the follow job's thread, with the ``FollowState`` after that poll."""

    columns: History
    state: FollowState


class _Batching(Reporter):
    """Between ``follow_job`` and the runner's reporter, in the job's thread: holds a poll's
    records (the poll ends with ``partial``) and passes them on one by one when few, or as one
    ``FollowBatch`` of columns when many, delivered at once (``flush``) so no later partial
    replaces it. Without it a 100k-step run's backlog reached ``MetricsPlot.add_records`` as
    100k records: 0.3 s of Python on the UI thread."""

    def __init__(self, inner: Reporter):
        self.inner, self.held = inner, []

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.held.append((step, values))

    def partial(self, value: Any) -> None:
        held, self.held = self.held, []
        if len(held) >= BATCH:
            self.inner.partial(FollowBatch(history_columns([{"step": s, **v} for s, v in held]), value))
            getattr(self.inner, "flush", lambda: None)()
            return
        for step, values in held:
            self.inner.metrics(step, values)
        self.inner.partial(value)

    def progress(self, progress: Progress) -> None:
        self.inner.progress(progress)

    def preview(self, step: int, grid: Any) -> None:
        self.inner.preview(step, grid)

    def status(self, message: str) -> None:
        self.inner.status(message)


def batched_follow_job(path: str, interval_s: float = 1.0) -> Job:
    """``follow_job`` whose polls of many records come as one ``FollowBatch`` partial result."""
    inner = follow_job(path, interval_s)

    def job(reporter: Reporter, control: Control) -> None:
        return inner(_Batching(reporter), control)

    return job


class RunFollow(QObject):
    """Shows a run's history in a ``MetricsPlot`` and a ``PreviewStrip`` and, while run.json says it
    is training, feeds them from its folder; ``title`` (a label) gets " · live" meanwhile."""

    live_changed = Signal(bool)

    def __init__(self, plot, previews, title, parent: QObject | None = None, interval_s: float = 1.0):
        super().__init__(parent)
        self.plot, self.previews, self.title, self.interval_s = plot, previews, title, interval_s
        self.handle: JobHandle | None = None
        self.path: str | None = None
        self.name = ""
        self.live = False
        self._resets = 0

    def show(self, history) -> None:
        """Show ``history`` (``run_history.read_run_history``) and follow its run if run.json says
        it is training (here, in a terminal, on a server, in a synced folder)."""
        run = history.run
        following = run.meta.get("status") == "running"
        if not (following and self.path == str(run.path)):  # a followed run's view grows by itself
            self.plot.set_history(history.columns)  # made with the history, off this thread
            self.previews.set_history(history.previews)
        self.name = run.name
        self.follow(str(run.path) if following else None)
        self.title.setText(self.name + (" · live" if self.live else ""))

    def clear(self) -> None:
        """Stop following; empty the views."""
        self.follow(None)
        self.plot.clear()
        self.previews.clear()

    def follow(self, path: str | None) -> None:
        """Follow the run at ``path`` (its whole curve and last grids come first; the view is
        cleared for them); None stops following."""
        if path is not None and path == self.path and self.handle is not None:
            return
        self.stop()
        if path is None:
            return
        self.path, self._resets = path, 0
        self.plot.clear()
        self.previews.clear()
        self.handle = handle = runner().start(batched_follow_job(path, self.interval_s), "follow")
        handle.metrics_reported.connect(self._on_handle_metrics_reported)
        handle.preview_ready.connect(self._on_handle_preview_ready)
        handle.partial_ready.connect(self._on_handle_partial_ready)

    def stop(self) -> None:
        handle, self.handle, self.path = self.handle, None, None
        if handle is not None:
            handle.muted = True  # deletes itself when its thread ends
            handle.cancel()
        self._set_live(False)

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            if self.name:
                self.title.setText(self.name + (" · live" if live else ""))
            self.live_changed.emit(live)

    @Slot(list)
    def _on_handle_metrics_reported(self, records: list) -> None:
        self.plot.add_records(records)

    @Slot(int, object)
    def _on_handle_preview_ready(self, step: int, grid) -> None:
        self.previews.add(step, grid)

    @Slot(object)
    def _on_handle_partial_ready(self, value: FollowState | FollowBatch) -> None:
        state = value.state if isinstance(value, FollowBatch) else value
        if state.resets > self._resets:  # cut back by a resume: draw its curve afresh
            path, self.path = self.path, None
            self.follow(path)
            return
        if isinstance(value, FollowBatch):
            self.plot.add_columns(value.columns)
        self.plot.last_step = max(state.target_step, state.step)
        self._set_live(state.live)
