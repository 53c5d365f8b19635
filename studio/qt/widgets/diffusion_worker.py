"""Sampling jobs in a QThread for the diffusion viewer.

The jobs write uint8 frames into their ``Trajectory``; the UI is told how many steps are
stored (at most ~30 times a second, always after the last step) and reads frames itself.
Worker signals reach the page through its ``@Slot`` methods (queued onto the GUI thread).
"""

from __future__ import annotations

import time
import traceback
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ...engine import Control
from ..tasks import plain_message

REPORT_INTERVAL_S = 1 / 30


class SamplingWorker(QObject):
    """Runs ``make_jobs()`` (a list of ``SamplingJob`` built in this thread, since branching
    replays steps) one after another."""

    job_started = Signal(int, object)  # index, Trajectory
    progressed = Signal(int, int)  # index, steps stored
    job_finished = Signal(int, float)  # index, wall seconds of that job
    errored = Signal(str)
    finished = Signal(str)  # finished | cancelled | failed

    def __init__(self, make_jobs: Callable[[], list]):
        super().__init__()
        self.control = Control()
        self._make_jobs = make_jobs

    @Slot()
    def run(self) -> None:
        status = "failed"
        try:
            for index, job in enumerate(self._make_jobs()):
                self.job_started.emit(index, job.trajectory)
                start, next_report = time.perf_counter(), 0.0
                for i in job.steps():
                    now = time.perf_counter()
                    if now >= next_report or i == job.trajectory.n - 1:
                        next_report = now + REPORT_INTERVAL_S
                        self.progressed.emit(index, i + 1)
                    if self.control.wait_while_paused():
                        job.trajectory.status = "cancelled"
                        self.progressed.emit(index, i + 1)
                        break
                self.job_finished.emit(index, time.perf_counter() - start)
                if self.control.stopped:
                    status = "cancelled"
                    break
            else:
                status = "finished"
        except Exception as exc:
            if not isinstance(exc, ValueError):
                traceback.print_exc()
            self.errored.emit(plain_message(exc))
        finally:
            self.finished.emit(status)
            self.thread().quit()


class SamplingSession(QObject):
    """Owns one worker and its thread (GUI thread side)."""

    def __init__(self, make_jobs: Callable[[], list], parent: QObject | None = None):
        super().__init__(parent)
        self.qthread = QThread()
        self.qthread.setObjectName("sampling")
        self.worker = SamplingWorker(make_jobs)
        self.worker.moveToThread(self.qthread)
        self.qthread.started.connect(self.worker.run)

    @property
    def running(self) -> bool:
        return self.qthread.isRunning()

    def start(self) -> None:
        self.qthread.start(QThread.LowPriority)

    def cancel(self) -> None:
        self.worker.control.stop()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return self.qthread.wait(timeout_ms)
