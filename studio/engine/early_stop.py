"""A training stopped before its first step (Stop, the window closing, Ctrl-C in the terminal):
nothing trained, so nothing is worth keeping or writing. A new run's folder is removed — no
"stopped at step 0" run left in the Runs list to delete by hand; a resumed run is left as it was
before the resume (its checkpoints, samples and metrics untouched, run.json's status and step
restored). A failure at step 0 is not this: its folder stays, with the error to act on."""

from __future__ import annotations

from typing import Any

from ..runs import Run
from .reporting import Reporter


def stopped_before_first_step(run: Run, reporter: Reporter, resumed: bool, step: int,
                              meta_before: dict[str, Any] | None) -> str:
    """Leave nothing of a job that took no step; the run's status afterwards. ``run``: the folder
    the job holds; ``resumed``: whether the job resumed an existing run (at ``step``);
    ``meta_before``: that run's run.json as the resume found it (None: not yet rewritten).
    Returns "cancelled" (a new run, its folder removed with ``Run.discard``) or "stopped"."""
    if not resumed:
        run.discard()
        reporter.status(f"stopped before the first step; nothing was saved (run folder {run.path} removed)")
        return "cancelled"
    if meta_before is not None:  # run.json as it was, its "updated" time too unless start_from cut it back
        run.meta.clear()
        run.meta.update(meta_before)
        same = meta_before.get("step") == step and "updated" in meta_before
        run.save_meta(**({"updated": meta_before["updated"]} if same else {}), step=step)
    reporter.status(f"stopped before step {step + 1}; the run is as it was, at step {step}: nothing was written")
    return "stopped"
