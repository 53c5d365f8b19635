"""The Diffusion viewer's state and its sampling job, Qt-free (napari's ``Dims`` / ``QtDims``
split: the page draws this object and forwards user actions to it; tests drive it directly).

``ViewerState`` holds what the page shows — the open model, the main trajectory, the pair of
trajectories of a branch or a comparison, the step on screen, which image, whether the view
follows the newest step — and calls its listeners with the name of what changed.

``sampling_job(make_jobs)`` runs ``SamplingJob``s one after another as a protocol job
(``studio.engine.jobs``): each stored step is reported as the partial result ``(index,
trajectory)`` (the UI reads frames from the trajectory itself, so only the newest report
matters), the result is the list of trajectories, and a pause or cancel acts between steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .control import Control
from .jobs import Job
from .reporting import Progress, Reporter
from .sampling import SamplingJob, Trajectory

MODES = ("run", "branch", "compare", "edit")  # what a sampling job makes (an edit: like run, from a picture)


def sampling_job(make_jobs: Callable[[], list[SamplingJob]]) -> Job:
    """``make_jobs()`` is called in the job's thread (a branch replays steps to reach its start).
    Each trajectory's wall time is stored in ``trajectory.seconds``."""

    def job(reporter: Reporter, control: Control) -> list[Trajectory]:
        trajectories: list[Trajectory] = []
        for index, sampling in enumerate(make_jobs()):
            traj = sampling.trajectory
            trajectories.append(traj)
            start = time.perf_counter()
            for i in sampling.steps():
                reporter.partial((index, traj))
                reporter.progress(Progress(i + 1 - traj.branch_step, traj.n - traj.branch_step))
                if control.wait_while_paused():
                    traj.status = "cancelled"
                    break
            traj.seconds = time.perf_counter() - start
            reporter.partial((index, traj))
            if control.stopped:
                break
        return trajectories

    return job


class ChangeEvents:
    """Change events of a page state: ``connect(listener)``; ``_changed(what)`` calls every
    listener with the name of what changed, in the order connected. The dataclass using it
    declares ``_listeners: list = field(default_factory=list)``."""

    _listeners: list[Callable[[str], None]]

    def connect(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)


@dataclass
class ViewerState(ChangeEvents):
    """What the Diffusion viewer shows. Change events name one of: "model", "trajectory" (a new
    main trajectory), "stored" (it has more steps), "pair", "step", "image", "busy", "cleared" (the
    main trajectory is gone: ``forget_edit``)."""

    model: Any = None
    meta: dict = field(default_factory=dict)
    trajectory: Trajectory | None = None  # the main run ("Step through")
    pair: list[Trajectory | None] = field(default_factory=lambda: [None, None])  # branch / comparison
    pair_titles: tuple[str, str] = ("A", "B")
    mode: str = "run"  # what the running (or last) sampling job makes
    step: int = 0  # the main trajectory's step on screen
    announced: int = 0  # steps of the main trajectory reported so far (the job may be further)
    follow: bool = True  # the step follows the newest one while sampling
    image: int | None = None  # one image of the batch, or None for all
    busy: bool = False
    stale: bool = False  # the running job samples a model no longer open: its reports are ignored
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)

    # --- actions ---------------------------------------------------------------------------
    def set_model(self, model, meta: dict) -> None:
        """Open ``model`` (None: another is being opened): the previous model's results are
        cleared, and a job still running for it is ignored from now on (the page cancels it)."""
        had_pair = self.pair != [None, None]
        self.model, self.meta, self.stale = model, dict(meta), self.busy
        self.trajectory, self.pair, self.pair_titles = None, [None, None], ("A", "B")
        self.step, self.announced, self.follow = 0, 0, True
        self._changed("model")
        if had_pair:
            self._changed("pair")

    def begin(self, mode: str) -> None:
        """A sampling job of ``mode`` starts."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.mode, self.busy, self.stale = mode, True, False
        if mode == "compare":
            self.pair, self.pair_titles = [None, None], ("A", "B")
        self._changed("busy")

    def end(self) -> None:
        self.busy = False
        self._changed("busy")

    def forget_edit(self, traj: Trajectory | None) -> None:
        """The edit ``traj`` no longer belongs on screen (its picture was replaced): it is cleared
        when it is the main trajectory ("cleared"), and an edit job still running is ignored from
        now on, like a replaced model's (the page cancels it)."""
        if traj is None:
            return
        if self.busy and self.mode == "edit":
            self.stale = True
        if traj is self.trajectory:
            self.trajectory, self.step, self.announced, self.follow = None, 0, 0, True
            self._changed("cleared")

    def stored(self, index: int, traj: Trajectory) -> None:
        """The job reports trajectory ``index`` (of this job) has ``traj.done`` steps stored."""
        if self.stale:
            return
        if self.mode in ("run", "edit"):  # the main trajectory
            if traj is not self.trajectory:
                self.trajectory, self.follow, self.step, self.announced = traj, True, 0, 0
                self._changed("trajectory")
            if traj.done != self.announced:
                self.announced = traj.done
                self._changed("stored")
            if self.follow and traj.done:
                self.set_step(traj.done - 1, follow=True)
            return
        if self.mode == "branch":
            if self.pair[1] is not traj:
                self.pair = [traj.parent, traj]
                self.pair_titles = ("Original", f"Branch from step {traj.branch_step + 1}")
        elif self.pair[index] is not traj:
            self.pair = [traj, self.pair[1]] if index == 0 else [self.pair[0], traj]
        self._changed("pair")

    def set_step(self, step: int, follow: bool | None = None) -> None:
        """Show the main trajectory's ``step`` (clipped to what is stored). ``follow``: keep
        following the newest step (default: when ``step`` is the newest)."""
        if self.trajectory is None or self.announced == 0:
            return
        step = max(0, min(step, self.announced - 1))
        self.follow = (step == self.announced - 1) if follow is None else follow
        if step != self.step or follow:
            self.step = step
            self._changed("step")

    def set_image(self, image: int | None) -> None:
        if image != self.image:
            self.image = image
            self._changed("image")

    @property
    def can_branch(self) -> bool:
        traj = self.trajectory
        return self.model is not None and not self.busy and traj is not None and traj.done > 0 and not self.branch_note

    @property
    def branch_note(self) -> str:
        """Why the main trajectory can never be branched ("" when it can): branching restarts
        from a stored checkpoint, and RePaint inpainting keeps none."""
        traj = self.trajectory
        if traj is not None and traj.done > 0 and not traj.checkpoints:
            return ("Inpainting cannot be branched: RePaint jumps back up the chain again and again, "
                    "so no step holds a state to continue from")
        return ""

    def branch_refusal(self, step: int) -> str:
        """Why the main trajectory cannot be branched from ``step`` (0-based) now ("" when it
        can): nothing to branch yet, ``branch_note``, or the last step (nothing left to sample:
        the branch would be a 0-step copy)."""
        traj = self.trajectory
        if not self.can_branch:
            return self.branch_note or "Run first: a branch continues a finished or stopped run from one of its steps"
        if step >= traj.n - 1:
            return (f"Step {traj.n} is the last: nothing is left to sample from it. Pick an earlier step "
                    "(the timeline, ← →) to branch from")
        return ""

    def step_caption(self) -> str:
        traj = self.trajectory
        if traj is None or traj.done == 0:
            return ""
        t = traj.timestep(self.step) + 1
        last = " (final)" if self.step == traj.n - 1 and traj.finished else ""
        return f"step {self.step + 1} / {traj.n}{last}  ·  t = {t}"
