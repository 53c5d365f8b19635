"""The numbers behind the loss curves, Qt-free: growing series of (step, seconds, value) with
their debiased-EMA smoothing (as TensorBoard draws it), and the view-range rule that keeps
axes still while the data grows."""

from __future__ import annotations

import math

import numpy as np


def debiased_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: ema_t = w·ema_{t-1} + (1-w)·x_t from ema_0 = 0, shown as
    ema_t / (1 - w^t) so the first points are not pulled towards zero.

    Non-finite values (a NaN held-out loss, an infinite KL) are gaps: NaN in the output, and
    skipped by the average (t counts finite values). Each output is kept within the range of
    the values so far, as a weighted mean is: rounding then cannot turn a constant series into
    a staircase of 5.000000000000016 / 4.999999999999983."""
    return _Smoother(weight).extend(np.asarray(values, dtype=float))


class _Smoother:
    """The running state of ``debiased_ema``, so a series smooths its points as they arrive."""

    def __init__(self, weight: float):
        self.weight, self.ema, self.count, self.lo, self.hi = weight, 0.0, 0, math.inf, -math.inf

    def extend(self, values) -> np.ndarray:
        w, out = self.weight, np.empty(len(values))
        for i, x in enumerate(values.tolist() if isinstance(values, np.ndarray) else values):
            if not math.isfinite(x):
                out[i] = math.nan
                continue
            self.count += 1
            self.ema = w * self.ema + (1 - w) * x
            self.lo, self.hi = min(self.lo, x), max(self.hi, x)
            out[i] = min(max(self.ema / (1 - w ** self.count), self.lo), self.hi)
        return out


def roomy_range(lo: float, hi: float, current: tuple[float, float], below: float, above: float,
                fill: float) -> tuple[float, float] | None:
    """A view range for data in [lo, hi], or None to keep ``current``: kept while the data
    stays inside it and spans at least ``fill`` of it, else the data's span widened by
    ``below`` / ``above`` of it. Axes then change rarely, and their labels are costly to redo.
    Data spanning less than a millionth of its size (a constant, up to rounding) gets ±5 % of
    its value, so the axis shows a few labelled ticks; non-finite bounds keep ``current``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if hi - lo <= 1e-6 * max(abs(lo), abs(hi)):  # a single value: give it a span of its own
        mid = (lo + hi) / 2
        half = max(abs(mid), 1e-12) * 0.05
        lo, hi = mid - half, mid + half
    span = hi - lo
    c0, c1 = current
    if c0 <= lo and hi <= c1 and span >= fill * (c1 - c0):
        return None
    return lo - below * span, hi + above * span


class Series:
    """One metric's points in amortised-growth buffers, smoothed as they arrive."""

    def __init__(self, weight: float):
        self.n, self.weight = 0, weight
        self._smoother, self._buffers = _Smoother(weight), np.zeros((4, 256))  # steps, times, values, smoothed

    steps = property(lambda self: self._buffers[0, :self.n])
    times = property(lambda self: self._buffers[1, :self.n])
    values = property(lambda self: self._buffers[2, :self.n])
    smoothed = property(lambda self: self._buffers[3, :self.n])

    def extend(self, points: list[tuple[float, float, float]]) -> None:
        if self.n + len(points) > self._buffers.shape[1]:
            grown = np.zeros((4, max(2 * self._buffers.shape[1], self.n + len(points))))
            grown[:, :self.n] = self._buffers[:, :self.n]
            self._buffers = grown
        b, end = self._buffers, self.n + len(points)
        b[:3, self.n:end] = np.asarray(points, dtype=float).reshape(-1, 3).T
        b[3, self.n:end] = self._smoother.extend(b[2, self.n:end])
        self.n = end

    def set_weight(self, weight: float) -> None:
        self.weight, self._smoother = weight, _Smoother(weight)
        self._buffers[3, :self.n] = self._smoother.extend(self.values)
