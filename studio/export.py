"""Frames to files: PNG strips, animated GIFs and (when an encoder is installed) MP4s.

Frames are uint8 arrays (H, W) or (H, W, C), all the same shape. Every file is written to a
temporary name and renamed into place, like the run folder's files. Qt-free: the latent
explorer, the diffusion viewer and the CLI all export through here. ``write_problem`` is the one
rule for whether a file can be written somewhere (its folder exists and takes files), which the
window's export dialogs and the CLI's ``--out`` check before any drawing or sampling.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import SpecError, sentence
from .fsio import _FILE_MODE, atomic_write_bytes, os_reason

def _cant_write(folder: Path, exc: OSError) -> str:
    return f"can't write to {folder} ({os_reason(exc)}): choose another folder"


def write_problem(path: str | os.PathLike, create: bool = False) -> str | None:
    """Why a file cannot be written at ``path``, as a clause a face completes ("the folder X does
    not exist", "X is a folder; give a file name", "can't write to X (permission denied): choose
    another folder"), or None when it can. The one rule the window's export dialogs and the CLI's
    ``--out`` share, checked before any work is done. Writability is tried, not guessed from the
    mode bits (root passes ``os.access`` into an immutable or read-only folder): an empty hidden
    file is created in the folder and removed at once. ``create``: a missing folder is made by the
    writer (the exports here do), so the nearest part of it that exists is checked instead."""
    path = Path(path)
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if create and not path.parent.exists():
        return folder_problem(path.parent)
    if path.parent.exists() and not path.parent.is_dir():
        return f"{path.parent} is a file, not a folder"
    if not path.parent.is_dir():
        return f"the folder {path.parent} does not exist"
    return _probe(path.parent)


def folder_problem(folder: str | os.PathLike) -> str | None:
    """``write_problem`` for a folder that is created when missing (``--report DIR``): the
    nearest part of it that exists must be a folder that takes files."""
    existing = Path(folder).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    return _probe(existing)


def _probe(folder: Path) -> str | None:
    test = folder / f".studio-write-test-{os.getpid()}"
    try:
        fd = os.open(test, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # left by a process that was killed: the folder takes files
        return None
    except OSError as exc:
        return _cant_write(folder, exc)
    os.close(fd)
    test.unlink(missing_ok=True)
    return None


def check_writable(path: str | os.PathLike, field: str | None = "out") -> Path:
    """``path`` when a file can be written there; else ``SpecError("PATH: <write_problem>", field)``
    (the CLI: ``error: --out PATH: can't write to FOLDER (permission denied): choose another folder``)."""
    problem = write_problem(path)
    if problem:
        raise SpecError(f"{path}: {problem}", field=field)
    return Path(path)


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


class WriteError(ValueError, OSError):
    """A file could not be written; the message is the window's line ("Can't write to X (…): …").
    A ValueError, so a job's outcome shows it as it is (``engine.jobs.describe_error``), and still
    an OSError for the callers that handle a failed write as one."""


def _replace_into(path: Path, write: Callable[[Path], None] | bytes) -> Path:
    """Write ``path`` through a hidden temporary file and rename it into place. ``write`` is the
    encoded file (``bytes``: the temporary file then lives for a single write, so a process
    ended while an animation is encoded leaves nothing behind) or a function writing the file.
    The temporary is made new (``mkstemp``: never a file or link already there, never another
    export's). An OSError is raised as ``WriteError`` naming the folder and the cause, never the
    temporary."""
    tmp = None
    try:
        if isinstance(write, bytes):
            atomic_write_bytes(path, write)  # the one whole-or-nothing write: exclusive temporary, file mode, fsync
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
        tmp = Path(name)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)  # what open() would give (mkstemp makes 0600: others could not read it)
        os.close(fd)
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise WriteError(sentence(_cant_write(path.parent, exc))) from exc
        raise
    return path


def _encoded(image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


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


def save_picture(frame: np.ndarray, path: str | os.PathLike, scale: int = 1) -> Path:
    """One uint8 (H, W[, C]) picture as a PNG, ``scale`` × larger with nearest-neighbour pixels."""
    return _replace_into(Path(path), _encoded(_as_pil(frame, scale), format="PNG"))


def save_png_strip(frames: Sequence[np.ndarray], path: str | os.PathLike, scale: int = 1) -> Path:
    return _replace_into(Path(path), _encoded(_as_pil(strip(frames), scale), format="PNG"))


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 12, scale: int = 1,
             loop: bool = True, check: Callable[[], None] | None = None) -> Path:
    """An animated GIF, one frame per array; Pillow merges identical consecutive frames into one
    longer frame, so the timing stays right but the frame count can be lower. It is encoded in
    memory and written in one go. ``check`` (e.g. ``Control.check``) is called between frames
    and may raise ``Cancelled`` to stop before anything is written."""
    _check(frames)
    check = check or (lambda: None)
    images = []
    for f in frames:
        check()
        image = _as_pil(f, scale)
        # one adaptive palette per frame keeps colours honest
        images.append(image.quantize(colors=256, method=2, dither=0) if image.mode == "RGB" else image)
    check()
    duration = max(20, int(round(1000 / fps)))
    data = _encoded(images[0], format="GIF", save_all=True, append_images=images[1:], duration=duration,
                    loop=0 if loop else 1, disposal=1, optimize=False)
    return _replace_into(Path(path), data)


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
