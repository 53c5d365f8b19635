"""What a job tells the world. The CLI shows it with tqdm, tests record it, the Qt
adapter turns each call into a queued signal."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Progress:
    step: int  # optimizer steps done
    total: int  # steps this job will reach
    epoch: int
    images_per_s: float
    eta_s: float  # seconds left, NaN until measured


class Reporter:
    """Base reporter: ignores everything. Override what you need."""

    def progress(self, progress: Progress) -> None: ...

    def metrics(self, step: int, values: dict[str, float]) -> None: ...

    def preview(self, step: int, grid: np.ndarray) -> None: ...

    def status(self, message: str) -> None: ...


@dataclass
class RecordingReporter(Reporter):
    """Keeps every call; used by tests and benchmarks."""

    progresses: list[Progress] = field(default_factory=list)
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    previews: list[tuple[int, np.ndarray]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def progress(self, progress: Progress) -> None:
        self.progresses.append(progress)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.history.append((step, dict(values)))

    def preview(self, step: int, grid: np.ndarray) -> None:
        self.previews.append((step, grid))

    def status(self, message: str) -> None:
        self.messages.append(message)
