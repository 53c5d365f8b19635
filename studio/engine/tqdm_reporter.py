"""The CLI's reporter: a tqdm progress bar with the latest metrics as its postfix."""

from __future__ import annotations

import math
import sys

from tqdm import tqdm

from .reporting import Progress, Reporter


class TqdmReporter(Reporter):
    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.latest: dict[str, float] = {}

    def progress(self, progress: Progress) -> None:
        if self.bar is None:
            self.bar = tqdm(total=progress.total, initial=progress.step - 1, unit="step", dynamic_ncols=True,
                            file=sys.stderr, mininterval=0.25)
        self.bar.update(progress.step - self.bar.n)
        if self.bar.n == progress.total or self.bar.n % 10 == 0:
            shown = {k: f"{v:.4g}" for k, v in self.latest.items() if not k.startswith("test/")}
            # epoch and images/s where the job measures them (training); edits and inversions don't
            rate = {"epoch": progress.epoch, "img_s": f"{progress.images_per_s:.0f}"} \
                if math.isfinite(progress.images_per_s) else {}
            self.bar.set_postfix(**rate, **shown, refresh=False)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.latest.update(values)

    def status(self, message: str) -> None:
        (self.bar.write if self.bar is not None else lambda m: print(m, file=sys.stderr))(message)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
