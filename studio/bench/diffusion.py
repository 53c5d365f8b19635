"""``studio bench diffusion``: the step-by-step sampler's costs, on the default DDPM (28×28
gray, T = 1000, the default U-Net; speed does not depend on the weights, so an untrained
model is timed) on this machine's CPU, batch of 16.

- ``preview_overhead``: (job time − bare loop time) / bare loop time, where the job is the
  viewer's ``SamplingJob`` (uint8 x_t / x̂₀ / ε frames every step, float checkpoints) and the
  bare loop the same scheduler loop that only samples; alternated, medians. Target ≤ 0.10.
- ``ddim50_vs_ddpm1000_time_ratio``: wall time of 50 DDIM steps over 1000 ancestral DDPM
  steps (100 DDPM steps timed and scaled by 10: the loop's steps all cost the same).
- ``trajectory_mb``: the store for 1000 steps × 16 RGB 32×32 images, filled (target ≤ 200).
- ``quality`` (only with ``--quality N``, and when a trained DDPM is at hand: the bundled
  demo or ``--families PATH``): classifier-feature Fréchet distance and KID of N DDIM-50 and
  N DDPM-1000 samples of the same noise, with a progress bar; the time it will take is
  estimated from the timings and printed first (DDPM-1000 dominates: 200 samples took over
  half an hour on 2 cores).

The default run takes about a minute on 2 cores; ``--quick`` a fraction of that.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

from . import machine_info, print_table

BATCH = 16


def _default_model():
    from ..models import build_model

    return build_model("ddpm", {}, (1, 28, 28)).eval()


@torch.no_grad()
def _bare(model, sampler: str, steps: int, seed: int = 0) -> float:
    """The sampling loop alone (what ``model.sample`` does), timed."""
    scheduler = model.make_scheduler(sampler, steps, 1.0)
    g = torch.Generator().manual_seed(seed)
    x = model.sample_noise(BATCH, g)
    start = time.perf_counter()
    for t in scheduler.timesteps:
        x = scheduler.step(model.predict_noise(x, t), t, x, g).prev_sample
    return time.perf_counter() - start


def _job(model, sampler: str, steps: int, seed: int = 0) -> float:
    from ..engine.sampling import SamplingJob, SamplingSpec

    job = SamplingJob(model, SamplingSpec(sampler=sampler, steps=steps, eta=1.0, seed=seed, batch=BATCH))
    start = time.perf_counter()
    job.run()
    return time.perf_counter() - start


def frame_seconds_per_step(model, repeats: int = 200) -> float:
    """What the viewer adds to one step, alone: three uint8 frame sets stored (and a float
    checkpoint every ``stride`` steps); steady on a busy machine where whole loops are not."""
    from ..engine.sampling import SamplingSpec, Trajectory

    traj = Trajectory(SamplingSpec(steps=repeats, batch=BATCH), list(range(repeats - 1, -1, -1)), model.image_shape)
    x = torch.randn(BATCH, *model.image_shape)
    start = time.perf_counter()
    for i in range(repeats):
        if i % traj.stride == 0:
            x.clone()
        traj._store(i, x, x, x)
    return (time.perf_counter() - start) / repeats


def trajectory_megabytes(steps: int = 1000, batch: int = 16, shape=(3, 32, 32)) -> float:
    """Fill a store the size the issue names (frames and the float checkpoints) and measure it."""
    from ..engine.sampling import Checkpoint, SamplingSpec, Trajectory

    traj = Trajectory(SamplingSpec(steps=steps, batch=batch), list(range(steps - 1, -1, -1)), shape)
    x = torch.rand(batch, *shape) * 2 - 1
    rng = torch.Generator().get_state()
    for i in range(0, steps, traj.stride):  # as the job keeps them, with a multistep solver's history
        traj.checkpoints[i] = Checkpoint(x.clone(), {"history_t": 0, "history_x0": x.clone()}, rng.clone())
    for frames in traj._frames.values():
        frames.fill(128)  # commit every page
    traj._store(steps - 1, x, x, x)
    traj.final = traj.frames(steps - 1, "x0")
    return traj.nbytes / 2 ** 20


def _trained_run(families) -> str | None:
    from ..runs import demo_runs_root

    for candidate in list(families or []) + [str(demo_runs_root() / "ddpm-fashion-mnist")]:
        if Path(candidate, "run.json").is_file():
            return candidate
    return None


def _quality(path: str, n: int) -> dict:
    from ..metrics import sample_quality
    from ..metrics.report import StageBars
    from ..runs import Run, load_model

    run = Run.open(path)
    model = load_model(run)
    out = {"run": path, "n": n}
    for name, options in (("ddim50", {"sampler": "ddim", "steps": 50}), ("ddpm1000", {"sampler": "ddpm", "steps": 1000})):
        start = time.perf_counter()
        bars = StageBars()
        print(f"{name}: {n} samples", file=sys.stderr)
        try:  # batches of BATCH images, so that the bar moves every few seconds even for DDPM-1000
            result = sample_quality(model, run.meta["data"], n, seed=0, progress=bars, batch=BATCH, **options)
        finally:
            bars.close()
        out[name] = {"fcd": result["fcd"], "kid": result["kid"], "seconds": time.perf_counter() - start}
    return out


def run(quick: bool = False, families: list[str] | None = None, quality: int | None = None) -> dict:
    """``quality``: compare FCD / KID of that many DDIM-50 and DDPM-1000 samples (slow)."""
    if quality is not None and quality < 2:
        raise ValueError(f"--quality takes the number of samples per sampler, at least 2 (got {quality})")
    path = _trained_run(families) if quality else None
    if quality and path is None:
        raise ValueError("--quality needs a trained DDPM: the bundled demo is missing; pass its folder with --families")
    began = time.perf_counter()
    torch.manual_seed(0)
    model = _default_model()
    rounds, overhead_steps, ddpm_steps = (2, 20, 20) if quick else (3, 100, 100)
    _bare(model, "ddpm", 5)  # warm-up
    bare, job = [], []
    for _ in range(rounds):  # alternated, so a busy machine hurts both alike
        bare.append(_bare(model, "ddpm", overhead_steps))
        job.append(_job(model, "ddpm", overhead_steps))
    raw_s, job_s = statistics.median(bare), statistics.median(job)
    overhead = job_s / raw_s - 1
    frame_s = frame_seconds_per_step(model)
    ddim_s = statistics.median(_bare(model, "ddim", 50) for _ in range(rounds))
    ddpm_s = _bare(model, "ddpm", ddpm_steps) * (1000 / ddpm_steps)
    ratio = ddim_s / ddpm_s
    mb = trajectory_megabytes()
    rows = [
        {"measure": f"bare DDPM loop, {overhead_steps} steps × {BATCH}", "value": raw_s, "unit": "s"},
        {"measure": "same with the viewer's frames", "value": job_s, "unit": "s"},
        {"measure": "preview overhead", "value": 100 * overhead, "unit": "% (target ≤ 10)"},
        {"measure": "frames alone, per step", "value": 1000 * frame_s, "unit": "ms"},
        {"measure": "frames / bare step", "value": 100 * frame_s / (raw_s / overhead_steps), "unit": "%"},
        {"measure": "DDIM 50 steps", "value": ddim_s, "unit": "s"},
        {"measure": f"DDPM 1000 steps ({ddpm_steps} timed, scaled)", "value": ddpm_s, "unit": "s"},
        {"measure": "DDIM 50 / DDPM 1000 time", "value": ratio, "unit": "ratio"},
        {"measure": "store, 1000 steps × 16 × 32×32×3", "value": mb, "unit": "MB (target ≤ 200)"},
    ]
    result = {"batch": BATCH, "torch_threads": torch.get_num_threads(), "bare_s": raw_s, "job_s": job_s,
              "frame_ms_per_step": 1000 * frame_s,
              "frame_share_of_step": frame_s / (raw_s / overhead_steps), "ddim50_s": ddim_s, "ddpm1000_s": ddpm_s,
              "ddpm_steps_timed": ddpm_steps}
    if path:
        estimate = quality / BATCH * (ddim_s + ddpm_s) * 1.1  # 28×28 demo ≈ this untrained default; + features
        print(f"quality: {quality} samples each of DDIM-50 and DDPM-1000 from {path}; about "
              f"{estimate / 60:.0f} min on this machine now", file=sys.stderr)
        q = _quality(path, quality)
        result["quality"] = q
        for name in ("ddim50", "ddpm1000"):
            rows.append({"measure": f"FCD {name}, {quality} samples", "value": q[name]["fcd"], "unit": ""})
    print_table(rows, [("measure", ""), ("value", ".3f"), ("unit", "")])
    meets = overhead <= 0.10 and mb <= 200
    result.update({"preview_overhead": overhead, "ddim50_vs_ddpm1000_time_ratio": ratio, "trajectory_mb": mb,
                   "meets_targets": meets, "seconds": time.perf_counter() - began, **machine_info()})
    return result
