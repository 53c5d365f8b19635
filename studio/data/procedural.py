"""Procedural datasets with known generative factors (dSprites-style), rendered on the fly.

Shapes are drawn from signed distance functions in a resolution-independent unit square, so
they can be rendered at any resolution with one-pixel anti-aliased edges, fully vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .base import DatasetError, ImageDataset
from .names import PROCEDURAL

SHAPE_NAMES = ["square", "ellipse", "heart"]
DEFAULT_SIZE = {"train": 10_000, "test": 1_000}
LICENSE = "CC0 (generated procedurally)"


@dataclass(frozen=True)
class Recipe:
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    resolution: int
    radius: float  # shape radius at scale 1, as a fraction of the image side
    scales: tuple[float, float]
    positions: tuple[float, float]  # range of the shape centre, fraction of the image side
    colored: bool


RECIPES = {
    "shapes": Recipe(("shape", "scale", "rotation", "pos_x", "pos_y"), (3, 6, 40, 32, 32),
                     64, 0.18, (0.5, 1.0), (0.22, 0.78), False),
    "color-shapes": Recipe(("shape", "color", "scale", "rotation", "pos_x", "pos_y"), (3, 6, 4, 8, 16, 16),
                           32, 0.2, (0.6, 1.0), (0.25, 0.75), True),
}
DESCRIPTIONS = PROCEDURAL  # names.py (torch-free)


def _box(u: torch.Tensor, v: torch.Tensor, half: float) -> torch.Tensor:
    qx, qy = u.abs() - half, v.abs() - half
    outside = torch.hypot(qx.clamp(min=0), qy.clamp(min=0))
    return outside + torch.maximum(qx, qy).clamp(max=0)


def _ellipse(u: torch.Tensor, v: torch.Tensor, a: float = 1.0, b: float = 0.5) -> torch.Tensor:
    g = torch.hypot(u / a, v / b)
    grad = (torch.hypot(u / a**2, v / b**2) + 1e-6) / (g + 1e-6)  # |grad g|, bounded at the centre
    return (g - 1) / grad


_H = 0.85  # heart: a diamond of "radius" _H with two circles on its upper edges


def _heart(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    v = v - 0.1035 * _H  # centre the bounding box (v points down, tip at the bottom)
    s = 1 / math.sqrt(2)
    diamond = _box((u + v) * s, (u - v) * s, _H * s)
    r = _H * s
    left = torch.hypot(u + _H / 2, v + _H / 2) - r
    right = torch.hypot(u - _H / 2, v + _H / 2) - r
    return torch.minimum(diamond, torch.minimum(left, right))


_SDF = (lambda u, v: _box(u, v, 0.8), _ellipse, _heart)


_EXTENT = 1.15  # bounding radius of every shape in unit space


def render_alpha(shape: torch.Tensor, radius: torch.Tensor, angle: torch.Tensor,
                 cx: torch.Tensor, cy: torch.Tensor, resolution: int) -> torch.Tensor:
    """Coverage in [0, 1], float32 (B, R, R), for B shapes given in image-side fractions.

    Only a window around each shape is evaluated, then pasted into an empty canvas."""
    b, res = len(shape), resolution
    win = min(res, math.ceil(2 * (_EXTENT * float(radius.max()) * res + 1)) + 1)
    x0 = (cx * res).round().long().sub_(win // 2).clamp_(0, res - win)
    y0 = (cy * res).round().long().sub_(win // 2).clamp_(0, res - win)
    offs = torch.arange(win)
    gx = (x0.view(-1, 1) + offs + 0.5) / res  # (B, win) pixel centres
    gy = (y0.view(-1, 1) + offs + 0.5) / res
    alpha = torch.empty((b, win, win), dtype=torch.float32)
    for k, sdf in enumerate(_SDF):
        idx = (shape == k).nonzero().squeeze(1)
        if len(idx) == 0:
            continue
        col = lambda t: t[idx].view(-1, 1, 1)  # noqa: E731
        dx, dy = (gx[idx] - cx[idx].view(-1, 1)).unsqueeze(1), (gy[idx] - cy[idx].view(-1, 1)).unsqueeze(2)
        cos, sin, r = col(angle).cos(), col(angle).sin(), col(radius)
        u, v = (cos * dx + sin * dy) / r, (cos * dy - sin * dx) / r
        # signed distance in pixels -> coverage of a one-pixel-wide edge
        alpha[idx] = (0.5 - sdf(u, v) * r * res).clamp_(0, 1)
    canvas = torch.zeros((b, res, res), dtype=torch.float32)
    rows = (y0.view(-1, 1) + offs).view(b, win, 1)
    cols = (x0.view(-1, 1) + offs).view(b, 1, win)
    canvas[torch.arange(b).view(-1, 1, 1), rows, cols] = alpha
    return canvas


def _hue_rgb(n: int) -> torch.Tensor:
    """n evenly spaced saturated hues, float (n, 3) in [0, 1]."""
    h = torch.arange(n, dtype=torch.float32) * 6 / n
    k = (torch.tensor([5.0, 3.0, 1.0]) + h.view(-1, 1)) % 6
    return 1 - 0.85 * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def generate(name: str, *, split: str, seed: int, size: int | None, resolution: int | None) -> ImageDataset:
    rec = RECIPES[name]
    n = DEFAULT_SIZE[split] if size is None else size
    if n <= 0:
        raise DatasetError(f"size must be a positive number of images, got {n}")
    res = resolution or rec.resolution
    if not 8 <= res <= 512:
        raise DatasetError(f"resolution for {name} must be between 8 and 512, got {res}")
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    factors = torch.from_numpy(rng.integers(0, rec.factor_sizes, size=(n, len(rec.factor_sizes))))
    f = {k: factors[:, i] for i, k in enumerate(rec.factor_names)}

    steps = dict(zip(rec.factor_names, rec.factor_sizes))

    def level(key: str, lo: float, hi: float) -> torch.Tensor:  # factor index -> evenly spaced value
        return lo + (hi - lo) * f[key].to(torch.float32) / max(steps[key] - 1, 1)

    radius = rec.radius * level("scale", *rec.scales)
    angle = f["rotation"].to(torch.float32) * (2 * math.pi / steps["rotation"])
    cx, cy = level("pos_x", *rec.positions), level("pos_y", *rec.positions)

    channels = 3 if rec.colored else 1
    images = torch.empty((n, channels, res, res), dtype=torch.uint8)
    palette = _hue_rgb(steps["color"]) if rec.colored else None
    for i in range(0, n, 512):
        sl = slice(i, i + 512)
        alpha = render_alpha(f["shape"][sl], radius[sl], angle[sl], cx[sl], cy[sl], res).unsqueeze(1)
        if rec.colored:
            alpha = alpha * palette[f["color"][sl]].view(-1, 3, 1, 1)
        images[sl] = alpha.mul_(255).round_().to(torch.uint8)
    return ImageDataset(name, images, factors[:, 0].clone(), list(SHAPE_NAMES), factors,
                        list(rec.factor_names), license=LICENSE, split=split)
