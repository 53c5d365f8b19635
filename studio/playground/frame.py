"""What a playground view draws, as plain numpy: a ``Frame`` of ``Layer``s, plus the grids and
the two numbers every family shares (a 2-sample distance and the modes covered).

A layer is one drawable thing in data (or latent) coordinates; the page maps ``kind`` to a
pyqtgraph item and ``role`` to a colour, so it never needs to know which family made it:

- ``points``:  ``xy`` (N, 2)
- ``lines``:   ``xy`` (L, P, 2), L polylines of P points (NaN breaks allowed)
- ``arrows``:  ``xy`` (K, 2) tails and ``uv`` (K, 2) vectors, already scaled for display
- ``heatmap``: ``values`` (G, G), row i at y = ys[i], column j at x = xs[j]; ``extent``
  (x0, x1, y0, y1); ``levels`` (lo, hi)
- ``bars``:    ``edges`` (B + 1,) and ``heights`` (B,)
- ``curve``:   ``xy`` (P, 2), one polyline (a density, a schedule)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from .datasets import VIEW

KINDS = ("points", "lines", "arrows", "heatmap", "bars", "curve")
# roles the page colours: data (the user's points), model (samples), field (arrows), grid (warped grids),
# heat (a heatmap's colour map: "heat" sequential, "diverging" centred), aux (x̂₀, posterior means), noised (x_t)
ROLES = ("data", "model", "field", "grid", "heat", "diverging", "aux", "noised", "outline", "path")


@dataclass(frozen=True)
class Layer:
    kind: str
    name: str  # the legend entry, in the field's words ("D(x)", "x̂₀", "−ε_θ(x, t)")
    role: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown layer kind {self.kind!r}; one of {', '.join(KINDS)}")


def points(name: str, role: str, xy: Tensor | np.ndarray) -> Layer:
    return Layer("points", name, role, {"xy": _np(xy)})


def lines(name: str, role: str, xy: Tensor | np.ndarray) -> Layer:
    return Layer("lines", name, role, {"xy": _np(xy)})


def curve(name: str, role: str, xy: Tensor | np.ndarray) -> Layer:
    return Layer("curve", name, role, {"xy": _np(xy)})


def arrows(name: str, role: str, xy: Tensor | np.ndarray, uv: Tensor | np.ndarray, length: float) -> Layer:
    """Arrows scaled so that the longest is ``length`` data units (their directions stay exact)."""
    uv = _np(uv)
    top = float(np.abs(uv).max()) if uv.size else 0.0
    return Layer("arrows", name, role, {"xy": _np(xy), "uv": uv * (length / top if top > 0 else 0.0)})


def heatmap(name: str, role: str, values: Tensor | np.ndarray, lim: float = VIEW,
            levels: tuple[float, float] | None = None) -> Layer:
    v = _np(values)
    lo, hi = levels if levels is not None else (float(np.nanmin(v)), float(np.nanmax(v)))
    return Layer("heatmap", name, role, {"values": v, "extent": np.array([-lim, lim, -lim, lim], np.float32),
                                         "levels": np.array([lo, hi if hi > lo else lo + 1], np.float32)})


def bars(name: str, role: str, edges: Tensor | np.ndarray, heights: Tensor | np.ndarray) -> Layer:
    return Layer("bars", name, role, {"edges": _np(edges), "heights": _np(heights)})


def bright(values: Tensor) -> float:
    """The top of a density heatmap's colour scale: the 99th percentile of the cells that hold
    mass, so a few sharp peaks do not leave the rest of the density black."""
    v = values.flatten()
    v = v[v > 1e-3 * float(v.max())] if float(v.max()) > 0 else v
    return float(torch.quantile(v.float(), 0.99)) if v.numel() else 1.0


@dataclass(frozen=True)
class Frame:
    """One picture of a family learning, at optimizer step ``step``. ``main`` is drawn in data
    space over [−VIEW, VIEW]²; ``side`` in the family's own space (latent plane, histograms,
    paths over time) titled ``side_title`` with axis labels ``side_axes``; ``stats`` are the
    numbers shown beside the view (energy distance, modes covered, log-likelihood …)."""

    step: int
    main: list[Layer]
    side: list[Layer]
    side_title: str
    side_axes: tuple[str, str]
    stats: dict[str, float]
    side_equal: bool = True  # the side plot keeps a 1:1 aspect (a plane) or not (a histogram)
    side_mirrored: bool = False  # a second histogram hangs below the axis: y ticks show magnitudes

    def layer(self, name: str) -> Layer:
        for item in (*self.main, *self.side):
            if item.name == name:
                return item
        raise KeyError(name)


def _np(x: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().to(torch.float32).cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


# --- grids ------------------------------------------------------------------------------
def grid_points(n: int, lim: float = VIEW) -> Tensor:
    """The centres of an n×n grid of cells over [−lim, lim]², (n², 2), row-major in y then x
    (so ``values.reshape(n, n)`` has row i at y_i), and matching ``heatmap``'s extent."""
    c = (torch.arange(n, dtype=torch.float32) + 0.5) / n * (2 * lim) - lim
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)


def grid_lines(lim: float, count: int = 11, resolution: int = 41) -> Tensor:
    """``count`` vertical then ``count`` horizontal lines over [−lim, lim]², each of ``resolution``
    points: (2·count, resolution, 2). Map them through a function to see how it warps space."""
    ticks = torch.linspace(-lim, lim, count)
    along = torch.linspace(-lim, lim, resolution)
    vertical = torch.stack([ticks[:, None].expand(count, resolution), along.expand(count, resolution)], -1)
    return torch.cat([vertical, vertical.flip(-1)])


def path_layers(paths: Tensor, marker: float | None = None) -> tuple[Layer, list[Layer]]:
    """Sample paths from noise to data, (S + 1, P, 2) for S solver steps and P particles: the
    paths in data space, and for the side view their first coordinate against progress
    τ ∈ [0, 1] (0 = noise, 1 = data) with a vertical line at ``marker``."""
    steps = paths.shape[0]
    tau = torch.linspace(0, 1, steps)[None, :, None].expand(paths.shape[1], steps, 1)
    fan = torch.cat([tau, paths.permute(1, 0, 2)[..., :1]], -1)
    side = [lines("x₁ along each path", "path", fan)]
    if marker is not None:
        side.append(curve("the slider's t", "outline", torch.tensor([[marker, -VIEW], [marker, VIEW]])))
    return lines("paths noise → data", "path", paths.permute(1, 0, 2)), side


def arrow_grid(n: int = 17, lim: float = VIEW - 0.3) -> Tensor:
    """Tails of an n×n grid of arrows (n², 2)."""
    return grid_points(n, lim)


# --- numbers ----------------------------------------------------------------------------
def _mean_distance(x: Tensor, y: Tensor) -> float:
    """E‖X − Y‖ over all pairs, in float32 (its matrix-product cdist: 0.5 ms for 500 × 500 points
    where float64's took 1.5 ms, measured; the mean moves by ~1e-7, far below the 0.002 two
    samples of one distribution differ by) summed in float64."""
    return float(torch.cdist(x, y).double().mean())


def spread(y: Tensor | np.ndarray) -> float:
    """E‖Y − Y′‖ of a sample (N, 2), diagonals included: ``energy_distance``'s ``yy`` term, which
    a caller comparing many samples with one fixed ``y`` computes once."""
    y = torch.as_tensor(y, dtype=torch.float32)
    return _mean_distance(y, y)


def energy_distance(x: Tensor | np.ndarray, y: Tensor | np.ndarray, yy: float | None = None) -> float:
    """The energy distance D² = 2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ (Székely & Rizzo 2013, eq. 2),
    ≥ 0 and 0 only for equal distributions; the V-statistic (diagonals included). Units: data
    units. Two samples of 1000 points of one distribution give about 0.002–0.01. ``yy``:
    ``spread(y)`` when already known (one cdist less in each frame)."""
    x, y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    return max(2 * _mean_distance(x, y) - _mean_distance(x, x) - (spread(y) if yy is None else yy), 0.0)


def modes_covered(samples: Tensor | np.ndarray, centres: np.ndarray, radius: float) -> int:
    """How many ``centres`` (M, 2) have a fair share of ``samples`` near them: at least a fifth
    of N/M samples within ``radius`` (the rule of Metz et al. 2017 §3.1 counts a mode as
    covered when samples land within 3σ of it; the share stops a few stray points counting)."""
    s = torch.as_tensor(samples, dtype=torch.float32)
    c = torch.as_tensor(centres, dtype=torch.float32)
    d = torch.cdist(s, c)
    nearest = d.argmin(1)
    close = d.min(1).values <= radius
    counts = torch.bincount(nearest[close], minlength=len(c))
    return int((counts >= 0.2 * len(s) / len(c)).sum())
