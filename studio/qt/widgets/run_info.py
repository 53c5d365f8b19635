"""The Runs page's words about a run: the rich-text lines under its name (family, data, step,
status, device, held-out scores, what went wrong), shown in a ``wrap_text.WrapText``."""

from __future__ import annotations

from ... import glossary
from ...runs import Run
from .. import theme
from ..run_history import live_step
from .plain_text import escape
from .run_resume import window_advice


def run_summary(run: Run) -> str:
    """What the Runs page says about ``run`` (rich text, lines joined by <br>): family on data ·
    step of target · status · device precision · created; the held-out scores; its error,
    worded for the window (``run_resume.window_advice``). Every value read from run.json is
    escaped (``plain_text.escape``): the file may say anything."""
    meta = run.meta
    step = live_step(run)
    lines = [f"{escape(run.family)} on {escape(meta.get('data'))} · step {step:,} of "
             f"{meta.get('target_step', step):,} · <b>{escape(run.status)}</b> · "
             f"{escape(meta.get('device', '?'))} {escape(meta.get('precision', ''))} · "
             f"created {escape(str(meta.get('created', ''))[:16].replace('T', ' '))}"]
    evaluation = meta.get("evaluation") or {}
    if evaluation:
        lines.append("on held-out images: " + ", ".join(f"{escape(glossary.plain_name(k))} {v:.4g}"
                                                       for k, v in evaluation.items() if _number(v)))
    if meta.get("error"):
        advice = escape(window_advice(meta["error"], " below"))  # names the field, not a CLI command
        lines.append(f"<span style='color:{theme.DANGER}'>{advice}</span>")
    return "<br>".join(lines)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
