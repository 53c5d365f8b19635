"""The one Qt runner for all background work (Orange3's ``ConcurrentMixin`` in spirit).

Every long piece of work is a core job, ``job(reporter, control) -> result``
(``studio.engine.jobs``). ``Runner.start`` runs it on a thread of its own and returns a
``JobHandle``, a GUI-thread QObject whose signals carry what the job reported:

- ``progressed(Progress)``, ``metrics_reported([(step, seconds, {name: float}), …])`` and
  ``partial_ready(value)`` are rate-limited (at most ``REPORT_HZ`` a second: metrics
  coalesced, the newest progress and partial result kept), so a job reporting every step never
  floods the UI thread;
- ``preview_ready(step, grid)`` and ``status_changed(str)`` arrive every time, at once (after
  what was pending); ``finished(Outcome)`` comes last.

``Latest`` is a channel on top of it that keeps only the newest request (a user flicking
through a list, a slider being dragged): ``supersede=True`` cancels the running request and
drops its result; ``supersede=False`` lets it finish and deliver, and keeps one pending
request that newer ones replace (the latent decoder's latest-wins slot).

This module is the one place in the code that creates worker threads. ``Runner.shutdown``
cancels everything it started and joins it, so closing the window never waits on work nobody
wants (a training job still checkpoints: it treats a cancel as "stop now, skip the held-out
evaluation").

Rules kept from the measurements of the first wave: worker signals reach the UI only through
``@Slot`` methods of GUI-thread QObjects (a plain function or lambda connected to a signal
emitted in a worker thread runs in that thread); only floats, ints, strings, uint8 numpy arrays
and finished core objects cross to the UI.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..engine.control import Control
from ..engine.jobs import Job, Outcome, progress_callback, run_job
from ..engine.reporting import Progress, Reporter

REPORT_HZ = 25


class _ThreadReporter(Reporter):
    """Lives in the job's thread; coalesces the job's calls into the handle's private signals."""

    def __init__(self, handle: "JobHandle", interval_s: float, prepare: Callable[[Any], Any] | None = None):
        self._handle, self._interval, self._prepare = handle, interval_s, prepare
        self._pending: list[tuple[int, float, dict]] = []
        self._progress: Progress | None = None
        self._partial: list[Any] = []  # the newest partial result, if one is waiting
        self._next = 0.0
        self._t0 = time.perf_counter()
        self._frozen = False

    def progress(self, progress: Progress) -> None:
        if not self._frozen:
            # the first step imports torch's lazy modules (~200k objects); full collections walking
            # them stalled both threads 100-200 ms (measured): exempt what exists now
            gc.freeze()
            self._frozen = True
        self._progress = progress
        if progress.paused:  # nothing follows a pause until it ends: deliver it now
            self.flush()
        else:
            self._maybe_flush()

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self._pending.append((step, time.perf_counter() - self._t0, dict(values)))

    def preview(self, step: int, grid: Any) -> None:
        if self._prepare is not None:  # here, in the job's thread: not on the UI thread
            grid = self._prepare(grid)
        self.flush()
        self._handle._emit(self._handle._preview, step, grid)

    def partial(self, value: Any) -> None:
        self._partial = [value]
        self._maybe_flush()

    def status(self, message: str) -> None:
        self.flush()
        self._handle._emit(self._handle._status, message)

    def _maybe_flush(self) -> None:
        now = time.perf_counter()
        if now >= self._next:
            self._next = now + self._interval
            self.flush()

    def flush(self) -> None:
        handle = self._handle
        if self._pending:
            pending, self._pending = self._pending, []
            handle._emit(handle._metrics, pending)
        if self._progress is not None:
            progress, self._progress = self._progress, None
            handle._emit(handle._progress, progress)
        if self._partial:
            value, self._partial = self._partial[0], []
            handle._emit(handle._partial, value)


class JobHandle(QObject):
    """One started job, seen from the GUI thread."""

    progressed = Signal(object)  # engine.Progress
    metrics_reported = Signal(list)  # [(step, seconds since start, {name: float}), ...]
    preview_ready = Signal(int, object)  # step, a picture (uint8 H×W×C)
    partial_ready = Signal(object)  # the result so far
    status_changed = Signal(str)
    finished = Signal(object)  # engine.jobs.Outcome

    # emitted from the job's thread, received by this GUI-thread object's slots (queued)
    _progress = Signal(object)
    _metrics = Signal(list)
    _preview = Signal(int, object)
    _partial = Signal(object)
    _status = Signal(str)
    _done = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.control = Control()
        self.outcome: Outcome | None = None
        self.muted = False  # a superseded request: nothing more is delivered
        self._thread: threading.Thread | None = None
        self._progress.connect(self._on_self_progress)
        self._metrics.connect(self._on_self_metrics)
        self._preview.connect(self._on_self_preview)
        self._partial.connect(self._on_self_partial)
        self._status.connect(self._on_self_status)
        self._done.connect(self._on_self_done)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        self.control.cancel()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job's thread has ended; True if it has."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the handle was deleted (window closed): nobody is listening
            pass

    @Slot(object)
    def _on_self_progress(self, progress) -> None:
        if not self.muted:
            self.progressed.emit(progress)

    @Slot(list)
    def _on_self_metrics(self, records) -> None:
        if not self.muted:
            self.metrics_reported.emit(records)

    @Slot(int, object)
    def _on_self_preview(self, step, value) -> None:
        if not self.muted:
            self.preview_ready.emit(step, value)

    @Slot(object)
    def _on_self_partial(self, value) -> None:
        if not self.muted:
            self.partial_ready.emit(value)

    @Slot(str)
    def _on_self_status(self, message) -> None:
        if not self.muted:
            self.status_changed.emit(message)

    @Slot(object)
    def _on_self_done(self, outcome) -> None:
        self.outcome = outcome
        if self.muted:  # superseded: nobody holds it any more
            self.deleteLater()
        else:
            self.finished.emit(outcome)


class Runner(QObject):
    """Starts jobs on threads and ends them all on ``shutdown``. One per application
    (``runner()``); tests may make their own."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._handles: list[JobHandle] = []
        self._lock = threading.Lock()
        self.closed = False

    def start(self, job: Job, name: str = "job", threads: int | None = None,
              interval_s: float = 1 / REPORT_HZ, prepare: Callable[[Any], Any] | None = None) -> JobHandle:
        """Run ``job(reporter, control)`` on a new thread. ``threads`` sets torch's intra-op
        threads while the job runs (and puts the previous count back after); ``interval_s``
        is the least time between rate-limited deliveries; ``prepare`` is applied to each
        preview in the job's thread (pixels made ready for display off the UI thread).

        The handle has no Qt parent: the runner holds it until the job's thread has ended, so
        a page deleted while its job still runs never deletes the object the job's thread
        emits on (that crashed a worker with a segmentation fault)."""
        handle = JobHandle(name)
        if self.closed:  # the window is closing: nothing new starts
            handle.control.cancel()
        reporter = _ThreadReporter(handle, interval_s, prepare)

        def main() -> None:
            before = _set_threads(threads)
            try:
                outcome = run_job(job, reporter, handle.control)
            finally:
                reporter.flush()
                _set_threads(before) if threads else None
            handle._emit(handle._done, outcome)

        handle._thread = threading.Thread(target=main, name=f"studio-{name}", daemon=True)
        with self._lock:  # ended handles are let go here; a running one is never freed
            self._handles = [h for h in self._handles if h.running] + [handle]
        handle._thread.start()
        return handle

    def active(self) -> list[JobHandle]:
        with self._lock:
            return [h for h in self._handles if h.running]

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel every running job and wait (in all, at most ``timeout_s``) for their
        threads; True when all have ended. New starts are refused afterwards."""
        self.closed = True
        handles = self.active()
        for handle in handles:
            handle.cancel()
        deadline = time.monotonic() + timeout_s
        for handle in handles:
            handle.wait(max(0.0, deadline - time.monotonic()))
        return not self.active()


def _set_threads(threads: int | None) -> int | None:
    if not threads:
        return None
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    return before


_RUNNER: Runner | None = None


def runner() -> Runner:
    """The application's runner (made on first use)."""
    global _RUNNER
    if _RUNNER is None or _RUNNER.closed:
        _RUNNER = Runner()
    return _RUNNER


class Latest(QObject):
    """A channel that keeps only the newest request (see the module docstring). Requests are
    plain functions, made jobs here: ``submit(fn, *args, with_progress=True)`` passes
    ``progress=callable(done, total, partial=None)``, which also stops the work once the
    request is cancelled or superseded."""

    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    progressed = Signal(int, int)  # done, total
    partial = Signal(object)  # a result so far (images being drawn)

    def __init__(self, parent: QObject | None = None, name: str = "task", supersede: bool = True,
                 threads: int | None = None, runner_: Runner | None = None):
        super().__init__(parent)
        self.name, self.supersede, self.threads = name, supersede, threads
        self._runner = runner_
        self._current: JobHandle | None = None
        self._pending: Job | None = None

    @property
    def busy(self) -> bool:
        return self._current is not None and self._current.outcome is None

    def submit(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False) -> None:
        def job(reporter: Reporter, control: Control) -> Any:
            if with_progress:
                return fn(*args, progress=progress_callback(reporter, control))
            control.check()
            return fn(*args)

        self.request(job)

    def request(self, job: Job) -> None:
        if self.busy and not self.supersede:
            self._pending = job  # replaces any older pending request
            return
        self.cancel()
        self._start(job)

    def cancel(self) -> None:
        """Drop the pending request and cancel the running one (its result is dropped)."""
        self._pending = None
        if self._current is not None:
            self._current.muted = True
            self._current.cancel()
            self._current = None

    def _start(self, job: Job) -> None:
        handle = (self._runner or runner()).start(job, self.name, self.threads)
        handle.progressed.connect(self._on_handle_progressed)
        handle.partial_ready.connect(self._on_handle_partial_ready)
        handle.finished.connect(self._on_handle_finished)
        self._current = handle

    @Slot(object)
    def _on_handle_progressed(self, progress: Progress) -> None:
        if self.sender() is self._current:
            self.progressed.emit(progress.step, progress.total)

    @Slot(object)
    def _on_handle_partial_ready(self, value: Any) -> None:
        if self.sender() is self._current:
            self.partial.emit(value)

    @Slot(object)
    def _on_handle_finished(self, outcome: Outcome) -> None:
        handle = self.sender()
        if handle is not self._current:
            return
        self._current = None
        handle.deleteLater()
        if outcome.status == "cancelled":
            self.cancelled.emit()
        elif outcome.ok:
            self.succeeded.emit(outcome.result)
        else:
            self.failed.emit(outcome.error or "failed")
        if self._pending is not None:
            job, self._pending = self._pending, None
            self._start(job)
