"""Editing a picture with a diffusion model: SDEdit / img2img, class swap and RePaint inpainting.

All three are jobs of the one protocol (``job(reporter, control) -> EditResult``) built on the
viewer's step-by-step machinery (``studio.engine.sampling``): every denoising step stores
x_t, x̂₀ and ε as uint8 frames in a ``Trajectory`` (the same bounded store, scrubbed the same
way), reports ``reporter.preview(step, frames)`` and checks the ``Control`` between steps.

- **SDEdit** (Meng et al. 2022, "SDEdit: Guided Image Synthesis and Editing with Stochastic
  Differential Equations", §3): noise the picture to t₀ with the forward process,
  x_{t₀} = √ᾱ_{t₀} x + √(1 − ᾱ_{t₀}) ε, then denoise with any sampler from t₀. The strength
  s ∈ [0, 1] picks t₀ on the sampler's own timestep grid (the last ⌈s·n⌉ of its n steps, as
  diffusers' img2img does), so s = 0 returns the picture exactly and s = 1 is plain sampling
  from the same seed (x_T is then the noise itself: ᾱ_T ≈ 0 has erased the picture anyway).
  Because the trajectory keeps the viewer's checkpoints, it can be branched like any other.
- **Class swap**: SDEdit towards another class of a class-conditional DDPM, with
  classifier-free guidance ("turn this shirt into a dress").
- **Inpainting** (Lugmayr et al. 2022, "RePaint: Inpainting using Denoising Diffusion
  Probabilistic Models", Algorithm 1): after each reverse step the known pixels (mask 0) are
  replaced by the original noised to the new timestep, x = m ⊙ x_unknown + (1 − m) ⊙ x_known;
  every ``jump_length`` steps the chain jumps back up that many steps through the forward
  process, ``resample`` times in all (§4.2), which lets the generated region harmonise with
  the kept one. The last step pastes the original exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from .. import rng
from ..engine.jobs import Cancelled, Control, Progress, Reporter
from ..engine.sampling import KINDS, SamplingJob, SamplingSpec, Trajectory, check_spec, class_labels, predict
from ..errors import SpecError
from ..imaging import to_frames

MAX_FRAME_BYTES = 160 * 2 ** 20  # the viewer's bound: 1000 steps × 16 × 32×32×3 × 3 kinds ≈ 147 MB
DEFAULT_JUMP_LENGTH = 5
DEFAULT_RESAMPLE = 5


@dataclass
class EditResult:
    """What an edit made: ``images`` float (N, C, H, W) in [−1, 1], from ``inputs`` (the same
    shape); ``mask`` (1|N, 1, H, W), 1 = regenerated (inpainting only); every step in
    ``trajectory``."""

    images: Tensor
    inputs: Tensor
    trajectory: Trajectory
    mask: Tensor | None = None


def check_diffusion(model) -> None:
    if not model.capabilities.denoise_step:
        raise SpecError(f"({model.family}) has no denoising steps: editing by denoising needs a diffusion "
                        f"model (ddpm)", field="run")


def check_strength(strength: float) -> float:
    s = float(strength)
    if not 0.0 <= s <= 1.0:  # also refuses NaN
        raise SpecError(f"must be in [0, 1] (0 keeps the picture, 1 ignores it), got {strength}",
                        field="strength")
    return s


def edit_steps(steps: int, strength: float) -> int:
    """How many of a sampler's ``steps`` an edit of ``strength`` runs: 0 at 0, all at 1, at
    least one for any strength above 0."""
    return 0 if strength == 0 else max(1, min(steps, round(strength * steps)))


def _batch_of(images: Tensor, batch: int, model, name: str = "image") -> Tensor:
    """(C, H, W) or (1|batch, C, H, W) → float (batch, C, H, W) on the model's device."""
    x = images.float()
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or tuple(x.shape[1:]) != tuple(model.image_shape) or x.shape[0] not in (1, batch):
        raise SpecError(f"must be (1 or {batch}, {', '.join(map(str, model.image_shape))}) "
                        f"for this model, got {tuple(images.shape)}", field=name)
    device = next(model.parameters()).device
    return x.expand(batch, *x.shape[1:]).to(device).contiguous()


def step_frames(traj: Trajectory, step: int) -> dict[str, np.ndarray]:
    """The uint8 (N, H, W, C) frames of one stored step: what ``reporter.preview`` receives."""
    return {kind: traj.frames(step, kind) for kind in KINDS}


def run_steps(job, reporter: Reporter, control: Control) -> None:
    """Drive ``job.steps()`` under the job protocol: progress and a preview per step, pause and
    cancel between steps (the trajectory is marked "cancelled" and keeps what was done)."""
    traj = job.trajectory
    first, total = traj.done, traj.n - traj.done
    reporter.status(job.describe())
    for i in job.steps():
        reporter.progress(Progress(i + 1 - first, total))
        reporter.preview(i, step_frames(traj, i))
        if control.wait_while_paused():
            traj.status = "cancelled"
            raise Cancelled()


# --- SDEdit and class swap ------------------------------------------------------------------------
class SDEditJob(SamplingJob):
    """SDEdit of ``image`` (float (C, H, W) or (1|batch, C, H, W) in [−1, 1]) at ``strength``
    with the sampler, steps, η, seed, batch, class and guidance of ``spec``. ``spec.batch``
    edits of the same picture differ in their noise. With ``parent`` (a trajectory of this
    job or of plain sampling) it branches from ``branch_step`` like ``SamplingJob``.

    Call it as a job: ``SDEditJob(...)(reporter, control) -> EditResult``; or iterate
    ``steps()`` as the viewer does. Raises ``SpecError`` for a non-diffusion model, a strength
    outside [0, 1] or a picture of the wrong shape."""

    def __init__(self, model, image: Tensor, spec: SamplingSpec = SamplingSpec(), strength: float = 0.6,
                 parent: Trajectory | None = None, branch_step: int = 0):
        check_diffusion(model)
        self.strength = check_strength(strength)
        if parent is None:
            check_spec(model, spec)
            self.image = _batch_of(image, spec.batch, model)
            super().__init__(model, spec)  # seeds the generator and draws x_T exactly as plain sampling does
            grid = self.trajectory.timesteps
            k = edit_steps(len(grid), self.strength)
            timesteps = grid[len(grid) - k:]
            self.trajectory = Trajectory(spec, timesteps, tuple(model.image_shape))
            if k == 0:
                self.x = self.image.clone()
            elif k < len(grid):
                # x_{t₀} = √ᾱ_{t₀} x + √(1 − ᾱ_{t₀}) ε  (Ho et al. 2020, eq. 4; SDEdit §3)
                self.x = self.scheduler.add_noise(self.image, self.x, timesteps[0])
        else:
            self.image = _batch_of(image, parent.spec.batch, model)
            super().__init__(model, spec, parent, branch_step)  # x, history and noise stream at the step
            # the parent's grid is its sampler's full one (an edit runs only its tail): keep it
            history = self.scheduler.state()
            self.spec = replace(self.spec, steps=parent.spec.steps)
            self.scheduler = self.model.make_scheduler(self.spec.sampler, self.spec.steps, self.spec.eta)
            self.scheduler.load_state(history)
            self.trajectory = Trajectory(self.spec, parent.timesteps, tuple(model.image_shape), parent, branch_step)

    def describe(self) -> str:
        return f"SDEdit at strength {self.strength:g}: {self.trajectory.n} of {self.spec.steps} steps · " \
               f"{self.spec.describe()}"

    def __call__(self, reporter: Reporter, control: Control) -> EditResult:
        run_steps(self, reporter, control)
        return EditResult(self.x.clamp(-1, 1) if self.trajectory.n else self.x, self.image, self.trajectory)


def class_swap_job(model, image: Tensor, target: int, strength: float = 0.6, guidance: float | None = None,
                   spec: SamplingSpec = SamplingSpec()) -> SDEditJob:
    """SDEdit towards class ``target`` with classifier-free guidance ``guidance`` (default: the
    model's own scale). Needs a class-conditional diffusion model."""
    check_diffusion(model)
    if not getattr(model.capabilities, "class_conditional", False):
        raise SpecError("applies to class-conditional models; this ddpm is unconditional (a class swap needs one "
                        "trained with class_conditional=true)",
                        field="label")
    if not 0 <= int(target) < model.num_classes:
        raise SpecError(f"must be in 0..{model.num_classes - 1}, got {target}", field="label")
    s = model.config.guidance_scale if guidance is None else float(guidance)
    return SDEditJob(model, image, replace(spec, label=int(target), guidance=s), strength)


# --- RePaint inpainting ---------------------------------------------------------------------------
def repaint_path(n: int, jump_length: int, resample: int) -> list[int]:
    """The order RePaint visits the timestep grid (Lugmayr et al. 2022, §4.2 and their
    ``get_schedule_jump``): positions 0 … n (0 = the first timestep, x_T; n − 1 = the last
    timestep; n = clean). Going down, on reaching the last timestep and every ``jump_length``
    positions above it (but not within the first stretch from x_T) the chain jumps back up
    ``jump_length`` positions, ``resample − 1`` times, before going on. Model evaluations:
    n + (resample − 1) · jump_length · ⌈(n − jump_length) / jump_length⌉."""
    jumps = {n - 1 - r: resample - 1 for r in range(0, n - jump_length, jump_length)}
    path, i = [0], 0
    while i < n:
        i += 1
        path.append(i)
        if jumps.get(i, 0) > 0:
            jumps[i] -= 1
            for _ in range(jump_length):
                i -= 1
                path.append(i)
    return path


class InpaintJob:
    """RePaint inpainting of ``image`` where ``mask`` is 1 (float (1|batch, 1, H, W) or (H, W),
    1 = regenerate, 0 = keep) with ``spec``'s sampler, steps, η, seed, batch, class and
    guidance; ``jump_length`` j and ``resample`` r as in the paper (r = 1: no resampling).

    Model evaluations: see ``repaint_path`` (≈ r·n); the frames stay within ``MAX_FRAME_BYTES``
    (the viewer's bound) or the job refuses to start. Its trajectory has one stored step per
    model evaluation (``timesteps`` repeat after each jump) and no branching checkpoints."""

    def __init__(self, model, image: Tensor, mask: Tensor, spec: SamplingSpec = SamplingSpec(),
                 jump_length: int = DEFAULT_JUMP_LENGTH, resample: int = DEFAULT_RESAMPLE):
        check_diffusion(model)
        check_spec(model, spec)
        if not 1 <= int(jump_length) <= spec.steps:
            raise SpecError(f"must be in 1..{spec.steps} (the steps), got {jump_length}",
                            field="jump_length")
        if not 1 <= int(resample) <= 100:
            raise SpecError(f"must be in 1..100 (1 = no resampling), got {resample}", field="resample")
        self.model, self.spec = model, spec
        self.jump_length, self.resample = int(jump_length), int(resample)
        self.image = _batch_of(image, spec.batch, model)
        m = mask.float()
        m = m[None, None] if m.dim() == 2 else m
        c, h, w = model.image_shape
        if m.dim() != 4 or m.shape[1] != 1 or tuple(m.shape[2:]) != (h, w) or m.shape[0] not in (1, spec.batch):
            raise SpecError(f"must be (1, 1, {h}, {w}) like the picture, got {tuple(mask.shape)}",
                            field="mask")
        if not torch.all((m == 0) | (m == 1)):
            raise SpecError("must hold only 0 (keep) and 1 (regenerate)", field="mask")
        if m.sum() == 0:
            raise SpecError("is empty: mark the pixels to regenerate (1 / white)", field="mask")
        self.mask = m.to(self.image.device)
        self.device = self.image.device
        self.scheduler = model.make_scheduler(spec.sampler, spec.steps, spec.eta)
        self.grid = [int(t) for t in self.scheduler.timesteps]
        self.path = repaint_path(len(self.grid), self.jump_length, self.resample)
        timesteps = [self.grid[a] for a, b in zip(self.path, self.path[1:]) if b == a + 1]
        frame_bytes = len(timesteps) * spec.batch * c * h * w * len(KINDS)
        if frame_bytes > MAX_FRAME_BYTES:
            raise SpecError(f"{resample} with {spec.steps} steps and jump length {jump_length} "
                            f"takes {len(timesteps)} steps, {frame_bytes / 2 ** 20:.0f} MB of frames "
                            f"for {spec.batch} images (at most {MAX_FRAME_BYTES // 2 ** 20} MB): use fewer steps, "
                            f"images or resamplings", field="resample")
        self.trajectory = Trajectory(spec, timesteps, (c, h, w))
        # x_T from the seed's first stream, as plain sampling; z, the kept pixels' noise and the
        # jumps' noise from its second (``studio.rng``)
        noise_generator, self.generator = rng.streams(spec.seed)
        self.x = model.sample_noise(spec.batch, noise_generator).float()  # x_T ~ N(0, I)
        self.labels = class_labels(model, spec, self.device)

    def describe(self) -> str:
        return (f"RePaint inpainting: {self.trajectory.n} steps (jump length {self.jump_length}, resample "
                f"{self.resample}) · {self.spec.describe()}")

    def _alpha_bar(self, position: int) -> float:
        return 1.0 if position >= len(self.grid) else self.scheduler.alpha_bar(self.grid[position])

    def _known(self, position: int) -> Tensor:
        """The kept pixels at grid ``position``: the original noised there (itself at the end)."""
        if position >= len(self.grid):
            return self.image
        noise = rng.randn(self.image.shape, self.generator, self.device)
        return self.scheduler.add_noise(self.image, noise, self.grid[position])

    def steps(self) -> Iterator[int]:
        """One model evaluation per iteration; yields the index of the step just stored."""
        traj, k = self.trajectory, 0
        for a, b in zip(self.path, self.path[1:]):
            if b == a + 1:  # a reverse step x_{t_a} → x_{t_b}, then the known pixels pasted in
                t = self.grid[a]
                eps = predict(self.model, self.x, t, self.labels, self.spec.guidance)
                out = self.scheduler.step(eps, t, self.x, self.generator)
                traj._store(k, self.x, out.pred_original_sample, eps)
                # x_{t_b} = m ⊙ x_unknown + (1 − m) ⊙ x_known  (Algorithm 1, line 8)
                self.x = torch.lerp(self._known(b), out.prev_sample, self.mask)
                yield k
                k += 1
            else:  # a jump back up: x_{t_b} ~ q(x_{t_b} | x_{t_a}) = N(√(ᾱ_b/ᾱ_a) x, (1 − ᾱ_b/ᾱ_a) I)
                ratio = self._alpha_bar(b) / self._alpha_bar(a)
                noise = rng.randn(self.x.shape, self.generator, self.device)
                self.x = math.sqrt(ratio) * self.x + math.sqrt(1 - ratio) * noise
                self.scheduler.load_state({})  # a multistep solver's history is stale after a jump
        self.x = torch.lerp(self.image, self.x.clamp(-1, 1), self.mask)  # the kept pixels exactly
        traj.final = to_frames(self.x)
        traj.status = "finished"

    def __call__(self, reporter: Reporter, control: Control) -> EditResult:
        run_steps(self, reporter, control)
        return EditResult(self.x, self.image, self.trajectory, self.mask)


__all__ = ["DEFAULT_JUMP_LENGTH", "DEFAULT_RESAMPLE", "EditResult", "InpaintJob", "MAX_FRAME_BYTES", "SDEditJob",
           "check_diffusion", "check_strength", "class_swap_job", "edit_steps", "repaint_path", "step_frames"]
