"""The Diffusion viewer page (issue 5). Placeholder until the viewer lands."""

from __future__ import annotations

from .coming_soon import ComingSoonPanel


class DiffusionPanel(ComingSoonPanel):
    def __init__(self, parent=None):
        super().__init__("≋", "Diffusion viewer", "Step through a diffusion model's denoising: the noisy image, its "
                         "guess of the clean image and the noise, at every step — and branch off from any step.",
                         parent)
