"""Why the Playground's run was dropped, said once per user action (Qt-free).

A change that needs a new model (a lesson, the family or its options, Compare) ends the run. One
user action can make several such changes (a lesson changes the data, the family and Compare):
the page notes each (``ended`` when a run ended, ``because`` for the reason) and, after the
action, ``take``s one notice: the furthest step reached, whether it was playing (then the new
model trains at once) and the reason of the highest rank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import described, options_text

COMPARE, OPTIONS, FAMILY, LESSON = range(4)  # ranks: a lesson names the action best


@dataclass
class Dropped:
    step: int = 0
    playing: bool = False
    why: str = ""
    rank: int = -1

    def notice(self, restarted: bool) -> str:
        """The status line: "<why> — training restarted from step 0 …" or "… was dropped; …"."""
        if restarted:
            return (f"{self.why} — training restarted from step 0 with a new model "
                    f"(the last one had reached step {self.step:,})")
        return f"{self.why} — the run at step {self.step:,} was dropped; ▶ Play trains the new model from step 0"


class Restarts:
    def __init__(self) -> None:
        self.pending: Dropped | None = None

    def ended(self, step: int, playing: bool) -> bool:
        """A run at ``step`` ended (``playing``: it was not paused); True for the first of an action,
        when the page schedules its ``take`` after the action."""
        first = self.pending is None
        d = self.pending = self.pending or Dropped()
        d.step, d.playing = max(d.step, step), d.playing or playing
        return first

    def because(self, why: str, rank: int) -> None:
        """The reason, kept if it outranks the one noted so far (only while a run has ended)."""
        if self.pending is not None and rank > self.pending.rank:
            self.pending.why, self.pending.rank = why, rank

    def take(self) -> Dropped | None:
        pending, self.pending = self.pending, None
        return pending


def family_change(old: tuple[str, dict[str, Any]], family: str, options: dict[str, Any]) -> tuple[str, int]:
    """The reason (and rank) for the first view's new family or options; ``old``: (family, options)."""
    if family != old[0]:
        return f"Family changed to {described(family, options)}", FAMILY
    changed = {k: v for k, v in options.items() if k not in old[1] or old[1][k] != v}
    return f"Options changed ({options_text(changed) or 'back to the defaults'})", OPTIONS


def compare_change(family: str, options: dict[str, Any], other: str | None, other_options: dict[str, Any]) -> str:
    """The reason for Compare turned on (``other`` beside ``family``) or off (``other`` None)."""
    if other is None:
        return "One view"
    return f"Compare: {described(family, options)} beside {described(other, other_options)}"
