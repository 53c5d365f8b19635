"""Step-by-step diffusion sampling for the viewer: every step's x_t, x̂_0 and ε, kept as
uint8 frames in a bounded store, with branching from any stored step.

The job drives the scheduler loop itself (the diffusers interface: ``step`` returns both
the next sample and the predicted clean image), one step per iteration:

    job = SamplingJob(model, SamplingSpec(sampler="ddim", steps=50, seed=0, batch=16))
    for i in job.steps():          # or job.run(control, on_step)
        job.trajectory.frame(i, "x0")

Memory.  Frames are uint8: 1000 steps × 16 images × 32×32×3 × 3 kinds = 147 MB.
Full-precision state (x_t, the solver's history, the noise generator's state) is kept only
every ``stride`` steps within ``CHECKPOINT_BUDGET``; branching from step k replays the few
steps from the checkpoint before k with the original settings, which is deterministic, so
the branch starts from exactly the x_k the original run had.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from .. import rng
from ..imaging import tile, to_frames, to_unit_range
from .control import Control

KINDS = ("x_t", "x0", "eps")
KIND_NAMES = {"x_t": "x_t  noisy image", "x0": "x̂₀  predicted clean image", "eps": "ε  predicted noise"}
EPS_RANGE = 3.0  # ε ~ N(0, I): shown with ±3 σ mapped to black/white
CHECKPOINT_BUDGET = 32 * 2 ** 20  # bytes of float state per trajectory (x_t + solver history)
MAX_BATCH = 16


# --- pictures --------------------------------------------------------------------------------
# --- what to sample ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplingSpec:
    sampler: str = "ddim"
    steps: int = 50
    eta: float = 0.0  # DDIM-like samplers only
    seed: int = 0  # x_T and every step's noise z (separate streams: ``studio.rng.streams``)
    batch: int = 16
    label: int | None = None  # conditional models: a class, −1 = image i gets class i mod K, None = unconditional
    guidance: float = 1.0  # classifier-free guidance scale s (conditional models with a label)

    def describe(self) -> str:
        from ..schedulers import SCHEDULERS

        cls = SCHEDULERS.get(self.sampler)
        parts = [getattr(cls, "label", "") or self.sampler, f"{self.steps} steps"]
        if getattr(cls, "has_eta", False):
            parts.append(f"η {self.eta:g}")
        parts.append(f"seed {self.seed}")
        if self.label is not None:
            parts.append(f"class {'mixed' if self.label < 0 else self.label} · guidance {self.guidance:g}")
        return " · ".join(parts)


def option_ranges(model) -> dict[str, tuple[float, float]]:
    """The allowed range of every sampling option of ``model`` ({} for a family without a
    sampler): ``steps`` from the schedulers (MIN_STEPS..T), ``eta`` and ``guidance`` from the
    family's config metadata (the same ``param(min=, max=)`` the training form shows)."""
    import dataclasses

    from ..schedulers import MIN_STEPS

    if not model.capabilities.samplers:
        return {}
    meta = {f.name: f.metadata for f in dataclasses.fields(model.config)}
    ranges: dict[str, tuple[float, float]] = {"steps": (MIN_STEPS, model.num_train_timesteps)}
    for option, field in (("eta", "eta"), ("guidance", "guidance_scale")):
        if field in meta and meta[field].get("min") is not None and meta[field].get("max") is not None:
            ranges[option] = (meta[field]["min"], meta[field]["max"])
    return ranges


def check_options(model, sampler: str | None = None, steps: int | None = None, eta: float | None = None,
                  guidance: float | None = None, label: int | None = None, mixed_label: bool = False) -> None:
    """The one rule for sampling options, from the CLI and the window alike: raise ``SpecError``
    (field = ``sampler``, ``steps``, ``eta``, ``guidance`` or ``label``) naming the first bad
    one and its allowed values. ``None`` means not given. ``label`` −1 ("one of each") is
    allowed with ``mixed_label``. Ranges: ``option_ranges``."""
    from ..errors import SpecError
    from ..schedulers import MIN_STEPS, SCHEDULERS

    samplers = model.capabilities.samplers
    family = getattr(model, "family", type(model).__name__)
    if not samplers:
        for field, value in (("sampler", sampler), ("steps", steps), ("eta", eta)):
            if value is not None:
                raise SpecError(f"applies to diffusion models; {family} has no sampler", field)
    if sampler is not None and sampler not in samplers:
        raise SpecError(f"must be one of {', '.join(samplers)} (got {sampler!r})", "sampler")
    ranges = option_ranges(model)
    if steps is not None and not _within(steps, ranges["steps"]):
        lo, hi = ranges["steps"]
        why = " (one step from pure noise gives noise: use at least 2)" if steps == 1 and MIN_STEPS == 2 else ""
        raise SpecError(f"must be in {lo}..{hi} for this model (T = {hi}), got {steps}{why}", "steps")
    if eta is not None:
        name = sampler or model.config.sampler
        if not getattr(SCHEDULERS.get(name), "has_eta", False):
            with_eta = [n for n in samplers if getattr(SCHEDULERS.get(n), "has_eta", False)]
            raise SpecError(f"applies only to {' / '.join(with_eta) or 'no'} sampling; {name} has no η", "eta")
        if not _within(eta, ranges["eta"]):
            raise SpecError(f"must be in {_span(ranges['eta'])} (0 deterministic, 1 as much noise as DDPM), "
                            f"got {eta:g}", "eta")
    conditional = bool(getattr(model.capabilities, "class_conditional", False))
    if label is not None:
        if not conditional:
            raise SpecError(f"is not taken: this {family} model is unconditional (leave the class empty)", "label")
        lo = -1 if mixed_label else 0
        if not lo <= label < model.num_classes:
            raise SpecError(f"must be in {lo}..{model.num_classes - 1}"
                            f"{' (or −1 for one of each)' if mixed_label else ''}, got {label}", "label")
    if guidance is not None:
        if not (conditional and samplers):
            raise SpecError("applies to class-conditional diffusion models (ddpm with class_conditional=true)",
                            "guidance")
        if not _within(guidance, ranges["guidance"]):
            raise SpecError(f"must be in {_span(ranges['guidance'])} (0 unconditional, 1 conditional), "
                            f"got {guidance:g}", "guidance")


def _within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]  # False for NaN


def _span(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}..{bounds[1]:g}"


def check_spec(model, spec: SamplingSpec) -> None:
    """Raise ``SpecError`` (a ValueError) naming the first bad setting and the allowed values:
    ``check_options`` for the sampling options (η only where the sampler has one: the window
    keeps its η field while another sampler is chosen), then the batch and the seed."""
    from ..errors import SpecError
    from ..schedulers import SCHEDULERS

    check_options(model, spec.sampler, spec.steps, label=spec.label, mixed_label=True,
                  eta=spec.eta if getattr(SCHEDULERS.get(spec.sampler), "has_eta", False) else None,
                  guidance=spec.guidance if spec.label is not None else None)
    if not 1 <= spec.batch <= MAX_BATCH:
        raise SpecError(f"must be 1..{MAX_BATCH} images, got {spec.batch}", "batch")
    if spec.seed < 0:
        raise SpecError(f"must be non-negative, got {spec.seed}", "seed")


@dataclass
class Checkpoint:
    x: Tensor  # x_t, the input of the step, float32 on the CPU
    scheduler_state: dict[str, Any]  # the solver's history before the step
    rng_state: Tensor  # the noise generator's state before the step


# --- the store ---------------------------------------------------------------------------------
class Trajectory:
    """Frames of one sampling run.  Step i shows the input x_{t_i} and the model's x̂_0 and ε at
    t_i; ``final`` is the output of the last step.  A branch shares its parent's steps before
    ``branch_step`` (read through the parent, not copied)."""

    def __init__(self, spec: SamplingSpec, timesteps: list[int], image_shape: tuple[int, int, int],
                 parent: "Trajectory | None" = None, branch_step: int = 0):
        self.spec, self.timesteps = spec, list(timesteps)
        self.parent, self.branch_step = parent, branch_step
        self.n = len(self.timesteps)
        c, h, w = image_shape
        own = self.n - branch_step
        # np.empty: pages are only committed as steps are written
        self._frames = {k: np.empty((own, spec.batch, h, w, c), np.uint8) for k in KINDS}
        self.final: np.ndarray | None = None
        self.done = branch_step  # steps available (the parent's before branch_step count)
        self.checkpoints: dict[int, Checkpoint] = {}
        per_checkpoint = spec.batch * c * h * w * 4 * 2  # x_t + at most one x̂_0 of history
        self.stride = max(1, math.ceil(own * per_checkpoint / CHECKPOINT_BUDGET))
        self.sampling_s = 0.0  # model + scheduler time (no frames, no UI)
        self.status = "running"  # running | finished | cancelled

    @property
    def finished(self) -> bool:
        return self.final is not None

    def frames(self, step: int, kind: str) -> np.ndarray:
        """uint8 (N, H, W, C) of ``kind`` (x_t, x0, eps) at ``step``."""
        if not 0 <= step < self.done:
            raise IndexError(f"step {step} is not stored yet ({self.done} of {self.n} done)")
        if step < self.branch_step:
            return self.parent.frames(step, kind)
        return self._frames[kind][step - self.branch_step]

    def frame(self, step: int, kind: str, image: int | None = None) -> np.ndarray:
        """One image (H, W, C), or with ``image=None`` all of them as a grid."""
        frames = self.frames(step, kind)
        return frames[image] if image is not None else tile(frames)

    def final_frame(self, image: int | None = None) -> np.ndarray:
        return self.final[image] if image is not None else tile(self.final)

    def timestep(self, step: int) -> int:
        return int(self.timesteps[step])

    @property
    def nbytes(self) -> int:
        frames = sum(a.nbytes for a in self._frames.values())
        state = sum(c.x.nbytes + sum(v.nbytes for v in c.scheduler_state.values() if isinstance(v, Tensor))
                    + c.rng_state.nbytes for c in self.checkpoints.values())
        return frames + state + (self.final.nbytes if self.final is not None else 0)

    def _store(self, step: int, x: Tensor, x0: Tensor, eps: Tensor) -> None:
        i = step - self.branch_step
        self._frames["x_t"][i] = to_frames(x)
        self._frames["x0"][i] = to_frames(x0)
        self._frames["eps"][i] = to_frames(eps, EPS_RANGE)
        self.done = step + 1


# --- the job -----------------------------------------------------------------------------------
class SamplingJob:
    """Samples ``spec`` one step at a time into ``self.trajectory``.  With ``parent`` and
    ``branch_step`` k, it continues from the parent's x_k with this spec's sampler, η and seed
    (same timesteps).  The solver's history and the noise stream carry over when the sampler
    (and for the noise, the seed) is unchanged, so an unchanged spec reproduces the parent."""

    def __init__(self, model, spec: SamplingSpec, parent: Trajectory | None = None, branch_step: int = 0):
        if parent is not None:
            spec = replace(spec, steps=parent.n, batch=parent.spec.batch)
            if not 0 <= branch_step < parent.done:
                raise ValueError(f"can branch only from a stored step (0..{parent.done - 1}), got {branch_step}")
        check_spec(model, spec)
        self.model, self.spec = model, spec
        self.device = next(model.parameters()).device
        self.scheduler = model.make_scheduler(spec.sampler, spec.steps, spec.eta)
        timesteps = [int(t) for t in self.scheduler.timesteps]
        self.trajectory = Trajectory(spec, timesteps, tuple(model.image_shape), parent, branch_step)
        # x_T and the per-step noise z come from separate streams of the seed, on CPU generators
        # (the same images on every device; ``studio.rng``); ``generator`` draws z
        noise_generator, self.generator = rng.streams(spec.seed)
        if parent is None:
            self.x = model.sample_noise(spec.batch, noise_generator).float()  # x_T ~ N(0, I)
        else:
            self.x, state, rng_state = state_at(model, parent, branch_step)
            if spec.sampler == parent.spec.sampler:  # e.g. DPM-Solver++'s previous x̂_0
                self.scheduler.load_state(state)
            if spec.seed == parent.spec.seed:
                self.generator.set_state(rng_state)
        self.labels = class_labels(model, spec, self.device)

    def steps(self) -> Iterator[int]:
        """Compute one step per iteration; yields the index of the step just stored."""
        traj = self.trajectory
        for i in range(traj.done, traj.n):
            yield self._step(i)
        traj.final = to_frames(self.x)
        traj.status = "finished"

    def run(self, control: Control | None = None, on_step: Callable[[int], None] | None = None) -> Trajectory:
        """Every step (or until ``control`` stops it); ``on_step(i)`` after each."""
        for i in self.steps():
            if on_step is not None:
                on_step(i)
            if control is not None and control.wait_while_paused():
                self.trajectory.status = "cancelled"
                break
        return self.trajectory

    def _step(self, i: int) -> int:
        traj, t = self.trajectory, self.trajectory.timesteps[i]
        if (i - traj.branch_step) % traj.stride == 0:
            traj.checkpoints[i] = Checkpoint(self.x.detach().cpu().clone(), self.scheduler.state(),
                                             self.generator.get_state())
        start = time.perf_counter()
        eps = predict(self.model, self.x, t, self.labels, self.spec.guidance)
        out = self.scheduler.step(eps, t, self.x, self.generator)
        traj.sampling_s += time.perf_counter() - start
        traj._store(i, self.x, out.pred_original_sample, eps)
        self.x = out.prev_sample
        return i


def make_scheduler_for(model, spec: SamplingSpec):
    return model.make_scheduler(spec.sampler, spec.steps, spec.eta)


def class_labels(model, spec: SamplingSpec, device) -> Tensor | None:
    if spec.label is None or not getattr(model.capabilities, "class_conditional", False):
        return None
    if spec.label < 0:  # one of each class, in order
        return torch.arange(spec.batch, device=device) % model.num_classes
    return torch.full((spec.batch,), spec.label, dtype=torch.int64, device=device)


def predict(model, x: Tensor, t: int, labels: Tensor | None, guidance: float) -> Tensor:
    """ε_θ(x_t, t) with the EMA weights; guided when the model is conditional and has labels."""
    if labels is None:
        return model.predict_noise(x, t, use_ema=True)
    return model.predict_noise(x, t, use_ema=True, labels=labels, guidance_scale=guidance)


@torch.no_grad()
def state_at(model, traj: Trajectory, step: int) -> tuple[Tensor, dict[str, Any], Tensor]:
    """(x, solver history, generator state) just before ``step`` of ``traj``: from the last
    checkpoint at or before it, replaying the steps in between with the trajectory's spec."""
    if step < traj.branch_step:
        return state_at(model, traj.parent, step)
    start = max(k for k in traj.checkpoints if k <= step)
    ckpt = traj.checkpoints[start]
    device = next(model.parameters()).device
    x = ckpt.x.to(device)
    scheduler = make_scheduler_for(model, traj.spec)
    scheduler.load_state({k: v.to(device) if isinstance(v, Tensor) else v for k, v in ckpt.scheduler_state.items()})
    generator = torch.Generator()  # the job's z generator lives on the CPU (``rng.streams``)
    generator.set_state(ckpt.rng_state)
    labels = class_labels(model, traj.spec, device)
    for i in range(start, step):
        t = traj.timesteps[i]
        eps = predict(model, x, t, labels, traj.spec.guidance)
        x = scheduler.step(eps, t, x, generator).prev_sample
    return x, scheduler.state(), generator.get_state()


# --- the forward process -----------------------------------------------------------------------
@dataclass
class ForwardProcess:
    """q(x_t | x_0) for one image at every t = 0 … T (t = 0 is the image itself) with one
    fixed noise ε: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (Ho et al. 2020, eq. 4)."""

    x_t: np.ndarray  # uint8 (T + 1, H, W, C)
    noise: np.ndarray  # uint8 (H, W, C): ε, shown with ±3 σ
    scaled_noise: np.ndarray  # uint8 (T + 1, H, W, C): √(1 − ᾱ_t) ε, what was added


@torch.no_grad()
def forward_process(model, image: Tensor, seed: int = 0) -> ForwardProcess:
    """``image`` float (C, H, W) in [−1, 1]; index t of the result is the paper's t."""
    sched = model.noise_schedule
    T = sched.num_train_timesteps
    noise = torch.randn(image.shape, generator=torch.Generator().manual_seed(seed))
    x0 = image.float().cpu().expand(T, *image.shape)
    # our index k is the paper's t = k + 1; prepend t = 0 (ᾱ = 1, no noise)
    x_t = torch.cat([image.float().cpu()[None], sched.add_noise(x0, noise.expand_as(x0), torch.arange(T))])
    a = torch.cat([torch.ones(1, dtype=torch.float64), sched.alphas_cumprod]).float()
    added = (1 - a).sqrt()[:, None, None, None] * noise
    return ForwardProcess(to_frames(x_t), to_frames(noise[None], EPS_RANGE)[0], to_frames(added, EPS_RANGE))


def forward_for_image(model, images: Tensor, index: int) -> tuple[ForwardProcess, dict[str, np.ndarray]]:
    """The forward process of uint8 dataset image ``index`` (noise seeded by the index) and the
    schedule curves, for the viewer."""
    image = to_unit_range(images[index])
    return forward_process(model, image, seed=index), schedule_curves(model.noise_schedule)


def schedule_curves(scheduler) -> dict[str, np.ndarray]:
    """The schedule against the paper's t = 0 … T: ᾱ_t, σ_t = √(1 − ᾱ_t) and log SNR =
    log(ᾱ_t/(1 − ᾱ_t)) (infinite at t = 0, so that point is NaN)."""
    a = torch.cat([torch.ones(1, dtype=torch.float64), scheduler.alphas_cumprod]).numpy()
    with np.errstate(divide="ignore"):
        log_snr = np.log(a) - np.log1p(-a)
    log_snr[0] = np.nan
    return {"t": np.arange(len(a), dtype=np.float64), "alpha_bar": a, "sigma": np.sqrt(1 - a), "log_snr": log_snr}


# --- opening runs, for the viewer ----------------------------------------------------------------
def open_model(path: str):
    """(model, run meta) of a run folder."""
    from ..runs import Run, load_model

    run = Run.open(path)
    return load_model(run), dict(run.meta)


def run_images(meta: dict, limit: int = 1000) -> Tensor:
    """A run's dataset (its test split where there is one) as uint8 (N, C, H, W), at most ``limit``."""
    from ..runs import run_dataset, spec_from_meta

    spec = spec_from_meta(meta)
    data = run_dataset(spec, "test") or run_dataset(spec, "train")  # no held-out split: the training images
    return data.images[:limit]


# --- export --------------------------------------------------------------------------------------
def trajectory_grid(traj: Trajectory, kind: str = "x_t", columns: int = 10, images: int = 8) -> np.ndarray:
    """One row per image (the first ``images``), ``columns`` evenly spaced steps left to right,
    then the final sample: the whole denoising on one page."""
    if traj.done == 0:
        raise ValueError("nothing to export: no step has been sampled yet")
    steps = sorted({round(i) for i in np.linspace(0, traj.done - 1, min(columns, traj.done))})
    cols = [traj.frames(s, kind) for s in steps] + ([traj.final] if traj.final is not None else [])
    n = min(images, traj.spec.batch)
    cells = np.stack([col[i] for i in range(n) for col in cols])
    return tile(cells, ncol=len(cols))


def animation_frames(traj: Trajectory, kind: str = "x_t", image: int | None = None,
                     max_frames: int = 150, hold: int = 12) -> list[np.ndarray]:
    """Frames of the denoising (at most ``max_frames`` steps, evenly spaced), then the final
    sample held for ``hold`` frames."""
    steps = sorted({round(i) for i in np.linspace(0, traj.done - 1, min(max_frames, traj.done))})
    frames = [traj.frame(s, kind, image) for s in steps]
    if traj.final is not None:
        frames += [traj.final_frame(image)] * hold
    return frames


def export_trajectory(traj: Trajectory, path, kind: str = "x_t", image: int | None = None,
                      scale: int | None = None, fps: float = 12):
    """``.png``: the trajectory grid; ``.gif`` / ``.mp4``: the denoising animation. ``scale``:
    whole-pixel enlargement (default: at least ``export.EXPORT_PX`` tall)."""
    from pathlib import Path

    from ..export import export_scale, save_animation
    from ..imaging import save_png

    if Path(path).suffix.lower() == ".png":
        grid = trajectory_grid(traj, kind)
        return save_png(grid, path, scale=scale or export_scale(grid))
    frames = animation_frames(traj, kind, image)
    return save_animation(frames, path, fps=fps, scale=scale or export_scale(frames[0]))


def export_step(traj: Trajectory, step: int, path, image: int | None = None, scale: int | None = None):
    """x_t | x̂_0 | ε of one step side by side, as a PNG (at least ``export.EXPORT_PX`` tall)."""
    from ..export import export_scale, save_png_strip

    frames = [traj.frame(step, k, image) for k in KINDS]
    return save_png_strip(frames, path, scale=scale or export_scale(frames[0]))
