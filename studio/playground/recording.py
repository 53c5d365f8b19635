"""Frames kept for an animation of the training (the page's "Export GIF"), bounded in number.

``FrameRecorder(capacity)`` keeps every ``stride``-th frame offered; when it holds
``capacity`` frames it drops every other one and doubles the stride, so however long the model
trains, the kept frames stay evenly spread from the first step to the latest (plus the latest
itself, so an animation ends where the view is now). Frames are the job's numpy ``Frame``s (or
``FramePair``s), a few tens of kB each; turning them into pictures is the page's work.
"""

from __future__ import annotations

from typing import Any

CAPACITY = 96  # ≈ 8 s of GIF at 12 frames/s


class FrameRecorder:
    def __init__(self, capacity: int = CAPACITY):
        if capacity < 2:
            raise ValueError(f"capacity={capacity} must be at least 2")
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self._kept: list[Any] = []
        self._latest: Any = None
        self.stride = 1
        self._offered = 0

    def offer(self, frame: Any) -> None:
        """One more frame, in order of training (kept if it falls on the stride)."""
        if self._offered % self.stride == 0:
            self._kept.append(frame)
            if len(self._kept) >= self.capacity:
                self._kept = self._kept[::2]
                self.stride *= 2
        self._latest = frame
        self._offered += 1

    @property
    def frames(self) -> list[Any]:
        """The kept frames in order, ending with the latest offered (at most ``capacity``)."""
        if self._latest is None:
            return []
        if self._kept and self._kept[-1] is self._latest:
            return list(self._kept)
        return [*self._kept[-(self.capacity - 1):], self._latest]

    def __len__(self) -> int:
        return len(self.frames)
