"""The one Qt runner on its own, with fake jobs: slots run on the GUI thread, metrics are
coalesced, outcomes are typed (never a word match), pause/stop/cancel act between steps, the
latest-wins channel drops superseded work, and shutdown joins everything it started."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QThread, Slot

from studio.engine import Progress
from studio.errors import Cancelled, SpecError
from studio.qt.runner import Latest, Runner

STEPS = 3000


def fake_training(fail_at: int | None = None):
    def job(reporter, control):
        for step in range(1, STEPS + 1):
            if control.wait_while_paused(lambda: reporter.status("paused")):
                return "stopped"
            if step == fail_at:
                raise RuntimeError("boom")
            reporter.metrics(step, {"loss": 1.0 / step})
            reporter.progress(Progress(step, STEPS))
            if step % 1000 == 0:
                reporter.preview(step, np.zeros((4, 4, 1), np.uint8))
        return "finished"

    return job


class Recorder(QObject):
    def __init__(self, handle):
        super().__init__()
        self.threads, self.records, self.batches, self.previews, self.progresses = set(), [], 0, [], 0
        self.outcome, self.messages = None, []
        handle.finished.connect(self.on_finished)
        handle.status_changed.connect(self.on_status_changed)
        handle.metrics_reported.connect(self.on_metrics_reported)
        handle.preview_ready.connect(self.on_preview_ready)
        handle.progressed.connect(self.on_progressed)

    @Slot(list)
    def on_metrics_reported(self, records):
        self.threads.add(QThread.currentThread())
        self.records += records
        self.batches += 1

    @Slot(int, object)
    def on_preview_ready(self, step, grid):
        self.threads.add(QThread.currentThread())
        self.previews.append(step)

    @Slot(object)
    def on_progressed(self, progress):
        self.threads.add(QThread.currentThread())
        self.progresses += 1

    @Slot(str)
    def on_status_changed(self, message):
        self.messages.append(message)

    @Slot(object)
    def on_finished(self, outcome):
        self.threads.add(QThread.currentThread())
        self.outcome = outcome


def _start(runner, job):
    handle = runner.start(job, "test")
    return handle, Recorder(handle)


def _finish(qtbot, handle, recorder):
    qtbot.waitUntil(lambda: recorder.outcome is not None, timeout=10_000)
    assert handle.wait(5)
    return recorder.outcome


def test_slots_run_on_the_gui_thread_and_metrics_are_coalesced(qtbot, qapp):
    handle, recorder = _start(Runner(), fake_training())
    outcome = _finish(qtbot, handle, recorder)
    assert outcome.status == "finished" and outcome.result == "finished"
    assert len(recorder.records) == STEPS  # all flushed before "finished"
    assert recorder.threads == {qapp.thread()}
    assert [r[0] for r in recorder.records] == list(range(1, STEPS + 1))
    assert recorder.batches < STEPS / 10 and recorder.progresses < STEPS / 10  # coalesced
    assert recorder.previews == [1000, 2000, 3000]  # every preview, none dropped


def test_errors_are_typed_outcomes_with_the_bad_field(qtbot):
    handle, recorder = _start(Runner(), fake_training(fail_at=5))
    outcome = _finish(qtbot, handle, recorder)
    assert outcome.status == "failed" and outcome.error == "RuntimeError: boom" and outcome.field is None

    def bad_spec(reporter, control):
        raise SpecError("must be at least 1 (got 0)", "batch_size")

    handle, recorder = _start(Runner(), bad_spec)
    outcome = _finish(qtbot, handle, recorder)
    assert (outcome.status, outcome.field, outcome.error) == ("failed", "batch_size",
                                                               "batch_size must be at least 1 (got 0)")


def test_a_cancelled_job_ends_cancelled_even_if_its_message_says_otherwise(qtbot):
    def job(reporter, control):
        while True:
            control.check()  # raises Cancelled once cancelled

    handle, recorder = _start(Runner(), job)
    handle.cancel()
    assert _finish(qtbot, handle, recorder).status == "cancelled"

    def failing_with_the_word(reporter, control):
        raise ValueError("the file 'cancelled.png' is damaged")

    handle, recorder = _start(Runner(), failing_with_the_word)
    assert _finish(qtbot, handle, recorder).status == "failed"  # a word is never an outcome


def test_stop_while_paused_ends_the_job(qtbot):
    runner = Runner()
    gate = threading.Event()

    def job(reporter, control):
        gate.wait(10)
        return fake_training()(reporter, control)

    handle, recorder = _start(runner, job)
    handle.control.pause()
    gate.set()
    qtbot.waitUntil(lambda: recorder.messages == ["paused"], timeout=10_000)
    handle.control.stop()
    assert _finish(qtbot, handle, recorder).result == "stopped"


def test_shutdown_cancels_and_joins_everything_and_refuses_new_work(qtbot):
    runner = Runner()
    started = threading.Barrier(4)

    def endless(reporter, control):
        started.wait(10)
        while True:
            control.check()

    handles = [runner.start(endless, f"job{i}") for i in range(3)]
    started.wait(10)
    assert len(runner.active()) == 3
    assert runner.shutdown(2.0)
    assert not runner.active() and all(not h.running for h in handles)
    def spinning(reporter, control):
        while True:
            control.check()

    late = runner.start(spinning, "late")  # the window is closing: it starts cancelled
    assert late.wait(2.0)


class LatestRecorder(QObject):
    def __init__(self, latest):
        super().__init__()
        self.results, self.cancels, self.failures, self.partials = [], 0, [], []
        latest.succeeded.connect(self.on_succeeded)
        latest.cancelled.connect(self.on_cancelled)
        latest.failed.connect(self.on_failed)
        latest.partial.connect(self.on_partial)

    @Slot(object)
    def on_succeeded(self, result):
        self.results.append(result)

    @Slot()
    def on_cancelled(self):
        self.cancels += 1

    @Slot(str)
    def on_failed(self, message):
        self.failures.append(message)

    @Slot(object)
    def on_partial(self, value):
        self.partials.append(value)


def test_latest_supersedes_a_running_request_and_drops_its_result(qtbot):
    runner = Runner()
    latest = Latest(name="load", runner_=runner)
    recorder = LatestRecorder(latest)
    first_running, stopped = threading.Event(), threading.Event()

    def slow(progress):
        first_running.set()
        try:
            for i in range(10_000):
                progress(i, 10_000)
                threading.Event().wait(0.01)
        except Cancelled:
            stopped.set()
            raise
        return "slow"

    latest.submit(slow, with_progress=True)
    assert first_running.wait(10)
    latest.submit(lambda: "fast")
    qtbot.waitUntil(lambda: recorder.results == ["fast"], timeout=10_000)
    assert stopped.wait(5)  # the superseded work really stopped (a cancel, not a wait)
    assert recorder.cancels == 0 and recorder.failures == []


def test_latest_without_supersede_finishes_the_running_one_and_keeps_only_the_newest_pending(qtbot):
    runner = Runner()
    latest = Latest(name="decode", supersede=False, runner_=runner)
    recorder = LatestRecorder(latest)
    gate = threading.Event()

    def decode(value):
        if value == 0:
            gate.wait(10)
        return value

    latest.submit(decode, 0)
    for value in range(1, 6):  # a slider dragged while the first decode runs
        latest.submit(decode, value)
    gate.set()
    qtbot.waitUntil(lambda: recorder.results == [0, 5], timeout=10_000)
    qtbot.wait(100)
    assert recorder.results == [0, 5]  # 1…4 were never decoded


def test_latest_partial_results_arrive_through_progress(qtbot):
    latest = Latest(name="draw", runner_=Runner())
    recorder = LatestRecorder(latest)

    def draw(progress):
        for i in range(3):
            progress(i + 1, 3, np.full((2, 2, 1), i, np.uint8))
            threading.Event().wait(0.06)  # slower than the report rate: each partial arrives
        return "grid"

    latest.submit(draw, with_progress=True)
    qtbot.waitUntil(lambda: recorder.results == ["grid"], timeout=10_000)
    assert [int(p[0, 0, 0]) for p in recorder.partials] == [0, 1, 2]
