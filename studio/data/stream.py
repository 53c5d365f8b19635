"""Folders too big for memory: images decoded from disk on demand, behind a bounded cache.

:func:`studio.data.folder.load_folder` decodes a folder into one uint8 tensor when the decoded
images fit the memory budget (:func:`memory_budget`), and otherwise returns an
:class:`~studio.data.base.ImageDataset` whose ``images`` is a :class:`FolderImages`: a lazy
stand-in for the (N, C, H, W) uint8 tensor. Indexing it decodes the files asked for
(``images[i]`` → (C, H, W), ``images[index]`` → (n, C, H, W), a real uint8 tensor);
``index_select(0, index)`` gives a lazy subset (``data.base.subsample``). The training loop reads
batches through ``studio.engine.batches.Batches``, which decodes in ``torch.utils.data``
worker processes for a ``FolderImages`` (pinned memory on CUDA) and indexes the tensor for the
rest: one rule for both.

Every file was decoded once when the folder was loaded (the same validation as an in-memory
load: bad files skipped and listed); a file that fails later (changed or removed while
training) raises :class:`~studio.data.base.DatasetError` naming it.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
import torch

from .base import DatasetError, convert_channels
from .decode import UnreadableImage, decode_image

MEMORY_FRACTION = 0.25  # of the memory available at load time, shared by torchrun's local ranks
CACHE_FRACTION = 0.5  # of the budget, for the decoded-image caches of a streamed folder
CACHE_LIMIT = 512 * 2**20  # bytes: a bigger cache buys little (an epoch visits images in random order)


def memory_budget(memory_mb: int | None = None) -> int:
    """Bytes a folder's decoded images may take in memory: ``memory_mb`` MiB if given (0: always
    stream), else ``MEMORY_FRACTION`` of the memory available now (psutil), divided among the
    processes torchrun starts on this machine (``LOCAL_WORLD_SIZE``)."""
    if memory_mb is not None:
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 0:
            raise DatasetError(f"memory_mb must be a whole number of MiB, 0 or more (0 streams every "
                               f"folder from disk), got {memory_mb!r}")
        return memory_mb * 2**20
    import psutil

    local_ranks = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    return int(psutil.virtual_memory().available * MEMORY_FRACTION) // local_ranks


def cache_bytes(budget: int) -> int:
    """The cache a streamed folder keeps, in bytes, for a memory budget of ``budget`` bytes."""
    return min(int(budget * CACHE_FRACTION), CACHE_LIMIT)


class FolderImages:
    """Lazy uint8 images (N, C, H, W) of ``files`` (paths that decoded when checked), each
    decoded at ``resolution`` by :func:`studio.data.decode.decode_image` and converted to
    ``channels`` (1: ITU-R 601 luma, as ``convert_channels``). Decoded images are kept in a
    least-recently-used cache of at most ``cache_bytes`` bytes (per process: a worker process
    starts with an empty one). Picklable (worker processes get a copy, cache left behind)."""

    dtype = torch.uint8

    def __init__(self, files: list[str], resolution: int, channels: int, cache_bytes: int = 0):
        if channels not in (1, 3):
            raise DatasetError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
        self.files = [str(f) for f in files]
        self.resolution, self.channels = int(resolution), int(channels)
        self.cache_bytes = max(0, int(cache_bytes))
        self._cache: OrderedDict[int, torch.Tensor] = OrderedDict()

    # --- what the tensor it stands for would say -------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.files), self.channels, self.resolution, self.resolution))

    @property
    def item_bytes(self) -> int:
        return self.channels * self.resolution ** 2

    @property
    def nbytes(self) -> int:
        """Bytes the decoded folder would take as one tensor."""
        return len(self.files) * self.item_bytes

    def __len__(self) -> int:
        return len(self.files)

    def dim(self) -> int:
        return 4

    def contiguous(self) -> "FolderImages":
        return self

    def __repr__(self) -> str:
        return (f"FolderImages({len(self)} files, {self.channels}×{self.resolution}×{self.resolution}, "
                f"cache {self.cache_bytes / 2**20:.0f} MiB)")

    def index_select(self, dim: int, index: torch.Tensor) -> "FolderImages":
        """The images at ``index`` (along dim 0), still lazy, with the same cache size."""
        if dim != 0:
            raise ValueError("FolderImages selects along dim 0 only")
        return FolderImages([self.files[int(i)] for i in index], self.resolution, self.channels, self.cache_bytes)

    # --- decoding ---------------------------------------------------------------------------
    def __getitem__(self, index) -> torch.Tensor:
        """uint8 (C, H, W) for an int, (n, C, H, W) for a slice, a list or a 1-d integer tensor."""
        if isinstance(index, (int, np.integer)) or (isinstance(index, torch.Tensor) and index.dim() == 0):
            return self._one(int(index))
        if isinstance(index, slice):
            positions = range(*index.indices(len(self)))
        elif isinstance(index, torch.Tensor) and index.dtype == torch.bool:
            positions = index.nonzero().flatten().tolist()
        else:
            positions = torch.as_tensor(index).flatten().tolist()
        out = torch.empty((len(positions), self.channels, self.resolution, self.resolution), dtype=torch.uint8)
        for row, i in enumerate(positions):
            out[row] = self._one(int(i))
        return out

    def _one(self, i: int) -> torch.Tensor:
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"image {i} is out of range for {len(self)} images")
        if (hit := self._cache.get(i)) is not None:
            self._cache.move_to_end(i)
            return hit
        try:
            pixels = decode_image(self.files[i], self.resolution)
        except UnreadableImage as exc:
            raise DatasetError(f"{self.files[i]} can no longer be read ({exc}); it was readable when the folder "
                               f"was loaded: put it back or remove it, then start again") from None
        image = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))
        if self.channels == 1:
            image = convert_channels(image[None], 1)[0]
        if self.item_bytes <= self.cache_bytes:
            self._cache[i] = image
            while len(self._cache) * self.item_bytes > self.cache_bytes:
                self._cache.popitem(last=False)
        return image

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": OrderedDict()}
