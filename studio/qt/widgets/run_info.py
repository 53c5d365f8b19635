"""The Runs page's words about a run: the rich-text lines under its name (family, data, step,
status, device, held-out scores, what went wrong), shown in a ``wrap_text.WrapText``."""

from __future__ import annotations

import html

from ... import glossary
from ...runs import Run
from .. import theme
from ..run_history import live_step
from .run_resume import window_advice


def run_summary(run: Run) -> str:
    """What the Runs page says about ``run`` (rich text, lines joined by <br>): family on data ·
    step of target · status · device precision · created; the held-out scores; its error,
    worded for the window (``run_resume.window_advice``)."""
    meta = run.meta
    step = live_step(run)
    data = html.escape(str(meta.get("data")))
    lines = [f"{run.family} on {data} · step {step:,} of {meta.get('target_step', step):,} · "
             f"<b>{run.status}</b> · {meta.get('device', '?')} {meta.get('precision', '')} · "
             f"created {meta.get('created', '')[:16].replace('T', ' ')}"]
    evaluation = meta.get("evaluation") or {}
    if evaluation:
        lines.append("on held-out images: " + ", ".join(f"{glossary.plain_name(k)} {v:.4g}"
                                                       for k, v in evaluation.items() if _number(v)))
    if meta.get("error"):
        advice = html.escape(window_advice(meta["error"], " below"))  # names the field, not a CLI command
        lines.append(f"<span style='color:{theme.DANGER}'>{advice}</span>")
    return "<br>".join(lines)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
