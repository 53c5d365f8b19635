"""Ancestral sampling of Ho et al. 2020 (Algorithm 2), with optional respacing.

Each step samples x_s ~ q(x_s | x_t, x̂_0), the Gaussian posterior of eq. 6–7 with the
model's x̂_0 in place of x_0.  For s = t − 1 and no clipping its mean is exactly eq. 11,
μ_θ = (x_t − β_t/√(1 − ᾱ_t) ε_θ)/√α_t; going through x̂_0 lets us clip it to the data range.
When steps are skipped (s < t − 1) the same formulas hold with the respaced
β_t = 1 − ᾱ_t/ᾱ_s (Nichol & Dhariwal 2021, §4).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .schedule import Scheduler, StepOutput


class DDPMScheduler(Scheduler):
    label = "DDPM (ancestral)"

    def variance(self, t: int | Tensor) -> float:
        """β̃_t = (1 − ᾱ_s)/(1 − ᾱ_t) · β_t, the posterior variance of eq. 7 (σ_t² = β̃_t)."""
        t = int(t)
        s = self.prev_timestep(t)
        a_t, a_s = self.alpha_bar(t), self.alpha_bar(s)
        beta_t = 1 - a_t / a_s
        return (1 - a_s) / (1 - a_t) * beta_t

    def step(self, model_output: Tensor, t: int | Tensor, sample: Tensor,
             generator: torch.Generator | None = None, noise: Tensor | None = None,
             **_: Any) -> StepOutput:
        """One reverse step x_t → x_s (s the next timestep); ``model_output`` is ε_θ(x_t, t).

        ``noise`` (z in Algorithm 2) may be given instead of drawn from ``generator``."""
        t = int(t)
        s = self.prev_timestep(t)
        a_t, a_s = self.alpha_bar(t), self.alpha_bar(s)
        # 1. the (respaced) step's α and β: α_t = ᾱ_t/ᾱ_s, β_t = 1 − α_t
        alpha_t = a_t / a_s
        beta_t = 1 - alpha_t
        # 2. x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ)/√ᾱ_t, optionally clipped to [−1, 1]
        x0 = self.predict_original(model_output, t, sample)
        # 3. posterior mean, eq. 7: μ̃ = √ᾱ_s β_t/(1 − ᾱ_t) x̂_0 + √α_t (1 − ᾱ_s)/(1 − ᾱ_t) x_t
        mean = (math.sqrt(a_s) * beta_t / (1 - a_t)) * x0 \
            + (math.sqrt(alpha_t) * (1 - a_s) / (1 - a_t)) * sample
        # 4. x_s = μ̃ + σ_t z with σ_t² = β̃_t (eq. 7); no noise on the last step (Algorithm 2)
        if s < 0:
            return StepOutput(mean, x0)
        var = (1 - a_s) / (1 - a_t) * beta_t
        z = self._noise_like(sample, generator, noise)
        return StepOutput(mean + math.sqrt(var) * z, x0)
