"""Random mini-batches over an in-memory uint8 dataset, resumable mid-epoch.

Each epoch is one permutation drawn from a private generator, so the order depends
only on the seed and survives a stop/resume exactly."""

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
