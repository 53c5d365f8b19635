"""Two families learning the same data side by side ("Compare"), as one job.

One job steps both models in turn rather than two jobs on two threads: both see the same data
(one array) and the same batches (equal seeds draw equal indices), their step counters stay
equal, a frame of both arrives as one preview (the page redraws both views in one pass), and
the UI thread shares the GIL and the two cores with one training thread, not two.

The preview is a ``FramePair``; metrics carry each side's names with an "A: " / "B: " prefix
(``split_metrics`` takes them apart again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .frame import Frame
from .job import PlaygroundJob, PlaygroundSpec

LANES = ("A", "B")


@dataclass(frozen=True)
class FramePair:
    """Frames of both families at the same step: ``a`` (the page's left view), ``b`` (right)."""

    a: Frame
    b: Frame

    @property
    def step(self) -> int:
        return self.a.step

    @property
    def frames(self) -> tuple[Frame, Frame]:
        return self.a, self.b

    @property
    def stats(self) -> dict[str, float]:
        return {**_prefixed("A", self.a.stats), **_prefixed("B", self.b.stats)}


def _prefixed(lane: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{lane}: {k}": v for k, v in values.items()}


def split_metrics(values: dict[str, float]) -> dict[str, dict[str, float]]:
    """{"A: loss": 1.0, "B: D loss": 2.0} → {"A": {"loss": 1.0}, "B": {"D loss": 2.0}} (order kept)."""
    out: dict[str, dict[str, float]] = {lane: {} for lane in LANES}
    for key, value in values.items():
        lane, _, name = key.partition(": ")
        if lane in out and name:
            out[lane][name] = value
    return out


def loss_points(records: list[tuple[int, float, dict[str, float]]], lane: str | None = None) -> list[tuple[int, float]]:
    """(step, loss) from the runner's metric records (step, seconds, values): each record's first
    value (the family's loss), or the first of ``lane``'s ("A" / "B") in a pair's records."""
    out = []
    for step, _seconds, values in records:
        values = split_metrics(values)[lane] if lane else values
        if values:
            out.append((step, next(iter(values.values()))))
    return out


def partner(family: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The family "Compare" starts with beside ``family``: a GAN faces the other GAN loss (the
    mode-collapse lesson side by side: vanilla vs WGAN-GP), any other family flow matching (and
    flow matching DDPM)."""
    if family == "gan":
        return "gan", {"loss": "vanilla" if options.get("loss") == "wgan-gp" else "wgan-gp"}
    return ("ddpm" if family == "flow-matching" else "flow-matching"), {}


class PlaygroundPair(PlaygroundJob):
    """``spec`` (lane A) and ``other`` (lane B: its family, options and learning rate; data, seed,
    batch size and speed are A's) learning A's data. The setters of ``PlaygroundJob`` act on both;
    ``set_setting`` and ``set_live_option`` take a ``lane`` (0 = A, 1 = B)."""

    def __init__(self, spec: PlaygroundSpec, other: PlaygroundSpec):
        self.other: PlaygroundJob | None = None
        super().__init__(spec)
        self.other = PlaygroundJob(replace(other, drawn=self.data_np, dataset=spec.dataset, noise=spec.noise,
                                           seed=spec.seed, batch_size=spec.batch_size, max_steps=spec.max_steps))

    def _set_data_now(self, points: np.ndarray) -> None:
        super()._set_data_now(points)
        if self.other is not None:
            self.other._set_data_now(points)

    def set_setting(self, value: float, lane: int = 0) -> None:
        if lane == 0:
            super().set_setting(value)
        else:
            self.other.set_setting(value)
            self._mark_dirty()

    def set_live_option(self, name: str, value: Any, lane: int = 0) -> None:
        if lane == 0:
            super().set_live_option(name, value)
        else:
            self.other.set_live_option(name, value)
            self._mark_dirty()

    def _mark_dirty(self) -> None:
        with self._lock:
            self._dirty = True
        self._wake.set()

    def train(self, steps: int, share_gil: bool = False) -> dict[str, float]:
        a = super().train(steps, share_gil)
        b = self.other.train(steps, share_gil)
        return {**_prefixed("A", a), **_prefixed("B", b)}

    def frame(self) -> FramePair:  # type: ignore[override]
        return FramePair(super().frame(), self.other.frame())

    def summary(self, last: Any) -> dict[str, Any]:
        return {"family": self.model.name, "other": self.other.model.name, "step": self.step,
                "stats": dict(last.stats)}
