"""Wasserstein GAN with gradient penalty (Gulrajani et al. 2017, "Improved Training of
Wasserstein GANs"), on the DCGAN generator.

The critic D (no sigmoid) estimates the Wasserstein-1 distance between data and samples,
W ≈ E[D(x)] − E[D(G(z))], and is kept close to 1-Lipschitz by a penalty on its gradient
norm at random points between real and fake images (eq. 3, Algorithm 1):

    L_D = E[D(x̃)] − E[D(x)] + λ E[(‖∇_x̂ D(x̂)‖₂ − 1)²],   x̂ = εx + (1 − ε)x̃,  ε ~ U[0, 1]
    L_G = −E[D(G(z))]

with λ = 10, n_critic = 5 critic updates per generator update and Adam β = (0, 0.9).
The penalty is per image, so the critic has no batch normalisation (§4: layer norm instead).
One training step here is one critic update; every n_critic-th step also updates G, so the
progress bar moves at the critic's pace and a run of S steps makes S / n_critic G updates.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import Autocast, no_autocast
from .convnets import eval_mode, scalar
from .dcgan import DCGAN
from .options import WGANGPConfig, WGANGPOptions


class WGANGP(WGANGPOptions, DCGAN):
    def __init__(self, config: WGANGPConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        # critic updates so far (saved, so a resumed run keeps the G-update cadence)
        self.register_buffer("critic_updates", torch.zeros((), dtype=torch.int64))
        self._g_loss: Tensor | None = None

    def _discriminator_norm(self) -> str:
        return self.config.critic_norm

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        betas = (0.0, 0.9)  # Algorithm 1: α = 1e-4, β₁ = 0, β₂ = 0.9
        return {"g": torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas),
                "d": torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)}

    def gradient_penalty(self, real: Tensor, fake: Tensor, autocast: Autocast = no_autocast) -> Tensor:
        """E[(‖∇_x̂ D(x̂)‖₂ − 1)²] at x̂ = εx + (1 − ε)x̃, one ε per image (eq. 3)."""
        eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
        with autocast():
            out = self.discriminator(mixed).float()
        (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
        return (grad.float().flatten(1).norm(dim=1) - 1).square().mean()

    def _generator_loss(self, n: int, device: torch.device, autocast: Autocast) -> Tensor:
        z = torch.randn(n, self.config.z_dim, device=device)
        with autocast():
            return -self.discriminator(self._generate(z, None)).float().mean()  # L_G = −E[D(G(z))]

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        d, n = self.discriminator, x.shape[0]
        # critic step on L_D (Algorithm 1, lines 2–9)
        optimizers["d"].zero_grad(set_to_none=True)
        with torch.no_grad(), autocast():
            fake = self._generate(torch.randn(n, self.config.z_dim, device=x.device), None)
        fake = fake.float()
        with autocast():
            d_real, d_fake = d(x).float().mean(), d(fake).float().mean()
        gp = self.gradient_penalty(x, fake, autocast)
        wasserstein = d_real - d_fake
        critic_loss = -wasserstein + self.config.gp_weight * gp
        critic_loss.backward()
        optimizers["d"].step()
        self.critic_updates += 1

        # generator step every n_critic critic steps (lines 10–12); the critic is frozen
        # (before the first G update only its loss is measured, so the curve has a value)
        update = int(self.critic_updates) % self.config.n_critic == 0
        if update or self._g_loss is None:
            d.requires_grad_(False)
            try:
                optimizers["g"].zero_grad(set_to_none=True)
                g_loss = self._generator_loss(n, x.device, autocast)
                if update:
                    g_loss.backward()
                    optimizers["g"].step()
            finally:
                d.requires_grad_(True)
            self._g_loss = scalar(g_loss)
        return {"critic_loss": scalar(critic_loss), "wasserstein": scalar(wasserstein), "gp": scalar(gp),
                "g_loss": self._g_loss}

    @torch.no_grad()
    def evaluate(self, x: Tensor) -> dict[str, float]:
        """The critic's Wasserstein estimate E[D(x)] − E[D(G(z))] on held-out images."""
        with eval_mode(self):
            fake = self.sample(x.shape[0])
            return {"wasserstein": (self.discriminator(x).mean() - self.discriminator(fake).mean()).item()}
