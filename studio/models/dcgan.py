"""Deep convolutional GAN (Radford et al. 2016, "Unsupervised Representation Learning with
Deep Convolutional Generative Adversarial Networks").

The generator G projects z ~ N(0, I) to a small grid, then transposed convolutions with
BatchNorm + ReLU double it up to the image, ending in tanh. The discriminator D uses
strided convolutions with LeakyReLU(0.2) and BatchNorm (none on its first layer), no
pooling, and outputs a logit. Both start from N(0, 0.02) weights and train with Adam
(lr 2e-4, β₁ = 0.5).

Losses (Goodfellow et al. 2014, §3): D maximises log D(x) + log(1 − D(G(z))); G uses the
non-saturating objective, maximising log D(G(z)) rather than minimising log(1 − D(G(z))).
With D(·) = sigmoid(logit): −log D = softplus(−logit), −log(1 − D) = softplus(logit).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..rng import randn
from .base import Autocast, GenerativeModel, no_autocast
from .convnets import ConvDecoder, ConvEncoder, eval_mode, init_dcgan_, scalar
from .options import DCGANConfig, DCGANOptions


class DCGAN(DCGANOptions, GenerativeModel):
    def __init__(self, config: DCGANConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.capabilities = replace(type(self).capabilities, latent_dim=config.z_dim)
        # a class-conditional subclass feeds K one-hot inputs to both nets (cdcgan.py)
        k = num_classes if self.capabilities.class_conditional else 0
        c, h, w = self.image_shape
        self.generator = ConvDecoder(config.z_dim + k, self.image_shape, config.width, nn.ReLU)
        self.discriminator = ConvEncoder((c + k, h, w), config.width, 1, lambda: nn.LeakyReLU(0.2),
                                         norm=self._discriminator_norm(), norm_first=False)
        init_dcgan_(self)

    def _discriminator_norm(self) -> str:
        return "batch"

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        betas = (0.5, 0.999)  # β₁ = 0.5 steadies training (Radford et al. §4)
        return {"g": torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas),
                "d": torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)}

    # hooks the conditional GAN (cdcgan.py) overrides to feed labels to both players
    def _generate(self, z: Tensor, y: Tensor | None) -> Tensor:
        return torch.tanh(self.generator(z))

    def _discriminate(self, x: Tensor, y: Tensor | None) -> Tensor:
        return self.discriminator(x)

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        d = self.discriminator
        z = torch.randn(x.shape[0], self.config.z_dim, device=x.device)

        # D step: minimise −log D(x) − log(1 − D(G(z))), real and fake in separate batches
        optimizers["d"].zero_grad(set_to_none=True)
        with autocast():
            fake = self._generate(z, y)
            real_logit = self._discriminate(x, y).float()
            fake_logit = self._discriminate(fake.detach(), y).float()
        d_loss = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()
        d_loss.backward()
        optimizers["d"].step()

        # G step: minimise −log D(G(z)) (non-saturating); D's weights need no gradient
        optimizers["g"].zero_grad(set_to_none=True)
        d.requires_grad_(False)
        try:
            with autocast():
                g_logit = self._discriminate(fake, y).float()
            g_loss = F.softplus(-g_logit).mean()
            g_loss.backward()
        finally:
            d.requires_grad_(True)
        optimizers["g"].step()

        return {"d_loss": scalar(d_loss), "g_loss": scalar(g_loss),
                "d_real": scalar(torch.sigmoid(real_logit).mean()),
                "d_fake": scalar(torch.sigmoid(fake_logit).mean())}

    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return randn((n, self.config.z_dim), generator, next(self.parameters()).device)  # device-correct

    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        """The generator: z → image in [-1, 1]."""
        with eval_mode(self):
            return torch.tanh(self.generator(z).float())

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               **options: Any) -> Tensor:
        return self.decode(self.sample_noise(n, generator) if noise is None else noise)

    @torch.no_grad()
    def evaluate(self, x: Tensor) -> dict[str, float]:
        """Mean D(x) on held-out images and D(G(z)) on as many fresh samples."""
        with eval_mode(self):
            fake = self.sample(x.shape[0])
            return {"d_real": torch.sigmoid(self.discriminator(x)).mean().item(),
                    "d_fake": torch.sigmoid(self.discriminator(fake)).mean().item()}
