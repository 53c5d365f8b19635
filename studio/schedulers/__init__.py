"""Diffusion samplers: noise maths only, no weights (driven by ``studio.models.ddpm``
and, one step at a time, by the diffusion viewer)."""

from __future__ import annotations

import importlib
from typing import Any

from .names import BETA_SCHEDULES, MIN_STEPS, SAMPLER_NAMES

# name -> module; imported on first use, so that ``names`` (torch-free) is cheap to reach
_LAZY = {"DDIMScheduler": ".ddim", "DDPMScheduler": ".ddpm", "DPMSolverMultistepScheduler": ".dpm_solver",
         **{name: ".schedule" for name in ("Scheduler", "StepOutput", "alphas_cumprod", "cosine_betas",
                                           "linear_betas", "make_betas", "trailing_timesteps")}}


def __getattr__(name: str) -> Any:
    if name == "SCHEDULERS":  # sampler name -> class, in SAMPLER_NAMES order
        classes = (__getattr__("DDPMScheduler"), __getattr__("DDIMScheduler"),
                   __getattr__("DPMSolverMultistepScheduler"))
        value = dict(zip(SAMPLER_NAMES, classes))
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def make_scheduler(name: str, **config) -> Scheduler:
    """``make_scheduler("ddim", num_train_timesteps=1000, beta_schedule="cosine", eta=0.0)``."""
    try:
        cls = (globals().get("SCHEDULERS") or __getattr__("SCHEDULERS"))[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; "
                         f"choose one of {', '.join(SAMPLER_NAMES)}") from None
    return cls(**config)


__all__ = ["BETA_SCHEDULES", "MIN_STEPS", "DDIMScheduler", "DDPMScheduler", "DPMSolverMultistepScheduler", "SAMPLER_NAMES", "SCHEDULERS", "Scheduler",
           "StepOutput", "alphas_cumprod", "cosine_betas", "linear_betas", "make_betas",
           "make_scheduler", "trailing_timesteps"]
