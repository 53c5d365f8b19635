"""The Latent explorer page (issue 4). Placeholder until the explorer lands."""

from __future__ import annotations

from .coming_soon import ComingSoonPanel


class LatentPanel(ComingSoonPanel):
    def __init__(self, parent=None):
        super().__init__("◎", "Latent explorer", "Open a trained autoencoder or VAE, see its dataset as a map, "
                         "and drag a point to watch the decoded image change.", parent)
