"""The 2-D playground's Qt-free core: every family learns a 2-D point set you pick or draw, in
seconds on one CPU thread, and shows its own view of the learning as numpy layers.

- ``datasets``: presets (two moons, rings, 8 Gaussians, spiral, checkerboard, a letter, a
  smiley) and user-drawn point sets;
- one file per family: ``gan`` (vanilla / WGAN-GP), ``vae`` (β, 1-D or 2-D latent), ``flow``
  (RealNVP couplings), ``diffusion`` (DDPM with the studio's samplers), ``flow_matching``,
  ``autoregressive`` (binned p(x₁) p(x₂ | x₁));
- ``frame``: the layers a view draws, grids, the energy distance and the modes-covered count;
- ``job``: ``PlaygroundJob`` — the training loop as a job of ``studio.engine.jobs``;
- ``lessons``: ready-made lessons with a "what to look for" paragraph each.
"""

from __future__ import annotations

from .base import FAMILIES, Model2D, Slider, View, build_family, family_names, get_family
from .datasets import PRESETS, VIEW, from_drawing, make_dataset
from .frame import Frame, Layer, energy_distance, modes_covered
from .job import PlaygroundJob, PlaygroundSpec
from .lessons import LESSONS, LESSONS_BY_KEY, Lesson

__all__ = ["FAMILIES", "Frame", "LESSONS", "LESSONS_BY_KEY", "Layer", "Lesson", "Model2D", "PRESETS",
           "PlaygroundJob", "PlaygroundSpec", "Slider", "VIEW", "View", "build_family", "energy_distance",
           "family_names", "from_drawing", "get_family", "make_dataset", "modes_covered"]
