"""The QThread adapter on its own, with fake jobs: slots run on the GUI thread, metrics are
coalesced, errors arrive as readable messages, pause and stop act between steps."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QObject, QThread, Slot

from studio.engine import Progress
from studio.qt.worker import TrainSession

STEPS = 3000


class FakeJob:
    def __init__(self, reporter, control, fail_at: int | None = None):
        self.reporter, self.control, self.fail_at = reporter, control, fail_at
        self.step = 0
        self.run_folder = SimpleNamespace(path=Path("/nowhere/run"))

    def run(self) -> str:
        while self.step < STEPS:
            if self.control.wait_while_paused(lambda: self.reporter.status(f"paused at step {self.step}")):
                return "stopped"
            self.step += 1
            if self.step == self.fail_at:
                raise RuntimeError("boom")
            self.reporter.metrics(self.step, {"loss": 1.0 / self.step})
            self.reporter.progress(Progress(self.step, STEPS, 0, 100.0, 1.0))
            if self.step % 1000 == 0:
                self.reporter.preview(self.step, np.zeros((4, 4, 1), np.uint8))
        return "finished"


class Recorder(QObject):
    def __init__(self, worker):
        super().__init__()
        self.threads, self.records, self.batches, self.previews, self.errors = set(), [], 0, [], []
        self.status, self.messages = None, []
        worker.finished.connect(self.on_finished)
        worker.status_changed.connect(self.on_status_changed)
        worker.metrics_reported.connect(self.on_metrics_reported)
        worker.preview_ready.connect(self.on_preview_ready)
        worker.errored.connect(self.on_errored)
        worker.progressed.connect(self.on_progressed)

    @Slot(list)
    def on_metrics_reported(self, records):
        self.threads.add(QThread.currentThread())
        self.records += records
        self.batches += 1

    @Slot(int, object)
    def on_preview_ready(self, step, grid):
        self.threads.add(QThread.currentThread())
        self.previews.append(step)

    @Slot(str)
    def on_errored(self, message):
        self.threads.add(QThread.currentThread())
        self.errors.append(message)

    @Slot(object)
    def on_progressed(self, progress):
        self.threads.add(QThread.currentThread())

    @Slot(str)
    def on_status_changed(self, message):
        self.messages.append(message)

    @Slot(str)
    def on_finished(self, status):
        self.threads.add(QThread.currentThread())
        self.status = status


# pytest-qt's waitSignal connects a plain callable, which a worker-thread signal would run in
# the worker thread (the very trap the adapter avoids): tests wait on the GUI-side recorder.
def _run(qtbot, session, recorder):
    session.start()
    qtbot.waitUntil(lambda: recorder.status is not None, timeout=10_000)
    assert session.wait(5_000)
    return recorder.status


def _session(make_job):
    session = TrainSession(make_job)
    return session, Recorder(session.worker)


def test_slots_run_on_the_gui_thread_and_metrics_are_coalesced(qtbot, qapp):
    session, recorder = _session(FakeJob)
    assert _run(qtbot, session, recorder) == "finished"
    assert len(recorder.records) == STEPS  # all flushed before "finished"
    assert recorder.threads == {qapp.thread()}
    assert [r[0] for r in recorder.records] == list(range(1, STEPS + 1))
    assert all(isinstance(v, float) for _, _, values in recorder.records for v in values.values())
    assert recorder.batches < STEPS / 10  # coalesced, not one signal per step
    assert recorder.previews == [1000, 2000, 3000]


def test_an_exception_in_the_job_reaches_the_ui_in_words(qtbot):
    session, recorder = _session(lambda reporter, control: FakeJob(reporter, control, fail_at=5))
    assert _run(qtbot, session, recorder) == "failed"
    assert recorder.errors == ["training failed at step 5: RuntimeError: boom"]


def test_a_job_that_cannot_start_says_why(qtbot):
    def make_job(reporter, control):
        raise ValueError("folder /x does not exist; check the path after 'folder:'")

    session, recorder = _session(make_job)
    assert _run(qtbot, session, recorder) == "failed"
    assert recorder.errors == ["folder /x does not exist; check the path after 'folder:'"]


def test_stop_while_paused_ends_the_job(qtbot):
    session, recorder = _session(FakeJob)
    session.control.pause()
    session.start()
    qtbot.waitUntil(lambda: recorder.messages == ["paused at step 0"], timeout=10_000)
    session.stop()
    qtbot.waitUntil(lambda: recorder.status is not None, timeout=10_000)
    assert recorder.status == "stopped"
    assert session.wait(5_000)
