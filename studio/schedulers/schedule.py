"""Noise schedules β_t and the maths every sampler shares.

Timesteps are indexed t = 0 … T−1 (the paper's t = 1 … T shifted by one), so
ᾱ_t = ∏_{s≤t} (1 − β_s) and ᾱ_{−1} = 1 (no noise).  Schedules are computed in float64
and coefficients handed to the samplers as Python floats, so a step costs no extra
tensors beyond the sample itself.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor

from ..rng import randn

from .names import BETA_SCHEDULES, MIN_STEPS  # noqa: F401 (torch-free; exported here too)
_ONE_STEP = (" (one step from pure noise can only predict x̂₀ at the noisiest timestep, where the "
             "model's error is amplified ~10⁴×; use at least 2)")


def linear_betas(num_timesteps: int) -> Tensor:
    """Ho et al. 2020 §4: β rising linearly from 1e-4 to 0.02 over T = 1000 steps.

    For other T the endpoints are scaled by 1000/T (Nichol & Dhariwal 2021, §4) so the
    total amount of noise added stays about the same."""
    scale = 1000.0 / num_timesteps
    return torch.linspace(scale * 1e-4, scale * 0.02, num_timesteps, dtype=torch.float64)


def cosine_betas(num_timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """Nichol & Dhariwal 2021, eq. 17: ᾱ_t = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2)."""
    steps = torch.arange(num_timesteps + 1, dtype=torch.float64) / num_timesteps
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    # β_t = 1 − ᾱ_t / ᾱ_{t−1}, clipped at 0.999 to avoid the singularity at t = T (§3.2)
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)


def make_betas(kind: str, num_timesteps: int) -> Tensor:
    if kind == "linear":
        return linear_betas(num_timesteps)
    if kind == "cosine":
        return cosine_betas(num_timesteps)
    raise ValueError(f"unknown beta schedule {kind!r}; choose one of {', '.join(BETA_SCHEDULES)}")


def alphas_cumprod(betas: Tensor) -> Tensor:
    """ᾱ_t = ∏_{s≤t} α_s with α_s = 1 − β_s (Ho et al. 2020, notation above eq. 4)."""
    return torch.cumprod(1 - betas, dim=0)


def trailing_timesteps(num_train_timesteps: int, n: int) -> Tensor:
    """int64 (n,), descending: t_i = round(T − i·T/n) − 1 (Lin et al. 2024, Table 2)."""
    T = num_train_timesteps
    steps = T - torch.arange(n, dtype=torch.float64) * (T / n)
    return steps.round().to(torch.int64) - 1


class StepOutput(NamedTuple):
    prev_sample: Tensor  # x_{t_prev}
    pred_original_sample: Tensor  # x̂_0, the model's current guess of the clean image


class Scheduler:
    """Shared by the DDPM and DDIM samplers: the schedule, timesteps and the forward process.

    Holds no weights.  A sampling loop is::

        scheduler.set_timesteps(n)
        for t in scheduler.timesteps:
            eps = model(x, t)
            x, x0 = scheduler.step(eps, t, x, generator)

    The loop can be driven one step at a time and restarted from any ``(x, t)``: ``step``
    only needs the current timestep, and finds the next one from ``timesteps``.  Multistep
    solvers also carry a small history: save it with ``state()`` and restore it with
    ``load_state()`` to resume exactly (the single-step samplers have none).
    """

    label = ""  # the name shown in menus
    has_eta = False  # whether the constructor takes η (make_scheduler passes it)
    deterministic = False  # True: ``step`` draws no noise

    def __init__(self, num_train_timesteps: int = 1000, beta_schedule: str = "linear",
                 clip_sample: bool = True):
        self.num_train_timesteps = int(num_train_timesteps)
        self.beta_schedule = beta_schedule
        self.clip_sample = bool(clip_sample)
        self.betas = make_betas(beta_schedule, self.num_train_timesteps)
        self.alphas_cumprod = alphas_cumprod(self.betas)
        self.set_timesteps(self.num_train_timesteps)

    # --- config ------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        return {"num_train_timesteps": self.num_train_timesteps,
                "beta_schedule": self.beta_schedule, "clip_sample": self.clip_sample}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Scheduler":
        return cls(**config)

    # --- timesteps ---------------------------------------------------------------------
    def set_timesteps(self, num_inference_steps: int) -> None:
        """``n`` descending timesteps with "trailing" spacing (Lin et al. 2024, "Common
        Diffusion Noise Schedules and Sample Steps are Flawed", Table 2):
        t_i = round(T − i·T/n) − 1, i = 0 … n−1.

        The first step is always T−1 (x_T ~ N(0, I) is only right there) and the steps are
        evenly T/n apart down to the last, which jumps from about T/n − 1 to the clean image.
        n = T gives the full chain T−1, …, 0 (Song et al. 2021 §4.2 for DDIM, the respacing
        of Nichol & Dhariwal 2021 §4 for DDPM). The older "linspace" spacing ended on t = 0,
        which wastes a step: with 2 steps it was [T−1, 0], i.e. one step, whose x̂₀ at
        ᾱ_{T−1} ≈ 2·10⁻⁹ (cosine) amplifies the model's error of ε by 1/√ᾱ ≈ 2·10⁴ and gives
        binary noise once clipped. One step is refused for the same reason (``MIN_STEPS``).

        Raises ``ValueError`` naming the allowed range when ``n`` is outside MIN_STEPS..T."""
        n, T = int(num_inference_steps), self.num_train_timesteps
        if not MIN_STEPS <= n <= T:
            raise ValueError(f"number of steps must be in {MIN_STEPS}..{T}, got {n}{_ONE_STEP if n == 1 else ''}")
        self.num_inference_steps = n
        self.timesteps = trailing_timesteps(T, n)

    def prev_timestep(self, t: int | Tensor) -> int:
        """The timestep after ``t`` in the sampling order; −1 means "clean" (ᾱ = 1)."""
        t = int(t)
        lower = self.timesteps[self.timesteps < t]
        return int(lower.max()) if lower.numel() else -1

    def alpha_bar(self, t: int) -> float:
        return 1.0 if t < 0 else float(self.alphas_cumprod[t])

    # --- solver history (none for single-step samplers) ---------------------------------------
    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} keeps no history, got {sorted(state)}")

    # --- forward process ---------------------------------------------------------------
    def add_noise(self, x0: Tensor, noise: Tensor, t: Tensor | int) -> Tensor:
        """Ho et al. 2020 eq. 4: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, t per sample or shared."""
        t = torch.as_tensor(t, device=self.alphas_cumprod.device).long()
        a = self.alphas_cumprod[t].to(device=x0.device, dtype=x0.dtype)
        a = a.reshape(-1, *([1] * (x0.dim() - 1))) if a.dim() else a
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def predict_original(self, model_output: Tensor, t: int, sample: Tensor) -> Tensor:
        """Invert eq. 4 with ε ≈ ε_θ: x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t, clipped to [−1, 1]
        when ``clip_sample`` (the data range; Ho et al. 2020 §3.3)."""
        a = self.alpha_bar(t)
        x0 = (sample - math.sqrt(1 - a) * model_output) / math.sqrt(a)
        return x0.clamp(-1, 1) if self.clip_sample else x0

    @staticmethod
    def _noise_like(sample: Tensor, generator: torch.Generator | None,
                    noise: Tensor | None) -> Tensor:
        """z ~ N(0, I) like ``sample``: ``noise`` when given, else drawn from ``generator`` on its
        own device and moved to ``sample``'s (a CPU generator works for a CUDA sample)."""
        if noise is not None:
            return noise
        return randn(sample.shape, generator, sample.device, sample.dtype)
