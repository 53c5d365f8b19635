"""One image file -> one small uint8 RGB square, for ``folder:PATH`` datasets.

Every mode Pillow opens is handled the same way (transparency composited on white, 16-bit and
float values scaled to 8 bits), and a large image is never held in memory more than once:

========================  ================================================================
mode (how files get it)    what the decoder does
========================  ================================================================
1, L, RGB                  as is; a tRNS colour key (PNG) becomes an alpha channel
L from 2/4-bit PNG         Pillow keeps the key at the file's bit depth: it is rescaled first
RGB from 16-bit PNG        Pillow keeps the top byte of each sample; the 16-bit key likewise
LA, RGBA, PA               alpha composited on white (premultiplied, so edges don't darken)
P (PNG, GIF, BMP, TIFF)    palette -> RGB(A), with its index or per-entry (tRNS) transparency
I;16 (16-bit gray PNG/TIFF) value / 257; a tRNS key is matched on the 16-bit values
I, F (32-bit TIFF)         the range is inferred: max <= 1 (F only) -> [0, 1], <= 255 -> [0, 255],
                           <= 65535 -> [0, 65535], else [0, max]; negatives and NaN -> 0
CMYK, YCbCr, LAB, HSV      Pillow's conversion to RGB (LAB: CIE L*a*b* D65 -> sRGB)
========================  ================================================================

Large images: JPEGs decode at a reduced DCT scale (``Image.draft``), every image is box-reduced
(``Image.reduce``) to about twice the target size before any copy is made, and the pixels being
decoded at once across threads are bounded by :data:`DECODE_PIXEL_BUDGET`.
"""

from __future__ import annotations

import os
import stat
import struct
import threading
from pathlib import Path

import numpy as np

from .base import DatasetError

# Pixels (of all images being decoded at once) allowed in flight; Pillow stores up to 4 bytes per
# pixel, so ~256 MB. An image larger than the budget decodes alone.
DECODE_PIXEL_BUDGET = 64 * 2**20
REDUCING_GAP = 2.0  # reduce to >= 2x the target side before the final Lanczos resize (as Image.thumbnail)
_ORIENTATION = 0x0112  # EXIF tag; values 2..8 -> the transpose that shows the image upright
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}


class UnreadableImage(DatasetError):
    """A file that is not a usable image; the message is the reason it is skipped."""


class _PixelBudget:
    """A weighted semaphore admitting decodes first come, first served while their pixels fit."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self._cond = threading.Condition()
        self._next = self._serving = 0

    def acquire(self, pixels: int) -> int:
        pixels = min(pixels, self.budget)
        with self._cond:
            ticket, self._next = self._next, self._next + 1
            self._cond.wait_for(lambda: self._serving == ticket and self.used + pixels <= self.budget)
            self._serving += 1
            self.used += pixels
            self._cond.notify_all()
        return pixels

    def release(self, pixels: int) -> None:
        with self._cond:
            self.used -= pixels
            self._cond.notify_all()


_budget = _PixelBudget(DECODE_PIXEL_BUDGET)


def decode_image(path: str | os.PathLike, resolution: int, fit: str = "crop") -> np.ndarray:
    """One file -> uint8 array (R, R, 3), R = ``resolution``: the shorter side scaled to R
    (Lanczos when shrinking, bicubic when enlarging), centre-cropped, shown upright (EXIF
    orientation), transparency on white. ``fit="contain"`` keeps the whole picture instead:
    its longer side scaled to R, so (R, ≤R, 3) or (≤R, R, 3) (the caller pads it square).

    Raises :class:`UnreadableImage` (a :class:`DatasetError`) naming why the file is skipped:
    not a regular file, empty, unknown format, truncated or corrupt data, over Pillow's
    decompression-bomb limit (``Image.MAX_IMAGE_PIXELS`` x 2), or too large for memory.
    """
    from PIL import Image

    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise UnreadableImage(f"cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableImage("not a regular file")
    if info.st_size == 0:
        raise UnreadableImage("empty file (0 bytes)")
    try:
        with Image.open(path) as im:
            return _decode(im, resolution, fit)
    except UnreadableImage:
        raise
    except MemoryError:
        raise UnreadableImage("too large to decode in the memory available") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError,
            ZeroDivisionError, Image.DecompressionBombError) as exc:  # what Pillow raises on bad data
        raise UnreadableImage(_reason(exc)) from None


def _reason(exc: Exception) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not a readable image (unknown format or corrupt header)"
    if isinstance(exc, Image.DecompressionBombError):
        return f"too many pixels ({exc})"
    text = str(exc) or type(exc).__name__
    if "truncated" in text:
        return f"truncated file ({text})"
    return f"corrupt image data ({type(exc).__name__}: {text})"


def _decode(im, resolution: int, fit: str = "crop") -> np.ndarray:
    from PIL import Image

    rawmode = _rawmode(im)
    im.draft(None, (round(resolution * REDUCING_GAP),) * 2)  # JPEG: decode at 1/2, 1/4 or 1/8 scale
    w, h = im.size
    if w < 1 or h < 1:
        raise UnreadableImage(f"has no pixels ({w}×{h})")
    weight = _budget.acquire(w * h)
    try:
        im.load()  # the full decode: truncation and corrupt data are caught here
        orientation = _orientation(im)
        im = _straight(im, _transparency_key(im, rawmode))
        side = min(w, h)
        box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
        if fit == "contain":  # the whole picture, its longer side to R
            side, box = max(w, h), (0, 0, w, h)
        factor = int(side / resolution / REDUCING_GAP)
        im = im.reduce(factor, box=box) if factor > 1 else im.crop(box)
    finally:
        _budget.release(weight)
    size = (resolution, resolution)
    if fit == "contain":
        size = tuple(max(1, round(v * resolution / max(im.size))) for v in im.size)
    method = Image.Resampling.LANCZOS if im.width > size[0] else Image.Resampling.BICUBIC
    im = im.resize(size, method)
    if orientation in _TRANSPOSE:
        im = im.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
    return _on_white(im)


def _rawmode(im) -> str:
    """How the file's samples are unpacked (read before load, which drops the tile list)."""
    try:
        args = im.tile[0][3]
        return args if isinstance(args, str) else str(args[0])
    except (IndexError, TypeError, AttributeError):
        return ""


def _orientation(im) -> int:
    try:
        value = im.getexif().get(_ORIENTATION, 1)
        return value if isinstance(value, int) else 1
    except Exception:  # a damaged EXIF block does not make the pixels unreadable
        return 1


def _transparency_key(im, rawmode: str):
    """The colour-key transparency (PNG tRNS for gray or RGB) in the units of the decoded pixels,
    or None. Palette transparency stays with the palette."""
    key = im.info.get("transparency")
    if key is None or im.mode in ("P", "PA"):
        return None
    if im.mode == "RGB":
        if not (isinstance(key, tuple) and len(key) == 3):
            return None
        return tuple(int(k) >> 8 for k in key) if rawmode.startswith("RGB;16") else tuple(int(k) for k in key)
    if not isinstance(key, int):
        return None
    for bits in (2, 4):  # Pillow scales 2/4-bit gray pixels to 0..255 but not the key
        if rawmode.startswith(f"L;{bits}"):
            return key * 255 // (2**bits - 1)
    return key


def _straight(im, key):
    """-> the same pixels as mode L, LA, RGB or RGBA (8 bits; alpha not premultiplied)."""
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        return _from_wide(im, key)
    if mode == "1":
        im, mode = im.convert("L"), "L"
    if mode in ("L", "RGB"):
        if key is None:
            return im
        im.info["transparency"] = key
        return im.convert("LA" if mode == "L" else "RGBA")
    if mode in ("LA", "RGBA"):
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    if mode == "La":
        return im.convert("LA")
    return im.convert("RGBA" if mode in ("RGBa", "RGBA") else "RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, RGBa


def _from_wide(im, key):
    """16-bit or 32-bit gray -> L (LA with a colour key), scaled in strips of rows so no
    full-size float copy is made."""
    from PIL import Image

    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        top = 65535.0
    else:
        finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        peak = float(finite.max()) if finite.size else 0.0
        if a.dtype.kind == "f" and peak <= 1.0:
            top = 1.0
        else:
            top = next((t for t in (255.0, 65535.0) if peak <= t), peak)
    gray = np.empty(a.shape, np.uint8)
    rows = max(1, 2**20 // max(1, a.shape[1]))
    for y in range(0, a.shape[0], rows):
        strip = np.nan_to_num(a[y:y + rows].astype(np.float32), nan=0.0, posinf=top, neginf=0.0)
        gray[y:y + rows] = np.clip(np.rint(strip * (255.0 / top)), 0, 255)
    out = Image.fromarray(gray, "L")
    if key is None or not isinstance(key, (int, float)):
        return out
    alpha = np.where(a == key, 0, 255).astype(np.uint8)
    return Image.merge("LA", (out, Image.fromarray(alpha, "L")))


def _on_white(im) -> np.ndarray:
    """L/LA/RGB/RGBA -> uint8 (H, W, 3), alpha composited on white."""
    a = np.asarray(im, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    if im.mode in ("LA", "RGBA"):
        color, alpha = a[:, :, :-1].astype(np.uint16), a[:, :, -1:].astype(np.uint16)
        a = ((color * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(a, (*a.shape[:2], 3)) if a.shape[2] == 1 else a)
