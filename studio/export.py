"""Frames to files: PNG strips, animated GIFs and (when an encoder is installed) MP4s.

Frames are uint8 arrays (H, W) or (H, W, C), all the same shape. Every file is written to a
temporary name and renamed into place, like the run folder's files. Qt-free: the latent
explorer, the diffusion viewer and the CLI all export through here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np


def _as_pil(frame: np.ndarray, scale: int):
    from PIL import Image

    a = np.ascontiguousarray(frame)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    image = Image.fromarray(a)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


def _check(frames: Sequence[np.ndarray]) -> None:
    if len(frames) == 0:
        raise ValueError("nothing to export: no frames")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"frames differ in shape: {sorted(shapes)}")


def _replace_into(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


EXPORT_PX = 256  # exported pictures are at least this tall: big enough to show on a projector


def export_scale(frame: np.ndarray, at_least: int = EXPORT_PX) -> int:
    """The whole-pixel enlargement that makes ``frame`` (H, W[, C]) at least ``at_least`` px tall
    (pixel-exact: nearest-neighbour, no blur)."""
    return max(1, -(-at_least // frame.shape[0]))


def strip(frames: Sequence[np.ndarray], padding: int = 2, fill: int = 96) -> np.ndarray:
    """Frames side by side in one uint8 array, with mid-gray gaps."""
    _check(frames)
    h, w = frames[0].shape[:2]
    c = frames[0].shape[2] if frames[0].ndim == 3 else None
    shape = (h + 2 * padding, len(frames) * (w + padding) + padding) + ((c,) if c else ())
    out = np.full(shape, fill, np.uint8)
    for i, f in enumerate(frames):
        x = padding + i * (w + padding)
        out[padding:padding + h, x:x + w] = f
    return out


def save_png_strip(frames: Sequence[np.ndarray], path: str | os.PathLike, scale: int = 1) -> Path:
    image = _as_pil(strip(frames), scale)
    return _replace_into(Path(path), lambda tmp: image.save(tmp, format="PNG"))


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 12, scale: int = 1,
             loop: bool = True) -> Path:
    """An animated GIF, one frame per array; Pillow merges identical consecutive frames into one
    longer frame, so the timing stays right but the frame count can be lower."""
    _check(frames)
    images = [_as_pil(f, scale) for f in frames]
    if images[0].mode == "RGB":  # one adaptive palette per frame keeps colours honest
        images = [im.quantize(colors=256, method=2, dither=0) for im in images]
    duration = max(20, int(round(1000 / fps)))

    def write(tmp: Path) -> None:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration,
                       loop=0 if loop else 1, disposal=1, optimize=False)

    return _replace_into(Path(path), write)


def mp4_available() -> bool:
    """MP4 needs imageio with the ffmpeg binary that imageio-ffmpeg's wheels ship (both are
    dependencies, and the app bundle collects the binary); GIF and PNG always work."""
    try:
        import imageio.v2  # noqa: F401
        import imageio_ffmpeg

        return Path(imageio_ffmpeg.get_ffmpeg_exe()).is_file()
    except (ImportError, RuntimeError, OSError):  # no binary for this platform
        return False


def save_mp4(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 24, scale: int = 4) -> Path:
    """H.264 MP4; sizes are padded to even numbers as yuv420p requires."""
    _check(frames)
    if not mp4_available():
        raise ValueError("MP4 export needs the ffmpeg of imageio-ffmpeg, which is missing from this "
                         "installation: reinstall Generative Studio, or export a GIF")
    import imageio.v2 as imageio

    def write(tmp: Path) -> None:
        with imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", quality=8,
                                macro_block_size=2, ffmpeg_log_level="error") as writer:
            for f in frames:
                a = np.asarray(_as_pil(f, scale).convert("RGB"))
                h, w = a.shape[:2]
                writer.append_data(np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge"))

    return _replace_into(Path(path), write)


def save_animation(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 12,
                   scale: int = 1) -> Path:
    """GIF, MP4 or PNG strip, chosen by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        return save_gif(frames, path, fps, scale)
    if suffix == ".mp4":
        return save_mp4(frames, path, fps, max(scale, 1))
    if suffix == ".png":
        return save_png_strip(frames, path, scale)
    raise ValueError(f"cannot export {path}: choose a .gif, .mp4 or .png file name")
