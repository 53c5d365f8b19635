"""Reading what a run folder already holds: its metric records and its last sample grids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..runs import Run, RunError
from .widgets.curve_data import History, history_columns

SAMPLE_STEP = re.compile(r"step-(\d+)\.png$")


@dataclass
class RunHistory:
    run: Run
    records: list[dict]
    previews: list[tuple[int, np.ndarray]]  # (step, uint8 H×W×C), oldest first
    columns: History  # ``records`` as plot columns, made with them off the UI thread


def read_run_history(path: str | Path, keep: int = 10, up_to_checkpoint: bool = False) -> RunHistory:
    """The run's metrics (records and, ready for ``MetricsPlot.set_history``, their columns) and
    its last ``keep`` sample grids: runs off the UI thread, so a 100k-step run costs the UI thread
    only the plots (``history_columns`` of 100k records took 0.17 s there).

    ``up_to_checkpoint``: drop records after the last checkpoint, as a resume will."""
    from ..imaging import read_grid_png

    run = Run.open(path)
    records = run.read_metrics()
    if up_to_checkpoint:
        checkpoint = run.latest_checkpoint()
        last = checkpoint["step"] if checkpoint else 0
        records = [r for r in records if r.get("step", 0) <= last]
    samples = sorted((int(m.group(1)), p) for p in run.sample_files() if (m := SAMPLE_STEP.search(p.name)))
    previews = [(step, read_grid_png(png)) for step, png in samples[-keep:]]
    return RunHistory(run, records, previews, history_columns(records))


def preview_note(family: str) -> str:
    """What a family's preview grid shows (see GenerativeModel.preview)."""
    from ..models import get_family

    try:
        reconstructs = get_family(family).capabilities.reconstruct
    except Exception:
        return ""
    return "Top half: new samples · bottom half: reconstructions of real images" if reconstructs else \
        "New samples from fixed noise: the same noise at every step"


def live_step(run: Run) -> int:
    """The run's step: for a run that is training, the last step it logged in metrics.jsonl
    (run.json's step moves only at checkpoints), read from the file's tail."""
    step = run.step
    if run.status != "running":
        return step
    try:
        with open(run.metrics_path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().splitlines()
    except OSError:
        return step
    import json

    for line in reversed(lines[1:] if len(lines) > 1 else lines):  # the first may be cut
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            continue  # a torn last line
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            return max(step, record["step"])
    return step


def rename_run(path: Path, name: str, training_run: str | None = None) -> Path:
    """Rename a run folder (and the name in its run.json); refuses a run being trained, here
    (``training_run``) or by another process (its folder lock, e.g. ``studio train`` in a terminal)."""
    if training_run and Path(training_run) == Path(path):
        raise ValueError("this run is training; stop it before renaming it")
    if not name or name in (".", "..") or any(c in name for c in '/\\:*?"<>|'):
        raise ValueError(f"{name!r} is not a usable folder name (avoid / \\ : * ? \" < > |)")
    target = Path(path).with_name(name)
    if target.exists():
        raise ValueError(f"a run called {name!r} already exists")
    try:
        run = Run.open(path)
    except RunError as exc:
        raise ValueError(str(exc)) from None
    pid = run.writer_pid()
    if pid is not None:
        by = f"process {pid}" if pid else "another process"
        raise ValueError(f"this run is being trained by {by}; stop it before renaming it")
    Path(path).rename(target)
    Run.open(target).save_meta(name=name)
    return target
