"""The samplers' names and limits, torch-free: the DDPM family's options (``models.options``)
list them before torch has loaded (the window's Train page, the CLI's checks)."""

from __future__ import annotations

BETA_SCHEDULES = ("linear", "cosine")
# Fewer steps give noise, not a picture: a single step is x̂₀ at ᾱ_{T−1} (see schedule.set_timesteps).
MIN_STEPS = 2
SAMPLER_NAMES = ("ddpm", "ddim", "dpmpp2m")  # the keys of SCHEDULERS, in its order
