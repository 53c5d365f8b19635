"""The one job protocol for all long work (training, sampling, drawing, encoding a dataset,
t-SNE, evaluation, exports, edits).

A *job* is a callable ``job(reporter, control) -> result``: it reports through the
``Reporter`` (progress, metrics, preview/partial result, status), obeys the ``Control``
(pause, resume, stop, cancel) and ends in one of three ways — it returns its result, it
raises ``Cancelled`` (studio.errors) after noticing a cancel, or it raises an error.
``run_job`` turns those into one typed ``Outcome``. The CLI calls jobs with a tqdm
reporter, tests with a ``RecordingReporter``, the window through ``studio.qt.runner``.

Work written as a plain function with a ``progress(done, total, partial=None)`` callback
joins the protocol through ``progress_callback(reporter, control)``, which reports the
progress (and any partial result, through ``Reporter.partial``) and raises ``Cancelled`` once the control is cancelled.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Literal

from ..errors import Cancelled, SpecError
from .control import Control
from .reporting import Progress, Reporter

Job = Callable[[Reporter, Control], Any]
Status = Literal["finished", "stopped", "diverged", "cancelled", "failed"]
ProgressFn = Callable[..., None]  # progress(done, total, partial=None)


@dataclass(frozen=True)
class Outcome:
    """How a job ended. ``status`` is "finished" (or a job's own word for a normal end,
    e.g. training's "stopped" / "diverged"), "cancelled" or "failed"; ``error`` is the
    sentence to show on failure; ``field`` names the bad setting for a ``SpecError``."""

    status: str
    result: Any = None
    error: str | None = None
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.status not in ("cancelled", "failed")


def describe_error(exc: BaseException) -> str:
    """An exception in words a user can act on: our errors (ValueError subclasses: SpecError,
    RunError, DatasetError, …) carry their own sentence; anything else is a bug, named by type."""
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory: try a smaller batch size or dataset"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def run_job(job: Job, reporter: Reporter | None = None, control: Control | None = None) -> Outcome:
    """Run ``job`` here and now; never raises for the job's own errors (a bug's traceback
    is printed to stderr, a user's bad input is not). A job may return an ``Outcome`` of its
    own (training does: "finished" / "stopped" / "diverged")."""
    reporter, control = reporter or Reporter(), control or Control()
    try:
        result = job(reporter, control)
    except Cancelled:
        return Outcome("cancelled")
    except Exception as exc:
        if not isinstance(exc, ValueError):  # a bug, not a user's input: keep the trace
            traceback.print_exc()
        return Outcome("failed", error=describe_error(exc), field=getattr(exc, "field", None))
    if isinstance(result, Outcome):
        return result
    return Outcome("cancelled" if control.cancelled else "finished", result)


def progress_callback(reporter: Reporter, control: Control) -> ProgressFn:
    """``progress(done, total, partial=None)`` for functions written with a callback: it
    waits while paused, raises ``Cancelled`` once stopped, and reports to ``reporter``."""

    def progress(done: int, total: int, partial: Any = None) -> None:
        control.check()
        reporter.progress(Progress(int(done), int(total)))
        if partial is not None:
            reporter.partial(partial)

    return progress


__all__ = ["Cancelled", "Control", "Job", "Outcome", "Progress", "ProgressFn", "Reporter", "SpecError",
           "describe_error", "progress_callback", "run_job"]
