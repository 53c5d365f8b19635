"""What the Train page says about its training job, in two places: the line under the progress bar
(``TrainControls.message``, a sentence coloured by role) and the window's status bar (``post``:
the engine's own line). The words are the core's where they need no widget
(``studio.train_words``); this part puts them on the controls at each turn of a job."""

from __future__ import annotations

from typing import Callable

from ...errors import sentence
from ...train_words import CANCELLED_MESSAGE
from .run_resume import window_advice
from .train_controls import TrainControls


class TrainStatus:
    """The Train page's job words. ``post(line)`` puts a line in the status bar (the page's
    ``status_posted.emit``). ``held``: the engine's newest line while a Stop is pending (the page
    keeps "Stopping…" on show), said once the job has ended (``ended``)."""

    def __init__(self, controls: TrainControls, post: Callable[[str], None]):
        self.controls, self.post = controls, post
        self.held = ""

    def say(self, line: str, role: str = "muted", show: bool = True) -> None:
        """``line`` on the page as a sentence (unless ``show`` is False: a failure's words stay),
        and in the status bar as it is."""
        if show:
            self.controls.set_message(sentence(line), role)
        self.post(line)

    def starting(self) -> None:
        """A job was launched: nothing of the last one is left on show."""
        self.held = ""
        controls = self.controls
        controls.set_message("Preparing the images and the model…")
        controls.headline.setText("Starting…")
        controls.detail.setText("")
        controls.bar.setValue(0)
        controls.last = None

    def stopping(self, announced: bool) -> None:
        """Stop was asked for; ``announced``: the run folder exists (else the job is still loading
        the images and ends before it writes one: ``TrainJob.create``). Before this job's first
        step (no progress yet) there is nothing to save: the engine removes a new run's folder and
        leaves a resumed run as it was (``engine.early_stop``)."""
        if announced and self.controls.last is None:
            self.controls.set_message("Stopping before the first step: nothing new will be saved…")
        elif announced:
            self.controls.set_message("Stopping after this step and saving a checkpoint…")
        else:
            self.controls.headline.setText("Cancelling…")
            self.controls.set_message("Cancelling the start: nothing is written before training begins…")

    def cancelled(self) -> None:
        """The job ended before its run folder was written: the page is as before the Start."""
        self.controls.headline.setText("Ready")
        self.controls.detail.setText("")
        self.controls.bar.setValue(0)
        self.say(CANCELLED_MESSAGE)

    def ended(self, status: str, failure: str | None = None) -> None:
        """The job ended (``status``: finished, stopped, diverged or failed): the line held while
        stopping, a failure's sentence (``failure``, the field named as the form names it), the
        headline, and after a divergence the engine's advice in the window's words (the Runs
        page's learning-rate field, not a CLI command)."""
        if self.held and status != "failed":
            self.say(self.held)
        if status == "failed":
            self.say(failure or "training failed", "error")
        self.controls.show_outcome(status)
        if status == "diverged":
            advice = window_advice(self.controls.message.text(), " on the Runs page")
            self.controls.set_message(advice, "warning")
            self.post(advice)
