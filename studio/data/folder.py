"""`folder:PATH` datasets: any folder of images, decoded once into a uint8 tensor, or, when the
decoded folder would not fit the memory budget, checked once and streamed from disk
(:mod:`studio.data.stream`).

Bad files never crash a load; they are listed in ``ImageDataset.skipped`` with the reason
(a training run writes the list to ``skipped.txt`` in its folder: :func:`skipped_report`).
Decoding (every Pillow mode, transparency, large images) lives in :mod:`studio.data.decode`.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from .base import DatasetError, ImageDataset, convert_channels
from .decode import UnreadableImage, decode_image
from .stream import FolderImages, cache_bytes, memory_budget

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
DEFAULT_RESOLUTION = 32
DECODE_CHUNK = 4096  # files submitted to the decoding threads at a time
TEST_FRACTION = 0.1  # folders have no held-out split: "test" is a fixed 10% sample of the images


def _scan(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Candidate image files (sorted, recursive) and the other files, as skipped."""
    files, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue  # .DS_Store and friends
            path = Path(dirpath, name)
            ext = path.suffix.lower()
            if not path.is_file():  # a FIFO or device would block the decoder; a dangling link fails
                skipped.append((str(path), "not a regular file"))
            elif ext in IMAGE_EXTENSIONS:
                files.append(path)
            else:
                skipped.append((str(path), f"not an image type ({ext or 'no extension'})"))
    return files, skipped


def _test_sample(files: list[Path], root: Path) -> list[Path]:
    """A deterministic ~10% of the files, chosen by a hash of their relative path."""
    key = lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).hexdigest()  # noqa: E731
    chosen = set(sorted(files, key=key)[: max(1, round(len(files) * TEST_FRACTION))])
    return [p for p in files if p in chosen]


def load_folder(path: str, *, split: str = "train", resolution: int | None = None,
                channels: int | None = None, progress=None, memory_mb: int | None = None) -> ImageDataset:
    """The images of the folder at ``path`` as an ``ImageDataset`` (module docstring), each
    decoded at ``resolution`` px (default 32) by ``decode.decode_image``. When the decoded folder
    (N × R × R × 3 bytes) exceeds the memory budget (``stream.memory_budget(memory_mb)``), the
    images are checked the same way but kept on disk: ``images`` is a lazy
    ``stream.FolderImages`` read through a bounded cache. ``progress(done, total)`` while decoding.
    DatasetError (one line) for a missing/empty folder, bad options or no readable image."""
    root = Path(path).expanduser()
    if not str(path).strip():
        raise DatasetError("folder: needs a path, e.g. folder:/home/me/pictures")
    if not root.exists():
        raise DatasetError(f"folder {root} does not exist; check the path after 'folder:'")
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; 'folder:' needs a directory of images")
    root = root.resolve()
    res = resolution or DEFAULT_RESOLUTION
    if not 4 <= res <= 1024:
        raise DatasetError(f"resolution must be between 4 and 1024 pixels, got {res}")
    if channels not in (None, 1, 3):
        raise DatasetError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")

    files, skipped = _scan(root)
    if not files and not skipped:
        raise DatasetError(f"folder {root} is empty; put .png/.jpg/.webp/.bmp/.gif images in it (subfolders = classes)")

    # immediate subfolders are classes when more than one holds images
    top = [p.relative_to(root).parts[0] if len(p.relative_to(root).parts) > 1 else None for p in files]
    classes = sorted({t for t in top if t is not None})
    if len(classes) > 1:
        skipped += [(str(p), "outside the class subfolders") for p, t in zip(files, top) if t is None]
        files = [p for p, t in zip(files, top) if t is not None]
    else:
        classes = []
    if split == "test" and files:
        files = _test_sample(files, root)

    budget = memory_budget(memory_mb)
    n = len(files)
    keep = n * res * res * 3 <= budget  # decoded into memory (RGB while loading); else streamed from disk
    ok, colour, failures, pixels = _decode_all(files, res, keep, progress)
    skipped += [(str(files[i]), r) for i, r in sorted(failures.items())]

    if not ok.any():
        first = f" (e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise DatasetError(f"no readable images in {root}: {len(skipped)} files skipped{first}; "
                           f"supported types are {', '.join(sorted(IMAGE_EXTENSIONS))}")
    if channels is None:  # colour if any image has colour (JPEG chroma noise tolerated)
        channels = 3 if colour[ok].any() else 1
    if keep:
        images = torch.from_numpy(pixels if ok.all() else pixels[ok])  # no copy when every file decoded
        if channels == 1:
            images = convert_channels(images, 1)
    else:
        images = FolderImages([files[i] for i in np.flatnonzero(ok)], res, channels, cache_bytes(budget))
    labels = names = None
    if classes:
        index = {c: k for k, c in enumerate(classes)}
        labels = torch.tensor([index[files[i].relative_to(root).parts[0]] for i in np.flatnonzero(ok)])
        names = classes
    return ImageDataset(f"folder:{root}", images, labels, names, skipped=skipped,
                        license="user-provided images", split=split)


def _decode_all(files: list[Path], res: int, keep: bool, progress=None):
    """Decode every file once (threads; the decoder bounds the pixels in flight): (ok mask,
    per-image "has colour" mask, {index: reason} of the failures, pixels (N, 3, R, R) uint8 if
    ``keep`` else None)."""
    n = len(files)
    pixels = np.empty((n, 3, res, res), dtype=np.uint8) if keep else None  # (N, C, H, W): the tensor's layout
    ok, colour = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)

    def work(i: int) -> tuple[int, str | None]:
        try:
            image = decode_image(files[i], res)
        except UnreadableImage as exc:
            return i, str(exc)
        except Exception as exc:  # a decoder bug on one file must not lose the whole folder
            return i, f"{type(exc).__name__}: {exc}"
        colour[i] = np.abs(image[..., :1].astype(np.int16) - image[..., 1:]).max() > 3
        if keep:
            pixels[i] = image.transpose(2, 0, 1)
        return i, None

    failures: dict[int, str] = {}
    pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
    try:
        every, done = max(1, n // 200), 0
        for start in range(0, n, DECODE_CHUNK):  # a bounded number of futures in flight
            for i, reason in pool.map(work, range(start, min(n, start + DECODE_CHUNK))):
                done += 1
                if reason is None:
                    ok[i] = True
                else:
                    failures[i] = reason
                if progress is not None and (done % every == 0 or done == n):
                    progress(done, n)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return ok, colour, failures, pixels


SKIPPED_FILE = "skipped.txt"


def skipped_report(skipped: list[tuple[str, str]]) -> bytes:
    """The full list of skipped files as UTF-8 text, one ``path<TAB>reason`` line each (tabs and
    newlines in names escaped, undecodable name bytes as backslash escapes)."""
    escape = lambda text: text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")  # noqa: E731
    lines = [f"# {len(skipped)} files skipped (path, tab, reason)"]
    lines += [f"{escape(path)}\t{escape(reason)}" for path, reason in skipped]
    return ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")


def describe_skipped(skipped: list[tuple[str, str]], root: str | None = None, first: int = 5) -> list[str]:
    """A few lines for a terminal: the count, then the first ``first`` files (relative to
    ``root`` when under it) with their reasons."""
    if not skipped:
        return []

    def short(path: str) -> str:
        try:
            return Path(path).relative_to(root).as_posix() if root else path
        except ValueError:
            return path

    where = f" in {root}" if root else ""
    lines = [f"skipped {len(skipped)} file{'s' if len(skipped) != 1 else ''}{where}:"]
    lines += [f"  {short(p)}: {why}" for p, why in skipped[:first]]
    if len(skipped) > first:
        lines.append(f"  … and {len(skipped) - first} more")
    return lines
