"""2-D point sets for the playground: presets and user-drawn sets, as float32 arrays (N, 2).

Every preset lives inside about [−2, 2]² so that one view box, ``VIEW`` = [−3, 3]², shows
all of them with room around; ``noise`` is the standard deviation (data units) of a Gaussian
jitter added to every point (for ``8-gaussians`` it is the spread of each mode).

- two moons: the two interleaved half circles of scikit-learn's ``make_moons``;
- rings: two concentric circles (radii 0.8 and 1.8);
- 8 Gaussians: the mode-collapse benchmark of Metz et al. 2017 ("Unrolled GANs", §3.1),
  eight modes on a circle of radius 2;
- spiral: one arm, 1.5 turns;
- checkerboard: the 4×4 board of Grathwohl et al. 2019 (FFJORD), points uniform in the dark squares;
- letter: a "G" traced by strokes; smiley: a small drawing of strokes.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SpecError

VIEW = 3.0  # the playground's view box is [−VIEW, VIEW]²
MIN_POINTS, MAX_POINTS = 16, 20_000
MAX_NOISE = 1.0

# name -> (label, default noise)
PRESETS = {
    "two-moons": ("Two moons", 0.06),
    "rings": ("Concentric rings", 0.05),
    "8-gaussians": ("8 Gaussians on a circle", 0.02),
    "spiral": ("Spiral", 0.05),
    "checkerboard": ("Checkerboard", 0.0),
    "letter": ("The letter G", 0.04),
    "smiley": ("A smiley", 0.04),
}

EIGHT_MODES = np.array([[2 * math.cos(k * math.pi / 4), 2 * math.sin(k * math.pi / 4)] for k in range(8)],
                       dtype=np.float32)


def _arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int = 48) -> np.ndarray:
    a = np.linspace(a0, a1, n)
    return np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1)


_STROKES = {
    # G: an arc from 40° round to 360°, then the bar inward
    "letter": [_arc(0, 0, 1.8, math.radians(40), 2 * math.pi), np.array([[1.8, 0.0], [0.5, 0.0]])],
    "smiley": [_arc(0, 0, 1.9, 0, 2 * math.pi, 96), _arc(0, -0.1, 1.1, math.radians(200), math.radians(340)),
               _arc(-0.65, 0.6, 0.22, 0, 2 * math.pi, 24), _arc(0.65, 0.6, 0.22, 0, 2 * math.pi, 24)],
}


def points_on_strokes(strokes: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform by length along polylines (each (P, 2))."""
    segments = np.concatenate([np.stack([s[:-1], s[1:]], 1) for s in strokes])  # (S, 2, 2)
    lengths = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1)
    pick = rng.choice(len(segments), size=n, p=lengths / lengths.sum())
    u = rng.random((n, 1))
    return segments[pick, 0] + u * (segments[pick, 1] - segments[pick, 0])


def _clean(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if name == "two-moons":
        a = rng.random(n) * math.pi
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(a), 1 - np.cos(a))
        y = np.where(upper, np.sin(a), 0.5 - np.sin(a))
        return 1.3 * np.stack([x - 0.5, y - 0.25], 1)
    if name == "rings":
        a = rng.random(n) * 2 * math.pi
        r = np.where(rng.random(n) < 0.5, 0.8, 1.8)
        return np.stack([r * np.cos(a), r * np.sin(a)], 1)
    if name == "8-gaussians":
        return EIGHT_MODES[rng.integers(0, 8, n)].astype(np.float64)
    if name == "spiral":
        t = np.sqrt(rng.random(n))  # uniform along the arm's length, roughly
        a = 3 * math.pi * t
        r = 0.25 + 1.75 * t
        return np.stack([r * np.cos(a), r * np.sin(a)], 1)
    if name == "checkerboard":
        col, row = rng.integers(0, 4, n), rng.integers(0, 2, n)
        row = 2 * row + (col % 2)  # the dark squares: (col + row) even
        return np.stack([col + rng.random(n), row + rng.random(n)], 1) - 2.0
    return points_on_strokes(_STROKES[name], n, rng)


def _check(points: int, noise: float) -> None:
    if not isinstance(points, (int, np.integer)) or not MIN_POINTS <= points <= MAX_POINTS:
        raise SpecError(f"points={points!r} must be a whole number from {MIN_POINTS} to {MAX_POINTS}", "points")
    if not (isinstance(noise, (int, float)) and 0 <= noise <= MAX_NOISE):
        raise SpecError(f"noise={noise!r} must be between 0 and {MAX_NOISE} (data units)", "noise")


def make_dataset(name: str, points: int = 1000, noise: float | None = None, seed: int = 0) -> np.ndarray:
    """A preset as float32 (points, 2); ``noise`` None takes the preset's own.

    Raises ``SpecError`` (field "dataset", "points" or "noise") for an unknown name or a value
    out of range."""
    if name not in PRESETS:
        raise SpecError(f"unknown playground dataset {name!r}; choose one of {', '.join(PRESETS)}", "dataset")
    noise = PRESETS[name][1] if noise is None else noise
    _check(points, noise)
    rng = np.random.default_rng(seed)
    x = _clean(name, int(points), rng)
    return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)


def check_points(drawn: np.ndarray) -> np.ndarray:
    """User-drawn points as float32 (K, 2); ``SpecError`` (field "data") for fewer than 3
    points, a wrong shape, or points outside the view box."""
    drawn = np.asarray(drawn, dtype=np.float32)
    if drawn.ndim != 2 or drawn.shape[1] != 2:
        raise SpecError(f"points must have shape (N, 2), got {drawn.shape}", "data")
    if len(drawn) < 3:
        raise SpecError(f"has {len(drawn)} points: draw at least 3, or pick a preset", "data")
    if not np.isfinite(drawn).all() or np.abs(drawn).max() > VIEW:
        raise SpecError(f"drawn points must lie inside [−{VIEW:g}, {VIEW:g}]²", "data")
    return drawn


def from_drawing(drawn: np.ndarray, points: int = 1000, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """A data set from a few drawn points (K, 2): ``points`` draws of them with replacement, each
    jittered by ``noise``. Raises ``SpecError`` as ``check_points`` does."""
    drawn = check_points(drawn).astype(np.float64)
    _check(points, noise)
    rng = np.random.default_rng(seed)
    x = drawn[rng.integers(0, len(drawn), int(points))]
    return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)
