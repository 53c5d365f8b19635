"""The numbers behind the loss curves, Qt-free: growing series of (step, seconds, value) with
their debiased-EMA smoothing (as TensorBoard draws it), and the view-range rule that keeps
axes still while the data grows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def debiased_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: ema_t = w·ema_{t-1} + (1-w)·x_t from ema_0 = 0, shown as
    ema_t / (1 - w^t) so the first points are not pulled towards zero.

    Non-finite values (a NaN held-out loss, an infinite KL) are gaps: NaN in the output, and
    skipped by the average (t counts finite values). Each output is kept within the range of
    the values so far, as a weighted mean is: rounding then cannot turn a constant series into
    a staircase of 5.000000000000016 / 4.999999999999983. Vectorised (numpy, no Python loop
    per point): 300k points smooth in milliseconds, so a long run's history or a smoothing
    change costs the UI thread little."""
    return _Smoother(weight).extend(np.asarray(values, dtype=float))


def _ema(x: np.ndarray, w: float, start: float) -> np.ndarray:
    """e_j = w·e_{j-1} + (1-w)·x_j from e_0 = ``start``, for finite ``x``, without a loop per
    point: within a chunk of m points, e_j = w^j·(e_0 + (1-w)·Σ_{i≤j} x_i·w^{-i}) (a cumulative
    sum), with m small enough that w^{-m}·max|x| stays far from overflow."""
    if w == 0.0:
        return x.copy()
    biggest = float(np.abs(x).max(initial=abs(start)))
    headroom = 300.0 - math.log10(max(biggest, 1.0))  # decades left before a float overflows
    m = max(1, int(headroom / -math.log10(w)) if headroom > 0 else 1)
    powers = w ** np.arange(1, min(m, len(x)) + 1)
    out, e0 = np.empty_like(x), start
    for begin in range(0, len(x), m):
        chunk = x[begin:begin + m]
        p = powers[:len(chunk)]
        e = p * (e0 + (1 - w) * np.cumsum(chunk / p))
        out[begin:begin + len(chunk)] = e
        e0 = float(e[-1])
    return out


class _Smoother:
    """The running state of ``debiased_ema``, so a series smooths its points as they arrive."""

    def __init__(self, weight: float):
        self.weight, self.ema, self.count, self.lo, self.hi = weight, 0.0, 0, math.inf, -math.inf

    def extend(self, values) -> np.ndarray:
        x = np.asarray(values, dtype=float)
        out = np.full(len(x), math.nan)
        finite = np.isfinite(x)
        xs = x[finite]
        if not xs.size:
            return out
        w = self.weight
        ema = _ema(xs, w, self.ema)
        counts = self.count + np.arange(1, xs.size + 1)
        lo = np.minimum(np.minimum.accumulate(xs), self.lo)
        hi = np.maximum(np.maximum.accumulate(xs), self.hi)
        debias = np.ones(xs.size)  # 1 - w^t, exactly 1.0 once w^t < 1e-40 (no power to take there)
        few = min(xs.size, max(0, int(40 / -math.log10(w)) + 1 - self.count)) if w > 0 else 0
        debias[:few] = 1 - w ** counts[:few]
        out[finite] = np.minimum(np.maximum(ema / debias, lo), hi)
        self.ema, self.count, self.lo, self.hi = float(ema[-1]), int(counts[-1]), float(lo[-1]), float(hi[-1])
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
        """Append (step, seconds, value) points."""
        self.extend_columns(np.asarray(points, dtype=float).reshape(-1, 3).T)

    def extend_columns(self, columns: np.ndarray) -> None:
        """Append points given as a (3, n) array: steps, seconds, values."""
        k = columns.shape[1]
        if self.n + k > self._buffers.shape[1]:
            grown = np.zeros((4, max(2 * self._buffers.shape[1], self.n + k)))
            grown[:, :self.n] = self._buffers[:, :self.n]
            self._buffers = grown
        b, end = self._buffers, self.n + k
        b[:3, self.n:end] = columns
        b[3, self.n:end] = self._smoother.extend(b[2, self.n:end])
        self.n = end

    def set_weight(self, weight: float) -> None:
        self.weight, self._smoother = weight, _Smoother(weight)
        self._buffers[3, :self.n] = self._smoother.extend(self.values)


META = ("step", "time", "epoch")  # the fields of a metrics.jsonl record that are not metrics


@dataclass
class History:
    """A run's metrics.jsonl as columns: ``points[name]`` a (3, n) float array of (step, seconds,
    value) rows; ``seconds`` the last time logged (a resumed run's clock continues from it);
    ``last_step`` the largest whole-number step (None: no record)."""

    points: dict[str, np.ndarray]
    seconds: float
    last_step: int | None


def history_columns(records: list[dict]) -> History:
    """Records as ``Run.read_metrics`` gives them ({"step", "time", "epoch", name: value, ...};
    held-out records carry no time and take the last one) as columns, metrics in the order they
    first appear. Records with the same fields are converted together, a column at a time, so
    100k records take tens of milliseconds, not a Python step per value. A value counts when it
    is a number (bool included); None (a non-finite number in the file) or anything else is
    left out."""
    n = len(records)
    times, steps = np.full(n, math.nan), np.full(n, math.nan)
    fields_of = list(map(tuple, records))
    kinds = {fields: code for code, fields in enumerate(dict.fromkeys(fields_of))}  # first-appearance order
    codes = np.fromiter(map(kinds.__getitem__, fields_of), dtype=np.int64, count=n)
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}  # name -> [(record indices, values)]
    first: dict[str, tuple[int, int]] = {}  # name -> (first record with a value, field position)
    for fields, code in kinds.items():
        rows = np.flatnonzero(codes == code)
        chosen = [records[i] for i in rows.tolist()]
        for position, name in enumerate(fields):
            values, keep = _numbers([r[name] for r in chosen])
            if name in META:
                if name != "epoch":
                    (times if name == "time" else steps)[rows] = values  # not a number: NaN
                continue
            kept = rows if keep is None else rows[keep]
            if kept.size:
                found.setdefault(name, []).append((kept, values if keep is None else values[keep]))
                first[name] = min(first.get(name, (n, 0)), (int(kept[0]), position))
    logged = np.isfinite(times)
    latest = np.maximum.accumulate(np.where(logged, np.arange(n), 0))
    times = np.where(np.maximum.accumulate(logged), times[latest], 0.0)  # carried forward; 0 before any
    points = {}
    for name in sorted(found, key=first.__getitem__):
        rows = np.concatenate([part[0] for part in found[name]])
        order = np.argsort(rows, kind="stable")
        values = np.concatenate([part[1] for part in found[name]])[order]
        rows = rows[order]
        points[name] = np.stack([steps[rows], times[rows], values])
    whole = steps[np.isfinite(steps)]
    return History(points, float(times[-1]) if n else 0.0, int(whole.max()) if whole.size else None)


def _number_or_nan(value) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


def _numbers(values: list) -> tuple[np.ndarray, np.ndarray | None]:
    """A column's values as floats, and which are numbers (None: all of them)."""
    if set(map(type, values)) <= {float, int, bool}:  # the common case: one conversion in C
        return np.array(values, dtype=float), None
    keep = np.array([isinstance(v, (int, float)) for v in values], dtype=bool)
    return np.array([float(v) if k else math.nan for v, k in zip(values, keep)]), keep
