"""The engine in a QThread: a ``Reporter`` that turns the job's calls into queued signals.

Rules this file keeps (both measured the hard way):
- worker signals reach the UI only through ``@Slot`` methods of GUI-thread QObjects; a plain
  function or lambda connected to them would run in the worker thread;
- the job reports metrics every step, but the UI hears about them at most ~25 times a second:
  values are coalesced into lists of ``(step, seconds, {name: float})`` records.
Only floats, ints and uint8 numpy arrays cross to the UI.
"""

from __future__ import annotations

import gc
import os
import time
import traceback
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..engine import Control, Progress, Reporter
from .tasks import plain_message

REPORT_INTERVAL_S = 1 / 25


def usable_cores() -> int:
    """Cores this process may run on (respects taskset / container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def training_threads() -> int:
    """Torch threads for a job training beside the window. Measured with ``studio bench ui``
    on 2 cores (quiet machine, conv VAE): 2 threads gave 599 images/s in the window (0.95 of a
    bare loop, UI timer p99 9.5 ms), 1 thread 464 images/s (p99 5.3 ms): use every core there.
    With more cores, one is left to the UI (not measured yet)."""
    cores = usable_cores()
    return cores if cores <= 2 else cores - 1


class TrainWorker(QObject, Reporter):
    """Runs one job (``make_job(reporter, control) -> TrainJob``) in its thread."""

    run_opened = Signal(str)  # the run folder, as soon as it exists
    progressed = Signal(object)  # engine.Progress (ints and floats)
    metrics_reported = Signal(list)  # [(step, seconds since start, {name: float}), ...]
    preview_ready = Signal(int, object)  # step, uint8 (H, W, C)
    status_changed = Signal(str)
    errored = Signal(str)
    finished = Signal(str)  # "finished" | "stopped" | "diverged" | "failed"

    def __init__(self, make_job: Callable, threads: int | None = None):
        QObject.__init__(self)
        self.control = Control()
        self._make_job = make_job
        self._threads = threads
        self._pending: list[tuple[int, float, dict]] = []
        self._progress: Progress | None = None
        self._next_flush = 0.0
        self._frozen = False
        self._t0 = time.perf_counter()

    # --- the thread's entry point ----------------------------------------------------
    @Slot()
    def run(self) -> None:
        if self._threads:
            import torch

            torch.set_num_threads(self._threads)
        status, job = "failed", None
        try:
            job = self._make_job(self, self.control)
            self.run_opened.emit(str(job.run_folder.path))
            self._t0 = time.perf_counter()
            status = job.run()
        except Exception as exc:
            if not isinstance(exc, ValueError):  # a bug, not a user's input: keep the trace
                traceback.print_exc()
            step = job.step if job is not None else 0
            message = plain_message(exc)
            self.errored.emit(f"training failed at step {step}: {message}" if step else message)
        finally:
            self._flush()
            self.finished.emit(status)
            self.thread().quit()  # from this thread: works even while the GUI thread waits on us

    # --- Reporter, called by the job in this thread -----------------------------------
    def metrics(self, step: int, values: dict[str, float]) -> None:
        self._pending.append((step, time.perf_counter() - self._t0, values))

    def progress(self, progress: Progress) -> None:
        if self._progress is None and not self._frozen:
            # the first step imports torch's lazy modules (~200k objects); full collections
            # walking them stalled both threads 100-200 ms (measured): exempt what exists now
            gc.freeze()
            self._frozen = True
        self._progress = progress
        now = time.perf_counter()
        if now >= self._next_flush:
            self._next_flush = now + REPORT_INTERVAL_S
            self._flush()

    def preview(self, step: int, grid: np.ndarray) -> None:
        self._flush()
        self.preview_ready.emit(step, grid)

    def status(self, message: str) -> None:
        self._flush()
        self.status_changed.emit(message)

    def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            self.metrics_reported.emit(pending)
        if self._progress is not None:
            progress, self._progress = self._progress, None
            self.progressed.emit(progress)


class TrainSession(QObject):
    """Owns the thread and the worker of one training job; lives in the GUI thread."""

    def __init__(self, make_job: Callable, threads: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.qthread = QThread()
        self.qthread.setObjectName("training")
        self.worker = TrainWorker(make_job, threads)
        self.worker.moveToThread(self.qthread)
        self.qthread.started.connect(self.worker.run)
        self.run_path: str | None = None
        self.worker.run_opened.connect(self._on_worker_run_opened)

    @property
    def control(self) -> Control:
        return self.worker.control

    @property
    def running(self) -> bool:
        return self.qthread.isRunning()

    def start(self) -> None:
        self.qthread.start(QThread.LowPriority)  # Windows / macOS: the UI thread goes first

    def stop(self) -> None:
        self.control.stop()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the thread has ended (the job stops between steps and checkpoints)."""
        return self.qthread.wait() if timeout_ms < 0 else self.qthread.wait(timeout_ms)

    @Slot(str)
    def _on_worker_run_opened(self, path: str) -> None:
        self.run_path = path
