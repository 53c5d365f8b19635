"""Diffusion samplers: noise maths only, no weights (driven by ``studio.models.ddpm``
and, one step at a time, by the diffusion viewer)."""

from __future__ import annotations

from .ddim import DDIMScheduler
from .ddpm import DDPMScheduler
from .dpm_solver import DPMSolverMultistepScheduler
from .schedule import (BETA_SCHEDULES, MIN_STEPS, Scheduler, StepOutput, alphas_cumprod, cosine_betas,
                       linear_betas, make_betas, trailing_timesteps)

SCHEDULERS = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler, "dpmpp2m": DPMSolverMultistepScheduler}


def make_scheduler(name: str, **config) -> Scheduler:
    """``make_scheduler("ddim", num_train_timesteps=1000, beta_schedule="cosine", eta=0.0)``."""
    try:
        cls = SCHEDULERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; "
                         f"choose one of {', '.join(SCHEDULERS)}") from None
    return cls(**config)


__all__ = ["BETA_SCHEDULES", "MIN_STEPS", "DDIMScheduler", "DDPMScheduler", "DPMSolverMultistepScheduler", "SCHEDULERS", "Scheduler",
           "StepOutput", "alphas_cumprod", "cosine_betas", "linear_betas", "make_betas",
           "make_scheduler", "trailing_timesteps"]
