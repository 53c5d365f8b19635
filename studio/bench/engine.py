"""``studio bench engine``: the studio's training job against a bare PyTorch loop.

For each family: the same model (same seed and init), data (fashion-mnist-5k held in
memory), batch, dtype and thread count. The bare loop is what anyone would write:
slice a random batch, scale it, call the family's update. The studio job adds batching
state, metric logging to metrics.jsonl, progress reports and the pause/stop check.
The two are timed alternately in the same process (median of rounds) so drifting
machine load hits both alike. Also reports the achieved FLOP/s of a training step
(counted with FlopCounterMode) over a large fp32 GEMM's FLOP/s measured in this run.

Length: by default 3 rounds of about 1.2 s per side for each family and precision (all
nine families in fp32 and bf16 in about 4 minutes on 2 cores); ``--quick`` 1 round of
0.4 s; ``--long`` 7 rounds of 4 s. bf16 on a CPU without fast bf16 (neither AMX nor AVX-512-BF16:
emulated, ~10× slower) is timed briefly in every mode (1 round of 3 steps). Target: studio / bare time ≤ 1.03.
Measured here: the default run took 213 s for all nine families in fp32 and bf16 (AMD EPYC
with AVX-512-BF16, 2 cores, nothing else running, load average 2.0, 2 torch threads).
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ..imaging import to_unit_range
from . import machine_info, print_table

DATA = "fashion-mnist-5k"
TARGET_RATIO = 1.03
LENGTHS = {"quick": (1, 0.4), "default": (3, 1.2), "long": (7, 4.0)}  # rounds, seconds per side


def run(quick: bool = False, families: list[str] | None = None, long: bool = False) -> dict:
    from ..data import load_dataset
    from ..engine.devices import cpu_has_fast_bf16
    from ..models import family_names

    began = time.perf_counter()
    families = families or family_names()
    dataset = load_dataset(DATA)
    gemm = gemm_flops()
    length = "long" if long else "quick" if quick else "default"
    rounds, side_s = LENGTHS[length]
    precisions = ["fp32", "bf16"]
    results, rows = {}, []
    for family in families:
        entry = {}
        for precision in precisions:
            # bf16 without AMX or AVX-512-BF16: timed briefly (emulated, ~10x slower)
            slow = precision == "bf16" and not cpu_has_fast_bf16()
            engine_s, bare_s, batch = compare(family, dataset, precision, *((1, 0.0) if slow else (rounds, side_s)))
            flops = step_flops(family, dataset, precision, batch)
            entry[precision] = {"ratio": engine_s / bare_s, "images_per_s": batch / engine_s,
                                "bare_images_per_s": batch / bare_s, "utilization": flops / bare_s / gemm,
                                "gflop_per_step": flops / 1e9}
            rows.append({"family": family, "precision": precision, "batch": batch, **entry[precision]})
        best = max(precisions, key=lambda p: entry[p]["images_per_s"])
        results[family] = {**entry[best], "precision": best,
                           **{f"images_per_s_{p}": entry[p]["images_per_s"] for p in precisions}}
    machine = machine_info()
    print(f"studio bench engine — {DATA}, {length} length ({rounds} rounds × {side_s:g} s per side), "
          f"{torch.get_num_threads()} threads, fp32 GEMM {gemm / 1e9:.1f} GFLOP/s, {machine['cpu']}, "
          f"load average {machine['load_average']}")
    print_table(rows, [("family", ""), ("precision", ""), ("batch", "d"), ("images_per_s", ".0f"),
                       ("bare_images_per_s", ".0f"), ("ratio", ".3f"), ("gflop_per_step", ".2f"),
                       ("utilization", ".2f")])
    print(f"ratio = studio job time / bare loop time per step (target ≤ {TARGET_RATIO}, each family at its faster "
          "precision); utilization = achieved FLOP/s of a step / fp32 GEMM FLOP/s")
    return {"families": results, "gemm_gflops": gemm / 1e9, "threads": torch.get_num_threads(), "length": length,
            "target_ratio": TARGET_RATIO, "meets_targets": all(r["ratio"] <= TARGET_RATIO for r in results.values()),
            "seconds": time.perf_counter() - began, **machine}


def gemm_flops(n: int = 2048) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * n ** 3 / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(family: str, dataset, precision: str, rounds: int, side_s: float,
            options: dict | None = None, batch: int | None = None) -> tuple[float, float, int]:
    """Median seconds per step of the studio job and of the bare loop, alternated for
    ``rounds`` rounds of about ``side_s`` seconds per side (at least 3 steps), and the batch."""
    from ..models import get_family

    batch = batch or get_family(family).default_batch_size
    engine_times, bare_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        # round 0 warms caches (oneDNN primitives, allocator), sizes the rounds and is dropped
        engine_step_time(family, precision, 3, Path(tmp) / "warm", options, batch)
        step_s = bare_step_time(family, dataset, precision, batch, 3, options)
        steps = max(3, min(200, math.ceil(side_s / step_s)))
        for i in range(rounds):
            engine_times.append(engine_step_time(family, precision, steps, Path(tmp) / f"run{i}", options, batch))
            bare_times.append(bare_step_time(family, dataset, precision, batch, steps, options))
    return statistics.median(engine_times), statistics.median(bare_times), batch


def engine_step_time(family: str, precision: str, steps: int, run_dir: Path, options: dict | None = None,
                     batch: int | None = None) -> float:
    """Seconds per step of the studio's TrainJob at this thread's torch thread count (fixed,
    as the bare loop's), from the end of step 2 to the end of the last; the run is cancelled
    at its last step so that no held-out evaluation follows."""
    from ..engine import Control, Progress, Reporter, TrainJob, TrainSpec

    control = Control()

    class Clock(Reporter):
        def __init__(self):
            self.stamps: list[float] = []

        def progress(self, progress: Progress) -> None:
            self.stamps.append(time.perf_counter())
            if progress.step >= progress.total:
                control.cancel()

    clock = Clock()
    spec = TrainSpec(family=family, data=DATA, steps=steps + 2, batch_size=batch, device="cpu",
                     precision=precision, checkpoint_every=10 ** 9, preview_every=0, options=dict(options or {}))
    job = TrainJob.create(spec, run_dir, reporter=clock, control=control)
    job.threads = torch.get_num_threads()
    job.run()
    return (clock.stamps[-1] - clock.stamps[1]) / steps


def bare_step_time(family: str, dataset, precision: str, batch: int, steps: int, options: dict | None = None) -> float:
    return BareLoop(family, dataset, precision, batch, options).seconds_per_step(steps)


class BareLoop:
    """The training loop anyone would write around a family's model: slice a random batch, scale
    it, call ``train_step``. ``prepare(model)`` may change the built model first (a layout, compiling)."""

    def __init__(self, family: str, dataset, precision: str, batch: int, options: dict | None = None,
                 prepare=None):
        from ..engine.devices import autocast_factory
        from ..models import build_model, get_family

        torch.manual_seed(0)
        self.model = build_model(family, dict(options or {}), dataset.image_shape, dataset.num_classes)
        if prepare is not None:
            prepare(self.model)
        self.optimizers = self.model.configure_optimizers(get_family(family).default_lr)
        self.autocast = autocast_factory(torch.device("cpu"), precision)
        self.dataset, self.batch = dataset, batch
        self.generator = torch.Generator().manual_seed(0)

    def step(self) -> float:
        """One training step; its seconds."""
        start = time.perf_counter()
        index = torch.randint(len(self.dataset.images), (self.batch,), generator=self.generator)
        x = to_unit_range(self.dataset.images[index])
        y = self.dataset.labels[index] if self.dataset.labels is not None else None
        loss = self.model.train_step(x, y, self.optimizers, self.autocast)
        float(next(iter(loss.values())))
        return time.perf_counter() - start

    def seconds_per_step(self, steps: int, warmup: int = 2) -> float:
        """Mean seconds of ``steps`` steps after ``warmup`` untimed ones."""
        for _ in range(warmup):
            self.step()
        return sum(self.step() for _ in range(steps)) / steps


class _Everything:
    """Stands in for FlopCounterMode's module tracker: all FLOPs go to "Global". The real one
    hooks every module's backward, and those hooks break ``autograd.grad(create_graph=True)``
    (WGAN-GP's gradient penalty): "A leaf node was passed to _will_engine_execute_node"
    (pytorch/pytorch#131753, open in torch 2.14)."""

    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def step_flops(family: str, dataset, precision: str, batch: int, options: dict | None = None) -> float:
    """FLOPs of one training step (forward, backward and the optimizers' updates as torch
    counts them: matmuls and convolutions), counted with FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    from ..engine.devices import autocast_factory
    from ..models import build_model

    torch.manual_seed(0)
    model = build_model(family, dict(options or {}), dataset.image_shape, dataset.num_classes)
    optimizers = model.configure_optimizers(1e-4)
    x = to_unit_range(dataset.images[:batch])
    y = dataset.labels[:batch] if dataset.labels is not None else None
    return count_flops(lambda: model.train_step(x, y, optimizers, autocast_factory(torch.device("cpu"), precision)))


def count_flops(work) -> float:
    """FLOPs that torch's formulas give for what ``work()`` runs (FlopCounterMode, without its
    per-module breakdown, so that double backward works)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    if hasattr(counter, "mod_tracker"):  # torch ≥ 2.4
        counter.mod_tracker = _Everything()
    with counter:
        work()
    return float(counter.get_total_flops())
