"""Reading what a run folder already holds: its metric records and its last sample grids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..runs import Run

SAMPLE_STEP = re.compile(r"step-(\d+)\.png$")


@dataclass
class RunHistory:
    run: Run
    records: list[dict]
    previews: list[tuple[int, np.ndarray]]  # (step, uint8 H×W×C), oldest first


def read_run_history(path: str | Path, keep: int = 10, up_to_checkpoint: bool = False) -> RunHistory:
    """The run's metrics and its last ``keep`` sample grids (runs off the UI thread).

    ``up_to_checkpoint``: drop records after the last checkpoint, as a resume will."""
    from PIL import Image

    run = Run.open(path)
    records = run.read_metrics()
    if up_to_checkpoint:
        checkpoint = run.latest_checkpoint()
        last = checkpoint["step"] if checkpoint else 0
        records = [r for r in records if r.get("step", 0) <= last]
    samples = sorted((int(m.group(1)), p) for p in run.samples_dir.glob("step-*.png")
                     if (m := SAMPLE_STEP.search(p.name)))
    previews = []
    for step, png in samples[-keep:]:
        with Image.open(png) as im:
            array = np.asarray(im.convert("L" if im.mode in ("L", "LA", "I", "I;16") else "RGB"))
        previews.append((step, array[:, :, None] if array.ndim == 2 else array))
    return RunHistory(run, records, previews)


def preview_note(family: str) -> str:
    """What a family's preview grid shows (see GenerativeModel.preview)."""
    from ..models import get_family

    try:
        reconstructs = get_family(family).capabilities.reconstruct
    except Exception:
        return ""
    return "Top half: new samples · bottom half: reconstructions of real images" if reconstructs else \
        "New samples from fixed noise: the same noise at every step"
