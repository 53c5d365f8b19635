"""Class-conditional DCGAN (Mirza & Osindero 2014, "Conditional Generative Adversarial
Nets", on the DCGAN architecture of Radford et al. 2016).

Both players see the class y (eq. 2): min_G max_D E[log D(x|y)] + E[log(1 − D(G(z|y)|y))].
G gets the one-hot code of y concatenated to z; D gets it as K constant feature maps
concatenated to the image channels (label maps, §4.1: "y ... fed into both the
discriminator and generator as additional input layer"). Fakes in a training step are drawn
for the labels of the real batch, so D must judge whether an image fits its class, and G
learns to draw the class it is asked for. Everything else — losses, initialisation, Adam
(2e-4, β₁ = 0.5) — is the DCGAN family's (``dcgan.py``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Autocast, class_labels, no_autocast, require_classes
from .convnets import eval_mode
from .dcgan import DCGAN
from .options import CDCGANOptions, DCGANConfig


class CDCGAN(CDCGANOptions, DCGAN):
    def __init__(self, config: DCGANConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        require_classes(self.family, num_classes)
        super().__init__(config, image_shape, num_classes)  # G takes z_dim + K inputs, D C + K channels

    def _one_hot(self, y: Tensor, dtype: torch.dtype) -> Tensor:
        return F.one_hot(y, self.num_classes).to(dtype)

    def _generate(self, z: Tensor, y: Tensor | None) -> Tensor:
        # G(z|y): z and the one-hot y side by side
        return torch.tanh(self.generator(torch.cat([z, self._one_hot(y, z.dtype)], dim=1)))

    def _discriminate(self, x: Tensor, y: Tensor | None) -> Tensor:
        # D(x|y): K label maps, 1 for the image's class and 0 elsewhere, as extra channels
        maps = self._one_hot(y, x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.discriminator(torch.cat([x, maps], dim=1))

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        if y is None:
            raise ValueError("cdcgan trains on labelled batches; got images without labels")
        return super().train_step(x, y, optimizers, autocast)

    @torch.no_grad()
    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The generator: (z, class) → image in [-1, 1]; ``labels=None`` cycles the classes."""
        y = class_labels(labels, z.shape[0], self.num_classes, z.device)
        with eval_mode(self):
            return self._generate(z, y).float()

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               labels: Tensor | None = None, **options: Any) -> Tensor:
        return self.decode(self.sample_noise(n, generator) if noise is None else noise, labels)

    @torch.no_grad()
    def evaluate(self, x: Tensor, labels: Tensor | None = None) -> dict[str, float]:
        """Mean D(x|y) on held-out images (when their labels are given) and D(G(z|y)|y) on
        as many fresh samples of every class."""
        with eval_mode(self):
            n = x.shape[0]
            y = class_labels(None, n, self.num_classes, x.device)
            out = {"d_fake": torch.sigmoid(self._discriminate(self._generate(self.sample_noise(n), y), y)).mean().item()}
            if labels is not None:
                y = class_labels(labels, n, self.num_classes, x.device)
                out["d_real"] = torch.sigmoid(self._discriminate(x, y)).mean().item()
            return out
