"""The Playground page's one run: a ``PlaygroundJob`` (a ``PlaygroundPair`` while comparing) on
the shared runner at one torch thread. The frames it reports are kept for Export GIF
(``FrameRecorder``) and handed on to be drawn; a page nobody sees pauses it (``pause_hidden``)
and resumes it when shown again, unless the user had paused it himself.

Compare on, off or another right-hand family leaves the left model as it was: ``hand_over`` ends
the run and gives back its first model, and ``carry`` puts that model (its optimisers, step and
batch order) into the new job, so only the model that changed starts from step 0."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from ...playground import PlaygroundJob
from ...playground.job import PlaygroundSpec
from ...playground.compare import PlaygroundPair
from ...playground.recording import FrameRecorder
from ..runner import JobHandle, runner


class PlaygroundRun(QObject):
    frame = Signal(object)  # the newest Frame (a FramePair while comparing)
    losses = Signal(list, bool)  # the job's metric records, and whether they are a pair's (lanes A, B)
    ended = Signal(str)  # the run ended by itself: "" or a failed run's error

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.job: PlaygroundJob | None = None
        self.handle: JobHandle | None = None
        self.recorder = FrameRecorder()
        self._paused_hidden: PlaygroundJob | None = None

    @property
    def running(self) -> bool:
        return self.handle is not None and self.handle.running

    def start(self, job: PlaygroundJob, paused: bool = False) -> None:
        if paused:
            job.pause()
        self.job = job
        self.recorder.clear()
        self.handle = runner().start(job, name="playground", threads=1)
        self.handle.preview_ready.connect(self._on_handle_preview_ready)
        self.handle.metrics_reported.connect(self._on_handle_metrics_reported)
        self.handle.finished.connect(self._on_handle_finished)

    def stop(self) -> None:
        """End the run (its model is dropped); what it still reports is ignored."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle.muted = True
        self.handle = self.job = None
        self.recorder.clear()  # Export GIF must not show the run just dropped

    def hand_over(self, spec: PlaygroundSpec) -> tuple[PlaygroundJob, bool] | None:
        """End the run and return its first model's job and whether it was playing, when that model
        trains what ``spec`` asks for (family, options, learning rate, data); otherwise None, the run
        left alone. Waits (up to 5 s: one frame's steps) for its thread, which no longer trains it."""
        job, handle = self.job, self.handle
        if job is None or not self.running:
            return None
        s = job.spec
        if (s.family, s.options, s.lr) != (spec.family, spec.options, spec.lr) or \
                job._pending_data is not None or not np.array_equal(job.data_np, spec.drawn):
            return None
        playing = not job.paused
        self.stop()
        if not handle.wait(5):
            return None
        return job, playing

    @staticmethod
    def carry(job: PlaygroundJob, kept: PlaygroundJob | None) -> None:
        """``job`` (a new run's first model) goes on with ``kept``'s model, optimisers, step and batches."""
        if kept is None:
            return
        job.model, job.optimizers, job.step, job._batch_gen = kept.model, kept.optimizers, kept.step, kept._batch_gen
        job._reported = kept.step

    def toggle(self) -> bool:
        """Pause a playing run, resume a paused one; returns whether it plays now."""
        if self.job.paused:
            self.job.resume()
        else:
            self.job.pause()
        return not self.job.paused

    def step(self, steps: int) -> None:
        """Pause, then train ``steps`` steps and report one frame."""
        self.job.pause()
        self.job.step_once(steps)

    @Slot(int)
    def drawn(self, step: int) -> None:
        if self.job is not None:
            self.job.drawn(step)  # the job's rest after the frame ends: the UI has done its part

    def pause_hidden(self) -> bool:
        """Pause a playing run because nobody sees it; True when it did."""
        if self.running and not self.job.paused:
            self.job.pause()
            self._paused_hidden = self.job
            return True
        return False

    def resume_shown(self) -> None:
        job, self._paused_hidden = self._paused_hidden, None
        if job is not None and job is self.job and self.running and job.paused:
            job.resume()

    def shutdown(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    @Slot(int, object)
    def _on_handle_preview_ready(self, _step: int, frame) -> None:
        self.recorder.offer(frame)
        self.frame.emit(frame)

    @Slot(list)
    def _on_handle_metrics_reported(self, records: list) -> None:
        self.losses.emit(records, isinstance(self.job, PlaygroundPair))

    @Slot(object)
    def _on_handle_finished(self, outcome) -> None:
        self.ended.emit(outcome.error if outcome.status == "failed" else "")


def carried_notice(why: str, step: int, right: bool, error: str = "") -> str:
    """The status line after Compare kept the left model (``right``: a new right-hand one beside it)."""
    text = f"{why} — the left model goes on from step {step:,}" + ("; the right one starts from step 0"
                                                                   if right else "")
    return f"{error}  ({text})" if error else text
