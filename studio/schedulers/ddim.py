"""DDIM sampling (Song et al. 2021): the non-Markovian reverse process of eq. 12.

x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ_t²) ε_θ + σ_t z, with σ_t from eq. 16 scaled by η:
η = 0 is deterministic (the same noise always gives the same image, and far fewer steps
suffice), η = 1 makes σ_t² the DDPM posterior variance β̃_t.

With ``clip_sample`` the direction term uses the ε implied by the *clipped* x̂_0,
ε̂ = (x_t − √ᾱ_t x̂_0)/√(1 − ᾱ_t), as GLIDE and improved-diffusion's ``ddim_sample`` do:
x̂_0 and ε̂ then describe the same x_t, so η = 1 is exactly the ancestral DDPM step and η = 0
exactly first-order DPM-Solver++ with the same clipping. Mixing the clipped x̂_0 with the raw
ε_θ adds the clipped-off part of x̂_0 back as "noise", and more steps made that worse.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .schedule import Scheduler, StepOutput


class DDIMScheduler(Scheduler):
    label = "DDIM"
    has_eta = True  # make_scheduler passes η

    def __init__(self, num_train_timesteps: int = 1000, beta_schedule: str = "linear",
                 clip_sample: bool = True, eta: float = 0.0):
        super().__init__(num_train_timesteps, beta_schedule, clip_sample)
        self.eta = float(eta)

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.eta == 0

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "eta": self.eta}

    def variance(self, t: int | Tensor, eta: float | None = None) -> float:
        """σ_t² with eq. 16: σ_t = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s)."""
        eta = self.eta if eta is None else eta
        t = int(t)
        a_t, a_s = self.alpha_bar(t), self.alpha_bar(self.prev_timestep(t))
        return eta ** 2 * (1 - a_s) / (1 - a_t) * (1 - a_t / a_s)

    def step(self, model_output: Tensor, t: int | Tensor, sample: Tensor,
             generator: torch.Generator | None = None, eta: float | None = None,
             noise: Tensor | None = None, **_: Any) -> StepOutput:
        """One step x_t → x_s (s the next timestep); ``model_output`` is ε_θ(x_t, t)."""
        t = int(t)
        s = self.prev_timestep(t)
        a_s = self.alpha_bar(s)
        # 1. "predicted x_0" of eq. 12: x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ)/√ᾱ_t (optionally clipped)
        x0 = self.predict_original(model_output, t, sample)
        eps = model_output
        if self.clip_sample:  # the ε that goes with the clipped x̂_0 (GLIDE / improved-diffusion)
            a_t = self.alpha_bar(t)
            eps = (sample - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
        # 2. σ_t² from eq. 16 (zero when η = 0)
        var = self.variance(t, eta)
        # 3. "direction pointing to x_t": √(1 − ᾱ_s − σ_t²) ε
        direction = math.sqrt(max(1 - a_s - var, 0.0)) * eps
        # 4. eq. 12: x_s = √ᾱ_s x̂_0 + direction + σ_t z
        prev = math.sqrt(a_s) * x0 + direction
        if var > 0:
            prev = prev + math.sqrt(var) * self._noise_like(sample, generator, noise)
        return StepOutput(prev, x0)
