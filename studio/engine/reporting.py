"""What a job tells the world. The CLI shows it with tqdm, tests record it, the Qt
runner (``studio.qt.runner``) turns each call into a rate-limited queued signal."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Progress:
    step: int  # units done (optimizer steps, images encoded, pixels drawn, …)
    total: int  # units this job will reach
    epoch: int = 0
    images_per_s: float = math.nan
    eta_s: float = math.nan  # seconds left, NaN until measured
    paused: bool = False  # the job is paused: the ETA is not running down
    next_preview: int | None = None  # step of the next preview grid (studio.specs.next_preview_step)


class Reporter:
    """Base reporter: ignores everything. Override what you need."""

    def progress(self, progress: Progress) -> None: ...

    def metrics(self, step: int, values: dict[str, float]) -> None: ...

    def preview(self, step: int, grid: Any) -> None:
        """A picture of the model at ``step`` (uint8 H×W×C grid); every one is kept."""

    def partial(self, value: Any) -> None:
        """The result so far (images being drawn, a map being laid out): only the newest matters."""

    def status(self, message: str) -> None: ...


@dataclass
class RecordingReporter(Reporter):
    """Keeps every call; used by tests and benchmarks."""

    progresses: list[Progress] = field(default_factory=list)
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    previews: list[tuple[int, Any]] = field(default_factory=list)
    partials: list[Any] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def progress(self, progress: Progress) -> None:
        self.progresses.append(progress)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.history.append((step, dict(values)))

    def preview(self, step: int, grid: Any) -> None:
        self.previews.append((step, grid))

    def partial(self, value: Any) -> None:
        self.partials.append(value)

    def status(self, message: str) -> None:
        self.messages.append(message)
