"""Datasets for Generative Studio: bundled, procedural, folders of images, and torchvision-layout roots.

Every loader returns an :class:`ImageDataset` holding all images in memory as one uint8 tensor
(except a folder over the memory budget, see below).
Names (the dataset "spec") are shared by the CLI, the GUI and run.json:

- bundled:     fashion-mnist-5k (default), mnist-5k, emoji-32
- procedural:  shapes, color-shapes          (seeded, with ground-truth factors)
- local roots: mnist, fashion-mnist, cifar10 (torchvision layout under ``root``; optional download)
- folder:PATH  any folder of images; immediate subfolders become class labels (a folder too big
               for memory is streamed from disk: ``images`` is then a lazy ``stream.FolderImages``)
"""

from __future__ import annotations

import importlib
from typing import Any

from .names import (BUNDLED, DEFAULT_DATASET, FOLDER_PREFIX, PROCEDURAL, STANDARD, canonical_spec, dataset_names,
                    default_data_root, describe_dataset)

__all__ = ["DatasetError", "ImageDataset", "DEFAULT_DATASET", "canonical_spec", "dataset_names", "describe_dataset",
           "default_data_root", "load_dataset", "to_unit_range", "to_uint8"]

# torch-free above (the window's menu and checks use them before torch is in); these import torch
_BASE_NAMES = ("DatasetError", "ImageDataset", "convert_channels", "resize_square", "subsample", "to_uint8",
               "to_unit_range")


def __getattr__(name: str) -> Any:
    if name not in _BASE_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".base", __name__), name)


def load_dataset(spec: str, *, split: str = "train", resolution: int | None = None, channels: int | None = None,
                 root: str | None = None, download: bool = False, seed: int = 0, size: int | None = None,
                 progress=None, memory_mb: int | None = None) -> ImageDataset:
    """Load a dataset by name or ``folder:PATH``.

    resolution/channels convert any dataset (antialiased resize, gray <-> RGB); procedural sets are
    rendered natively at ``resolution``. ``size`` caps the number of images (procedural: how many to
    generate; others: a seeded random subset). ``progress(done, total)`` is called during folder loads.
    ``memory_mb`` (folders): the memory budget in MiB above which the folder is streamed from disk
    instead of decoded into memory (``data.stream.memory_budget``; None: a quarter of the free memory).
    """
    from .base import DatasetError, convert_channels, resize_square, subsample

    if split not in ("train", "test"):
        raise DatasetError(f"split must be 'train' or 'test', got {split!r}")
    if channels not in (None, 1, 3):
        raise DatasetError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
    if size is not None and size <= 0:
        raise DatasetError(f"size must be a positive number of images, got {size}")
    spec = spec.strip()

    if spec.startswith(FOLDER_PREFIX):
        from .folder import load_folder

        ds = load_folder(spec[len(FOLDER_PREFIX):], split=split, resolution=resolution, channels=channels,
                         progress=progress, memory_mb=memory_mb)
        return subsample(ds, size, seed) if size else ds

    name = spec.lower()
    if name in BUNDLED:
        from .bundled import load_bundled

        ds = load_bundled(name, split)
    elif name in PROCEDURAL:
        from .procedural import generate

        ds = generate(name, split=split, seed=seed, size=size, resolution=resolution)
        size = None
    elif name in STANDARD:
        from .standard import load_standard

        ds = load_standard(name, split=split, root=root, download_missing=download)
    else:
        raise DatasetError(f"unknown dataset {spec!r}; known datasets: {', '.join(dataset_names())}, "
                           f"or folder:PATH for a folder of images")

    if size:
        ds = subsample(ds, size, seed)
    images = ds.images
    if resolution is not None:
        images = resize_square(images, resolution)
    if channels is not None:
        images = convert_channels(images, channels)
    if images is not ds.images:
        ds.images = images.contiguous()
    return ds
