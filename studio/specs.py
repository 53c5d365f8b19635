"""Rules about a run that the CLI and the window share, each written once: the name of a new
run's folder and the steps at which training shows a preview grid.

Qt-free and free of torch; depends on nothing in ``studio`` (the bottom of the dependency
order data ← specs ← models ← runs ← metrics ← engine ← … ← qt ← cli, with ``data``).

Preview cadence
---------------
A run previews every ``preview_every`` steps (multiples of it), and, so that something
appears within seconds of Start, also at the *early* steps ``start + e`` for ``e`` in the
1-2-5 series (1, 2, 5, 10, 20, 50, …) below ``preview_every``: a run resumed at ``start``
gets its own early previews. The trainer adds one at the last step if that is not already
one. ``preview_every = 0`` turns previews off (only the last step's).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Iterator

PREVIEWS_PER_RUN = 10  # the default interval gives about this many regular previews


def early_offsets(limit: int) -> Iterator[int]:
    """The 1-2-5 series 1, 2, 5, 10, 20, 50, … below ``limit``."""
    scale = 1
    while True:
        for mantissa in (1, 2, 5):
            offset = mantissa * scale
            if offset >= limit:
                return
            yield offset
        scale *= 10


def default_preview_every(family_every: int, steps: int) -> int:
    """Steps between regular previews when none are asked for: about ``PREVIEWS_PER_RUN`` per
    run of ``steps`` steps, and at least one every ``family_every`` (the family's
    ``preview_every``)."""
    return max(1, min(int(family_every), int(steps) // PREVIEWS_PER_RUN))


def is_preview_step(step: int, every: int, start: int = 0) -> bool:
    """True if a run previewing every ``every`` steps (0: never) that started (or resumed)
    at step ``start`` shows a preview after step ``step`` (see the module docstring)."""
    if every <= 0 or step <= start:
        return False
    return step % every == 0 or (step - start) in set(early_offsets(every))


def is_early_preview(step: int, every: int, start: int = 0) -> bool:
    """True for a preview step that comes before the regular cadence (an early one): the
    trainer then draws a smaller grid (the family's ``early_preview_images``)."""
    return is_preview_step(step, every, start) and step % every != 0


def next_preview_step(step: int, every: int, start: int = 0, end: int | None = None) -> int | None:
    """The first step after ``step`` that shows a preview (what the window tells the user:
    "next preview at step N"); the run's last step ``end`` always does. ``None`` when no
    preview comes (previews off and no ``end``, or ``step >= end``)."""
    if end is not None and step >= end:
        return None
    candidates = [end] if end is not None else []
    if every > 0:
        candidates.append((max(step, start) // every + 1) * every)
        candidates += [start + e for e in early_offsets(every) if start + e > step][:1]
    return min(candidates) if candidates else None


def preview_steps(end: int, every: int, start: int = 0) -> list[int]:
    """Every step of a run from ``start`` to ``end`` that shows a preview, the last included."""
    steps, step = [], start
    while (step := next_preview_step(step, every, start, end)) is not None:
        steps.append(step)
    return steps


# --- run folders -------------------------------------------------------------------------
def run_name(family: str, data: str, when: float | None = None) -> str:
    """``<family>-<data>-<YYYYmmdd-HHMMSS>`` (local time ``when``, default now); a folder
    dataset ``folder:PATH`` is named by the folder's last component; characters other than
    letters, digits, ``_`` and ``-`` become ``-``."""
    if data.startswith("folder:"):
        data = Path(data[len("folder:"):].rstrip("/\\" + os.sep)).name
    data = re.sub(r"[^A-Za-z0-9_-]+", "-", data).strip("-") or "data"
    return f"{family}-{data}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(when))}"


def new_run_dir(root: str | os.PathLike, family: str, data: str, when: float | None = None) -> Path:
    """A folder under ``root`` (the CLI and the window pass ``runs.default_runs_root()``)
    named by ``run_name`` that does not exist yet: ``-2``, ``-3``, … is appended when it does."""
    base = Path(root) / run_name(family, data, when)
    path, n = base, 2
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    return path
