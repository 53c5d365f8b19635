"""Pixels, image grids and PNG files: the one place that converts between the models' float
images in [-1, 1] and uint8 pixels, and tiles pictures into grids."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported in the two functions that need it: the window's widgets use the rest before torch loads
    import torch


def to_unit_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 pixels [0, 255] -> float32 in [-1, 1] (x · 2/255 − 1: what every model trains on)."""
    import torch

    return images_uint8.to(torch.float32).mul_(2 / 255).sub_(1)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 pixels, clamped and rounded half to even (NaN -> 0); same shape."""
    import torch

    x = torch.nan_to_num(images.detach().to(torch.float32), nan=-1.0)
    return x.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def to_frames(x: torch.Tensor, scale: float = 1.0) -> np.ndarray:
    """Float images (N, C, H, W) in [−scale, scale] → uint8 (N, H, W, C) numpy frames, clipped
    and rounded like ``to_uint8`` (NaN → 0)."""
    # numpy, single-threaded: on small batches torch's intra-op threads only add contention
    a = np.clip(np.nan_to_num(x.detach().float().cpu().numpy() / scale, nan=-1.0), -1, 1)
    return np.ascontiguousarray(np.rint((a + 1) * 127.5).astype(np.uint8).transpose(0, 2, 3, 1))


GRID_FILL = 96  # ``tile``'s mid-gray between tiles


def tile(frames: np.ndarray, ncol: int | None = None, padding: int = 2, fill: int = GRID_FILL) -> np.ndarray:
    """uint8 (N, H, W, C) → one uint8 grid (H', W', C), row-major, ``ncol`` columns (default
    ⌈√N⌉), ``padding`` pixels of ``fill`` between and around the tiles (mid-gray: dark and
    light datasets both read well)."""
    n, h, w, c = frames.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(n)))
    nrow = math.ceil(n / ncol)
    grid = np.full((nrow * (h + padding) + padding, ncol * (w + padding) + padding, c), fill, np.uint8)
    for i in range(n):
        r, col = divmod(i, ncol)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y:y + h, x:x + w] = frames[i]
    return grid


@dataclass(frozen=True)
class GridLayout:
    """Where the tiles of a grid made by ``tile`` (or ``export.strip``) lie: ``rows`` × ``cols``
    cells of ``tile_h`` × ``tile_w`` pixels, ``padding`` pixels between and around them."""

    rows: int
    cols: int
    tile_h: int
    tile_w: int
    padding: int

    def cell(self, i: int) -> tuple[int, int]:
        """(y, x) of cell ``i``'s top-left pixel (row-major, like ``tile``)."""
        r, c = divmod(i, self.cols)
        return self.padding + r * (self.tile_h + self.padding), self.padding + c * (self.tile_w + self.padding)

    def index_at(self, x: float, y: float) -> int | None:
        """The cell under grid pixel (x, y); a point in a gap counts for the nearest cell; None off
        the grid."""
        p = self.padding
        width, height = self.cols * (self.tile_w + p) + p, self.rows * (self.tile_h + p) + p
        if not (0 <= x < width and 0 <= y < height):
            return None
        c = min(self.cols - 1, max(0, int((x - p / 2) // (self.tile_w + p))))
        r = min(self.rows - 1, max(0, int((y - p / 2) // (self.tile_h + p))))
        return r * self.cols + c

    def crop(self, grid: np.ndarray, i: int) -> np.ndarray:
        """Cell ``i``'s pixels (a view of ``grid``)."""
        y, x = self.cell(i)
        return grid[y:y + self.tile_h, x:x + self.tile_w]


def find_grid(grid: np.ndarray, padding: int = 2, fill: int = GRID_FILL) -> GridLayout | None:
    """The layout of a uint8 (H, W[, C]) grid made by ``tile(frames, padding=padding, fill=fill)``,
    read from its pixels: the smallest tile size whose gap lines (every ``tile + padding`` rows and
    columns, ``padding`` wide, the border included) are all ``fill``. None when the picture is
    not such a grid of at least two cells (a single image, or another fill colour)."""
    a = grid if grid.ndim == 3 else grid[:, :, None]
    gap = np.all(a == fill, axis=2)

    def period(lines: np.ndarray) -> tuple[int, int] | None:
        size = len(lines)
        if lines.all():
            return None
        for cell in range(1, size - 2 * padding + 1):
            step = cell + padding
            if (size - padding) % step:
                continue
            starts = np.arange((size - padding) // step + 1) * step
            if lines[(starts[:, None] + np.arange(padding)).ravel()].all():
                return cell, len(starts) - 1
        return None

    rows, cols = period(gap.all(axis=1)), period(gap.all(axis=0))
    if rows is None or cols is None or rows[1] * cols[1] < 2:
        return None
    return GridLayout(rows[1], cols[1], rows[0], cols[0], padding)


def make_grid(images: torch.Tensor, ncol: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile float images in [-1, 1], shape (N, C, H, W), into one uint8 (H', W', C) array
    (``to_frames`` then ``tile``)."""
    return tile(to_frames(images), ncol, padding)


def display_pixels(array: np.ndarray) -> np.ndarray:
    """A uint8 (H, W[, C]) picture as a display toolkit wraps it without a copy: C-contiguous,
    (H, W) for one channel, (H, W, C) otherwise. The window's training job makes its previews
    so in the job's thread (``studio.qt.runner``'s ``prepare``), not on the UI thread."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return np.ascontiguousarray(array, dtype=np.uint8)


def save_png(array: np.ndarray, path: str | os.PathLike, scale: int = 1) -> Path:
    """Write a uint8 (H, W, C) array as PNG atomically (encoded in memory, then temp file +
    os.replace: ``export.save_picture``); a failed write is ``export.WriteError`` (an OSError
    too) naming the folder and the cause."""
    from .export import save_picture

    return save_picture(array, path, scale)


def read_grid_png(path: str | os.PathLike, limit: int = 64 << 20) -> np.ndarray:
    """A sample grid PNG as the uint8 (H, W, C) array ``save_png`` wrote (C = 1 gray, 3 colour).
    Read as a regular file of at most ``limit`` bytes (``fsio.read_regular``: a run folder is a
    trust boundary); OSError / UnsafeFile, or PIL's error for a file that is not a picture."""
    import io

    from PIL import Image

    from .fsio import read_regular

    with Image.open(io.BytesIO(read_regular(path, limit))) as im:
        array = np.asarray(im.convert("L" if im.mode in ("L", "LA", "I", "I;16") else "RGB"))
    return array[:, :, None] if array.ndim == 2 else array


def save_grid_png(batches: Iterable[np.ndarray], n: int, path: str | os.PathLike, scale: int = 1,
                  ncol: int | None = None, padding: int = 2) -> Path:
    """Write ``n`` uint8 images arriving in ``batches`` (each (B, C, H, W), C = 1 or 3) as one PNG
    grid laid out exactly like ``make_grid`` + ``save_png``, one row of tiles at a time: memory
    holds one batch and one row of tiles, never the grid (40,000 images of 28×28 at scale 2
    are a 12,004² PNG). Written atomically: an exclusive temporary file in the same folder,
    fsync'd, then ``os.replace``d (``studio.fsio``'s rule); on error ``path`` is untouched."""
    import tempfile

    import png  # pypng: writes rows as they come

    from .fsio import _FILE_MODE, TEMP_SUFFIX

    batches = iter(batches)
    pending = np.empty((0,), np.uint8)
    first = next(batches)
    _, c, h, w = first.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(n)))
    nrow = math.ceil(n / ncol)
    width = ncol * (w + padding) + padding
    height = nrow * (h + padding) + padding

    def rows():
        nonlocal pending
        pending = np.asarray(first)
        band = np.full((padding, width, c), 96, np.uint8)
        yield from _scaled_lines(band, scale)
        for r in range(nrow):
            need = min(ncol, n - r * ncol)
            while len(pending) < need:
                pending = np.concatenate([pending, np.asarray(next(batches))])
            tiles, pending = pending[:need], pending[need:]
            band = np.full((h + padding, width, c), 96, np.uint8)
            for i, tile in enumerate(tiles):
                x = padding + i * (w + padding)
                band[:h, x:x + w] = tile.transpose(1, 2, 0)
            yield from _scaled_lines(band, scale)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = png.Writer(width * scale, height * scale, greyscale=c == 1, bitdepth=8)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)  # what open() would give (mkstemp makes 0600)
        with os.fdopen(fd, "wb") as f:
            writer.write_packed(f, rows())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _scaled_lines(band: np.ndarray, scale: int) -> Iterator[bytes]:
    """The pixel rows of a uint8 (H, W, C) band magnified ``scale``× (nearest), as PNG rows."""
    line_pixels = np.repeat(band, scale, axis=1) if scale > 1 else band
    for line in line_pixels:
        packed = line.tobytes()
        for _ in range(scale):
            yield packed
