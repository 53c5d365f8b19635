"""Image grids and PNG files: the only place that turns tensors into pictures."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch


def make_grid(images: torch.Tensor, ncol: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile float images in [-1, 1], shape (N, C, H, W), into one uint8 (H', W', C) array.

    The padding is mid-gray so dark and light datasets both read well."""
    images = images.detach().float().cpu().clamp(-1, 1)
    n, c, h, w = images.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(n)))
    nrow = math.ceil(n / ncol)
    pixels = ((images + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    grid = np.full((nrow * (h + padding) + padding, ncol * (w + padding) + padding, c), 96, np.uint8)
    for i in range(n):
        r, col = divmod(i, ncol)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y:y + h, x:x + w] = pixels[i]
    return grid


def save_png(array: np.ndarray, path: str | os.PathLike, scale: int = 1) -> Path:
    """Write a uint8 (H, W, C) array as PNG atomically (temp file + os.replace)."""
    from PIL import Image

    path = Path(path)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
