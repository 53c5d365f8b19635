"""Bringing a picture in: any image file (or pasted pixels) fitted to a model's resolution and
channels, as a float tensor in the model's range; masks for inpainting; writing results.

Files are decoded by the dataset decoder (``studio.data.decode.decode_image``: every Pillow
mode, EXIF rotation, transparency composited on white, large images reduced while decoding)
after a cheap header check that refuses absurd sizes before any pixel is decoded. ``fit`` chooses how a non-square picture becomes
square: ``"crop"`` keeps the centre square (the dataset loader's rule), ``"pad"`` keeps the
whole picture and fills the sides with the median colour of its border (black around a
Fashion-MNIST-like garment, white around a product photo).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import SpecError

FITS = ("crop", "pad")
MAX_FILE_BYTES = 200 * 2 ** 20  # 200 MB: no picture a user edits here is bigger
MAX_PIXELS = 40_000_000  # 40 megapixels (e.g. 8000 × 5000): decoded at most once, then shrunk
MASK_NAMES = ("left", "right", "top", "bottom", "centre")  # half-image masks (centre: the middle square)


def _pil():
    from PIL import Image

    return Image


def check_fit(fit: str) -> None:
    if fit not in FITS:
        raise SpecError(f"must be one of {', '.join(FITS)}, got {fit!r}", field="fit")


def picture_size(path: str | os.PathLike, field: str = "image") -> tuple[int, int]:
    """(width, height) from the file's header, after checking it is a readable, not absurdly
    large image file. Raises ``SpecError(field=field)`` with the reason."""
    from PIL import UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise SpecError(f"{path} does not exist", field=field)
    if not path.is_file():
        raise SpecError(f"{path} is not a regular file", field=field)
    size = path.stat().st_size
    if size == 0:
        raise SpecError(f"{path} is empty (0 bytes)", field=field)
    if size > MAX_FILE_BYTES:
        raise SpecError(f"{path} is {size / 2 ** 20:.0f} MB; pictures up to "
                        f"{MAX_FILE_BYTES // 2 ** 20} MB can be edited", field=field)
    Image = _pil()
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Image.DecompressionBombError as exc:  # over twice Pillow's limit: refused before the size is known
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)) / 10 ** 6:,.0f} megapixels" if pixels else "too many pixels"
        raise SpecError(f"{path} is {size}; at most {MAX_PIXELS // 10 ** 6} megapixels can be decoded "
                        f"(shrink it first)", field=field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        reason = "not a readable image (unknown format or corrupt header)" \
            if isinstance(exc, UnidentifiedImageError) else str(exc) or type(exc).__name__
        raise SpecError(f"{path}: {reason}", field=field) from None
    if w < 1 or h < 1 or w * h > MAX_PIXELS:
        raise SpecError(f"{path} is {w}×{h} pixels; at most {MAX_PIXELS // 10 ** 6} megapixels "
                        f"can be decoded (shrink it first)", field=field)
    return w, h


def _pad_square(rgb: np.ndarray, fill=None) -> np.ndarray:
    """uint8 (h, w, 3) whose longer side is R → (R, R, 3), centred; the sides are ``fill``
    (default: the median colour of the picture's border)."""
    h, w, _ = rgb.shape
    side = max(h, w)
    if fill is None:
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        fill = np.median(border, axis=0)
    out = np.empty((side, side, 3), np.uint8)
    out[:] = np.asarray(fill, dtype=np.float64).round().astype(np.uint8)
    y, x = (side - h) // 2, (side - w) // 2
    out[y:y + h, x:x + w] = rgb
    return out


def _to_model(rgb: np.ndarray, image_shape: tuple[int, int, int]) -> Tensor:
    """uint8 (R, R, 3) → float (1, C, R, R) in [−1, 1] with the model's channels."""
    from ..data.base import convert_channels, to_unit_range

    x = torch.tensor(rgb, dtype=torch.uint8).permute(2, 0, 1)[None]
    return to_unit_range(convert_channels(x, int(image_shape[0])))


def _check_shape(image_shape) -> tuple[int, int, int]:
    c, h, w = (int(v) for v in image_shape)
    if c not in (1, 3) or h != w:
        raise SpecError(f"pictures fit models of square 1- or 3-channel images, not {c}×{h}×{w}")
    return c, h, w


def _decode(path: str | os.PathLike, res: int, fit: str, field: str, fill=None) -> np.ndarray:
    """A checked file → uint8 (res, res, 3) RGB by the dataset decoder: its centre square
    (crop), or the whole picture padded square with ``fill`` (pad)."""
    from ..data.decode import decode_image

    picture_size(path, field)
    try:
        if fit == "crop":
            return decode_image(Path(path), res)
        return _pad_square(decode_image(Path(path), res, fit="contain"), fill)
    except ValueError as exc:  # the decoder's UnreadableImage: the reason the file cannot be read
        raise SpecError(f"{path}: {exc}", field=field) from None


def load_picture(path: str | os.PathLike, image_shape, fit: str = "crop", field: str = "image") -> Tensor:
    """An image file → float (1, C, H, W) in [−1, 1] for a model of ``image_shape`` (C, H, W).

    Any format Pillow reads; transparency on white; colour to grey by ITU-R 601 luma for a
    1-channel model. Raises ``SpecError(field=field)`` for a missing, empty, unreadable or
    oversized file (> ``MAX_FILE_BYTES`` or ``MAX_PIXELS``)."""
    check_fit(fit)
    _, res, _ = _check_shape(image_shape)
    rgb = _decode(path, res, fit, field)
    return _to_model(rgb, image_shape)


def fit_array(pixels: np.ndarray, image_shape, fit: str = "crop") -> Tensor:
    """Pixels already in memory (a pasted picture, a dataset image): uint8 (H, W), (H, W, 1|3|4)
    → float (1, C, R, R) in [−1, 1]; RGBA is composited on white."""
    from PIL import ImageOps

    check_fit(fit)
    _, res, _ = _check_shape(image_shape)
    a = np.asarray(pixels)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise SpecError(f"must be uint8 (H, W) or (H, W, 1|3|4), got {a.dtype} {a.shape}", field="image")
    if a.size == 0 or a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise SpecError(f"must have 1 to {MAX_PIXELS} pixels, got {a.shape[0]}×{a.shape[1]}", field="image")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    Image = _pil()
    im = Image.fromarray(np.ascontiguousarray(a))
    if im.mode == "RGBA":  # transparency on white, as the decoder does for files
        im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im)
    im = im.convert("RGB")
    # the decoder's resampling: Lanczos when shrinking, bicubic when enlarging
    shrink = (min if fit == "crop" else max)(im.size) > res
    method = Image.Resampling.LANCZOS if shrink else Image.Resampling.BICUBIC
    if fit == "crop":
        rgb = np.asarray(ImageOps.fit(im, (res, res), method), dtype=np.uint8)
    else:
        rgb = _pad_square(np.asarray(ImageOps.contain(im, (res, res), method), dtype=np.uint8))
    return _to_model(rgb, image_shape)


def named_mask(name: str, resolution: int) -> Tensor:
    """A half-image mask by name (``MASK_NAMES``), float (1, 1, R, R), 1 = regenerate."""
    m = torch.zeros(1, 1, resolution, resolution)
    half, q = resolution // 2, resolution // 4
    regions = {"left": (slice(None), slice(0, half)), "right": (slice(None), slice(half, None)),
               "top": (slice(0, half), slice(None)), "bottom": (slice(half, None), slice(None)),
               "centre": (slice(q, resolution - q), slice(q, resolution - q))}
    if name not in regions:
        raise SpecError(f"{name!r} is unknown; give a mask image or one of {', '.join(MASK_NAMES)}", field="mask")
    m[0, 0][regions[name]] = 1
    return m


def load_mask(spec: str | os.PathLike, image_shape, fit: str = "crop", invert: bool = False) -> Tensor:
    """An inpainting mask → float (1, 1, H, W) of 0 / 1, 1 = regenerate. ``spec`` is an image
    file (bright pixels, > 50 % grey, are regenerated; fitted like the picture, padding kept)
    or one of ``MASK_NAMES``."""
    _, res, _ = _check_shape(image_shape)
    if str(spec) in MASK_NAMES and not Path(spec).exists():
        m = named_mask(str(spec), res)
    elif not Path(spec).exists():
        raise SpecError(f"{spec} is neither an image file nor one of {', '.join(MASK_NAMES)}", field="mask")
    else:
        check_fit(fit)
        rgb = _decode(spec, res, fit, "mask", fill=(0, 0, 0))  # padding is kept, never regenerated
        m = (_to_model(rgb, (1, res, res)) > 0).float()
    return 1 - m if invert else m


def to_pixels(images: Tensor) -> np.ndarray:
    """float (N, C, H, W) in [−1, 1] → uint8 (N, H, W, C)."""
    from ..imaging import to_frames

    return to_frames(images)


def upscaled_path(out: str | os.PathLike, scale: int) -> Path:
    """Where the magnified copy of ``out`` goes: ``name-x8.png`` beside ``name.png``."""
    out = Path(out)
    return out.with_name(f"{out.stem}-x{scale}{out.suffix}")


def check_output(out: str | os.PathLike, field: str = "out") -> Path:
    """A writable ``.png`` path (its folder must exist and take files: ``export.check_writable``),
    checked before any work is done."""
    from ..export import check_writable

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise SpecError(f"{out} must end in .png", field=field)
    if out.is_dir():
        raise SpecError(f"{out} is a folder; give a file name ending in .png", field=field)
    return check_writable(out, field)


def save_pictures(images: Tensor, out: str | os.PathLike, scale: int = 8) -> tuple[Path, Path | None]:
    """Write float (N, C, H, W) pictures in [−1, 1] at the model's resolution (one picture as
    it is, several as a grid with 2-pixel gaps) and, for ``scale`` > 1, a copy magnified by
    ``scale`` with nearest-neighbour pixels. Returns both paths."""
    from ..imaging import save_png, tile

    frames = to_pixels(images)
    array = frames[0] if len(frames) == 1 else tile(frames)
    path = save_png(array, out)
    big = save_png(array, upscaled_path(out, scale), scale=scale) if scale > 1 else None
    return path, big
