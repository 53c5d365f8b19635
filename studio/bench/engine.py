"""``studio bench engine``: the studio's training job against a bare PyTorch loop.

For each family: the same model (same seed and init), data (fashion-mnist-5k held in
memory), batch, dtype and thread count. The bare loop is what anyone would write:
slice a random batch, scale it, call the family's update. The studio job adds batching
state, metric logging to metrics.jsonl, progress reports and the pause/stop check.
The two are timed alternately in the same process (median of rounds) so drifting
machine load hits both alike. Also reports the achieved FLOP/s of a training step
(counted with FlopCounterMode) over a large fp32 GEMM's FLOP/s measured in this run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from . import print_table

DATA = "fashion-mnist-5k"


def run(quick: bool = False, families: list[str] | None = None) -> dict:
    from ..data import load_dataset
    from ..engine.devices import cpu_has_fast_bf16
    from ..models import family_names

    families = families or family_names()
    dataset = load_dataset(DATA)
    gemm = gemm_flops()
    rounds, steps = (2, 4) if quick else (7, 12)
    precisions = ["fp32", "bf16"]
    results, rows = {}, []
    for family in families:
        entry = {}
        for precision in precisions:
            # emulated bf16 (no AMX / AVX-512-BF16) is ~10x slower: time it briefly
            slow = precision == "bf16" and not cpu_has_fast_bf16()
            r, n = (1, 3) if slow or quick else (rounds, steps)
            engine_s, bare_s, batch = compare(family, dataset, precision, r, n)
            flops = step_flops(family, dataset, precision, batch)
            entry[precision] = {"ratio": engine_s / bare_s, "images_per_s": batch / engine_s,
                                "bare_images_per_s": batch / bare_s, "utilization": flops / bare_s / gemm,
                                "gflop_per_step": flops / 1e9}
            rows.append({"family": family, "precision": precision, "batch": batch, **entry[precision]})
        best = max(precisions, key=lambda p: entry[p]["images_per_s"])
        results[family] = {**entry[best], "precision": best,
                           **{f"images_per_s_{p}": entry[p]["images_per_s"] for p in precisions}}
    print(f"studio bench engine — {DATA}, {torch.get_num_threads()} threads, fp32 GEMM {gemm / 1e9:.1f} GFLOP/s")
    print_table(rows, [("family", ""), ("precision", ""), ("batch", "d"), ("images_per_s", ".0f"),
                       ("bare_images_per_s", ".0f"), ("ratio", ".3f"), ("gflop_per_step", ".2f"),
                       ("utilization", ".2f")])
    print("ratio = studio job time / bare loop time per step (≤ 1.03 is the target); utilization = "
          "achieved FLOP/s of a step / fp32 GEMM FLOP/s")
    return {"families": results, "gemm_gflops": gemm / 1e9, "threads": torch.get_num_threads()}


def gemm_flops(n: int = 2048) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * n ** 3 / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(family: str, dataset, precision: str, rounds: int, steps: int) -> tuple[float, float, int]:
    """Median seconds per step of the studio job and of the bare loop, alternated."""
    from ..models import get_family

    batch = get_family(family).default_batch_size
    engine_times, bare_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds + 1):  # round 0 warms caches (oneDNN primitives, allocator) and is dropped
            engine = engine_step_time(family, precision, steps, Path(tmp) / f"run{i}")
            bare = bare_step_time(family, dataset, precision, batch, steps)
            if i:
                engine_times.append(engine)
                bare_times.append(bare)
    return statistics.median(engine_times), statistics.median(bare_times), batch


def engine_step_time(family: str, precision: str, steps: int, run_dir: Path) -> float:
    from ..engine import Progress, Reporter, TrainJob, TrainSpec

    class Clock(Reporter):
        stamps: list[float] = []

        def progress(self, progress: Progress) -> None:
            self.stamps.append(time.perf_counter())

    clock = Clock()
    clock.stamps = []
    spec = TrainSpec(family=family, data=DATA, steps=steps + 2, device="cpu", precision=precision,
                     checkpoint_every=10 ** 9, preview_every=0)
    TrainJob.create(spec, run_dir, reporter=clock).run()
    # from the end of step 2 (warm) to the end of the last step; the final checkpoint is excluded
    return (clock.stamps[-1] - clock.stamps[1]) / steps


def bare_step_time(family: str, dataset, precision: str, batch: int, steps: int) -> float:
    from ..engine.devices import autocast_factory
    from ..models import build_model, get_family

    torch.manual_seed(0)
    model = build_model(family, {}, dataset.image_shape, dataset.num_classes)
    optimizers = model.configure_optimizers(get_family(family).default_lr)
    autocast = autocast_factory(torch.device("cpu"), precision)
    images, labels = dataset.images, dataset.labels
    generator = torch.Generator().manual_seed(0)
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        index = torch.randint(len(images), (batch,), generator=generator)
        x = images[index].float() / 127.5 - 1
        y = labels[index] if labels is not None else None
        loss = model.train_step(x, y, optimizers, autocast)
        float(next(iter(loss.values())))
        times.append(time.perf_counter() - start)
    return sum(times[2:]) / steps


def step_flops(family: str, dataset, precision: str, batch: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    from ..engine.devices import autocast_factory
    from ..models import build_model

    torch.manual_seed(0)
    model = build_model(family, {}, dataset.image_shape, dataset.num_classes)
    optimizers = model.configure_optimizers(1e-4)
    x = dataset.images[:batch].float() / 127.5 - 1
    y = dataset.labels[:batch] if dataset.labels is not None else None
    counter = FlopCounterMode(display=False)
    with counter:
        model.train_step(x, y, optimizers, autocast_factory(torch.device("cpu"), precision))
    return float(counter.get_total_flops())
