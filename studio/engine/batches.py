"""Random mini-batches, resumable mid-epoch, and the training loop's batches.

``BatchSampler``: each epoch is one permutation drawn from a private generator, so the order
depends only on the seed and survives a stop/resume exactly. ``Batches``: the images and labels
of those indices on the training device, from memory or (a folder too big for it) decoded from
disk by worker processes: one rule for both."""

from __future__ import annotations

import torch


class BatchSampler:
    def __init__(self, num_items: int, batch_size: int, seed: int):
        if num_items <= 0:
            raise ValueError("the dataset is empty")
        # a batch larger than the dataset still works: the tail is padded from the same epoch
        self.num_items, self.batch_size = num_items, batch_size
        self.seed = seed
        self.epoch, self.position = 0, 0
        self._order = self._permutation(0)

    @property
    def batches_per_epoch(self) -> int:
        return max(1, self.num_items // self.batch_size)

    def _permutation(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        order = torch.randperm(self.num_items, generator=generator)
        if self.batch_size > self.num_items:
            repeats = -(-self.batch_size // self.num_items)
            order = order.repeat(repeats)
        return order

    def next(self) -> torch.Tensor:
        """Indices of the next batch (the last partial batch of an epoch is dropped)."""
        if self.position + self.batch_size > len(self._order):
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        index = self._order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return index

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.position = int(state["seed"]), int(state["epoch"]), int(state["position"])
        self._order = self._permutation(self.epoch)


# --- the training loop's batches --------------------------------------------------------------
STREAM_WORKERS = 4  # at most; fewer on small machines (stream_workers)


def stream_workers() -> int:
    """Worker processes decoding a streamed folder: half the CPUs, 1 to ``STREAM_WORKERS``."""
    import os

    return max(1, min(STREAM_WORKERS, (os.cpu_count() or 2) // 2))


class _Gather(torch.utils.data.Dataset):
    """``source[index]`` for a 1-d index tensor: (index, uint8 images, labels or None), or
    (index, message, None) when a streamed file can no longer be read (said in the main process)."""

    def __init__(self, images, labels: torch.Tensor | None):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: torch.Tensor):
        from ..data import DatasetError

        try:
            x = self.images[index]
        except DatasetError as exc:
            return index, str(exc), None
        return index, x, None if self.labels is None else self.labels[index]


class _Indices(torch.utils.data.Sampler):
    """The indices a ``BatchSampler`` will give from its current state, forever (a copy: the
    loader reads ahead of the batches the loop has taken), each passed through ``shard``."""

    def __init__(self, sampler: BatchSampler, shard):
        self.state, self.num_items, self.batch_size, self.shard = (sampler.state_dict(), sampler.num_items,
                                                                  sampler.batch_size, shard)

    def __iter__(self):
        ahead = BatchSampler(self.num_items, self.batch_size, self.state["seed"])
        ahead.load_state_dict(self.state)
        while True:
            yield self.shard(ahead.next())


class Batches:
    """The training batches of ``dataset``: the indices ``sampler`` gives (``shard``: this
    rank's part, ``engine.distributed``), gathered as uint8 (n, C, H, W) images (and int64
    labels) on ``device``. One rule for both kinds of dataset, through a
    ``torch.utils.data.DataLoader``: an in-memory dataset is moved to ``device`` once and
    indexed there (no worker); a streamed folder (``data.stream.FolderImages``) is decoded by
    ``workers`` worker processes (default ``stream_workers()``) a few batches ahead, in pinned
    memory when ``device`` is CUDA. ``next()`` advances ``sampler`` (whose state a checkpoint
    saves) by exactly the batch it returns. Call ``close()`` to stop the workers.

    Raises DatasetError when a streamed file can no longer be read."""

    def __init__(self, dataset, sampler: BatchSampler, device: torch.device, shard=lambda index: index,
                 workers: int | None = None):
        self.sampler, self.shard, self.device = sampler, shard, torch.device(device)
        self.streamed = bool(getattr(dataset, "streamed", False))
        labels = dataset.labels
        if self.streamed:
            images, workers = dataset.images, stream_workers() if workers is None else workers
        else:
            images, workers = dataset.images.to(self.device), 0
            labels = labels.to(self.device) if labels is not None else None
        pin = self.streamed and self.device.type == "cuda"
        loader = torch.utils.data.DataLoader(
            _Gather(images, labels), batch_size=None, sampler=_Indices(sampler, shard), num_workers=workers,
            pin_memory=pin, prefetch_factor=2 if workers else None,
            generator=torch.Generator().manual_seed(sampler.seed))  # never draws from torch's global stream
        self._batches = _start(loader)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(uint8 images (n, C, H, W), labels (n,) or None) on the device: the next batch."""
        from ..data import DatasetError

        index = self.shard(self.sampler.next())
        got, x, y = next(self._batches)
        if isinstance(x, str):
            raise DatasetError(x)
        if not torch.equal(got, index):  # the loader reads ahead from a copy of the sampler
            raise RuntimeError("the batch loader fell out of step with the sampler")
        x = x.to(self.device, non_blocking=True)
        return x, None if y is None else y.to(self.device, non_blocking=True)

    def close(self) -> None:
        """Stop the worker processes (if any); idempotent."""
        batches, self._batches = self._batches, None
        if batches is not None and hasattr(batches, "_shutdown_workers"):
            batches._shutdown_workers()


def _start(loader: torch.utils.data.DataLoader):
    """``iter(loader)``, which forks its worker processes (Linux), with Python's objects frozen
    out of the collector meanwhile, so a worker's garbage collections do not write to (and so copy)
    the pages it shares with this process (the ``gc.freeze`` recipe in Python's documentation)."""
    import gc

    if not loader.num_workers:
        return iter(loader)
    gc.freeze()
    try:
        return iter(loader)
    finally:
        gc.unfreeze()
