"""Conditional variational autoencoder (Sohn, Lee & Yan 2015, "Learning Structured Output
Representation using Deep Conditional Generative Models"), with the class y as condition.

Encoder q(z|x, y) and decoder p(x|z, y) both see y; the prior stays N(0, I), so the
conditional ELBO (eq. 4 with p(z|y) = N(0, I), as in Kingma et al. 2014's M2 model) is

    log p(x|y) ≥ E_q[log p(x|z, y)] − β · KL(q(z|x, y) ‖ N(0, I)).

Since y already tells the decoder the class, z is free to encode style (stroke, size, slant):
decoding one z with every class draws "the same style" of each class. y enters the encoder as
K label maps stacked on the image channels and the decoder as a one-hot concatenated to z.
Losses, nets and presets are the VAE family's (``vae.py``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Autocast, class_labels, no_autocast, require_classes
from .convnets import eval_mode
from .options import CVAEConfig, CVAEOptions
from .vae import VAE


class CVAE(CVAEOptions, VAE):
    def __init__(self, config: CVAEConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        require_classes(self.family, num_classes)
        super().__init__(config, image_shape, num_classes)  # nets widened by K inputs

    def _encoder_input(self, x: Tensor, y: Tensor | None) -> Tensor:
        # q(z|x, y): K label maps (1 for the class, 0 elsewhere) as extra image channels
        maps = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None]
        return torch.cat([x, maps.expand(-1, -1, *x.shape[2:])], dim=1)

    def _decoder_input(self, z: Tensor, y: Tensor | None) -> Tensor:
        # p(x|z, y): z and the one-hot y side by side
        return torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], dim=1)

    def _labels(self, labels: Tensor | None, n: int, device: torch.device, what: str) -> Tensor:
        if labels is None:
            raise ValueError(f"cvae.{what} needs labels= (the class of each image, LongTensor (N,))")
        return class_labels(labels, n, self.num_classes, device)

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        return super().train_step(x, self._labels(y, x.shape[0], x.device, "train_step"), optimizers, autocast)

    @torch.no_grad()
    def encode(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """The posterior mean of q(z|x, y); the class of every image is needed."""
        y = self._labels(labels, x.shape[0], x.device, "encode")
        with eval_mode(self):
            return self._mean_latent(self.encoder(self._encoder_input(x, y)).float())

    @torch.no_grad()
    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """(z, class) → image in [-1, 1]; ``labels=None`` cycles the classes."""
        y = class_labels(labels, z.shape[0], self.num_classes, z.device)
        with eval_mode(self):
            return self._to_image(self.decoder(self._decoder_input(z, y)).float())

    @torch.no_grad()
    def reconstruct(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.decode(self.encode(x, labels), labels)

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               labels: Tensor | None = None, **options: Any) -> Tensor:
        noise = self.sample_noise(n, generator) if noise is None else noise
        return self.decode(noise, labels)

    @torch.no_grad()
    def preview(self, noise: Tensor, real: Tensor, labels: Tensor | None = None, **_: Any) -> Tensor:
        """Samples of cycling classes, then reconstructions of ``real`` (whose ``labels``
        are needed)."""
        return torch.cat([self.sample(noise.shape[0], noise=noise), self.reconstruct(real, labels)])

    @torch.no_grad()
    def evaluate(self, x: Tensor, labels: Tensor | None = None) -> dict[str, float]:
        """Negative conditional ELBO −log p(x|y) bound in nats per image (needs the labels)."""
        if labels is None:
            return {}
        return super().evaluate(x, class_labels(labels, x.shape[0], self.num_classes, x.device))
