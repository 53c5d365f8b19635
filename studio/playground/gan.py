"""A GAN on 2-D points: a generator G: z ∈ [−1, 1]² → x and a discriminator (critic) D: x → ℝ,
both tiny MLPs. GAN Lab's view (Kahng et al. 2019): D's output as a heatmap behind the points,
and G's image of a grid of z, which shows how the generator folds and stretches its square.

- ``vanilla``: Goodfellow et al. 2014, eq. 1, with the non-saturating generator loss of §3
  (maximise log D(G(z)) rather than minimise log(1 − D(G(z)))), Adam β₁ = 0.5 as in DCGAN.
  On 8 Gaussians it typically drops modes: G chases wherever D is currently fooled.
- ``wgan-gp``: Gulrajani et al. 2017, Algorithm 1: the critic maximises D(x) − D(G(z)) with
  the gradient penalty λ (‖∇D(x̂)‖ − 1)² on random interpolates x̂, several critic steps per
  generator step, Adam β = (0.5, 0.9). The critic's gradient points at every mode, so G
  spreads over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..models.base import param
from . import frame as fr
from .base import SAMPLES, VIEW_SEED, Model2D, Slider, View, descend, mlp

Z_LIM = 1.0  # z is uniform on [−1, 1]²
HEAT = 48  # the discriminator heatmap's cells per side (a frame's cost grows with their square)


@dataclass
class GANConfig:
    loss: str = param("vanilla", choices=("vanilla", "wgan-gp"),
                      help="vanilla (non-saturating, Goodfellow 2014) or the Wasserstein loss with gradient penalty")
    hidden: int = param(64, min=8, max=512, help="units per hidden layer of G and D")
    critic_steps: int = param(0, min=0, max=10, help="D steps per G step (0: 1 for vanilla, 5 for WGAN-GP)")
    gp_weight: float = param(0.1, min=0.0, max=100.0,
                            help="gradient-penalty weight λ (WGAN-GP; 0.1 as in the authors' 2-D toy code, 10 for images)")


class GAN2D(Model2D):
    name = "gan"
    label = "GAN"
    paper = "Goodfellow et al. 2014; WGAN-GP: Gulrajani et al. 2017"
    Config = GANConfig
    default_lr = 1e-3
    loss_label = "D loss"
    loss_falls = False  # an adversarial game: neither loss has to fall while G improves
    slider: Slider | None = None
    side_title = "D's scores: real vs generated"
    side_axes = ("D(x)", "share of points")
    side_equal = False

    def build(self, config: GANConfig) -> None:
        self.wgan = config.loss == "wgan-gp"
        self.generator_net = mlp(2, 2, config.hidden, 3, torch.nn.LeakyReLU)
        self.discriminator = mlp(2, 1, config.hidden, 3, torch.nn.LeakyReLU)
        self.critic_steps = config.critic_steps or (5 if self.wgan else 1)
        self.batches_per_step = self.critic_steps + 1
        if self.wgan:
            self.loss_label = "critic loss"

    def optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        betas = (0.5, 0.9) if self.wgan else (0.5, 0.999)
        # the loop-over-parameters Adam: the fused one rounds differently, and the seeded vanilla GAN
        # on two moons then diverged in 200 steps (a GAN's game amplifies rounding; tested)
        return [torch.optim.Adam(self.generator_net.parameters(), lr=lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)]

    def z(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return (self.rand(n, 2, generator=generator) * 2 - 1) * Z_LIM

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        """``batches`` (critic_steps + 1, B, 2): one real batch per D step, the last for G's step."""
        opt_g, opt_d = optimizers
        d_loss = torch.zeros(())
        gap = torch.zeros(())
        for real in batches[:-1]:
            fake = self.generator_net(self.z(len(real))).detach()
            d_real, d_fake = self.discriminator(real), self.discriminator(fake)
            if self.wgan:
                # Algorithm 1, line 7: L = D(x̃) − D(x) + λ (‖∇_x̂ D(x̂)‖₂ − 1)², x̂ = εx + (1 − ε)x̃
                eps = self.rand(len(real), 1)
                mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
                grad, = torch.autograd.grad(self.discriminator(mix).sum(), mix, create_graph=True)
                penalty = (grad.norm(dim=1) - 1).square().mean()
                gap = d_real.mean() - d_fake.mean()
                d_loss = -gap + self.config.gp_weight * penalty
            else:
                # eq. 1, D's side: maximise log D(x) + log(1 − D(G(z)))  (as a cross-entropy)
                d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            descend(d_loss, opt_d)
        d_fake = self.discriminator(self.generator_net(self.z(batches.shape[1])))
        # G's side. vanilla, §3: maximise log D(G(z)) = minimise softplus(−D); WGAN: minimise −D(G(z))
        g_loss = -d_fake.mean() if self.wgan else F.softplus(-d_fake).mean()
        descend(g_loss, opt_g)
        if self.wgan:
            return {"critic loss": float(d_loss.detach()), "G loss": float(g_loss.detach()),
                    "W estimate": float(gap.detach())}
        return {"D loss": float(d_loss.detach()), "G loss": float(g_loss.detach())}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.generator_net(self.z(n, generator))

    @torch.no_grad()
    def score(self, x: Tensor) -> Tensor:
        """D's verdict: the probability "real" σ(D(x)) for the vanilla GAN, the critic's value for WGAN."""
        d = self.discriminator(x).squeeze(1)
        return d if self.wgan else torch.sigmoid(d)

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        samples = self.sample(SAMPLES, torch.Generator().manual_seed(VIEW_SEED))
        real, fake = self.score(data), self.score(samples)
        heat = self.score(fr.grid_points(HEAT)).reshape(HEAT, HEAT)
        if self.wgan:  # centred between the critic's mean on real and on generated points
            centre = float(real.mean() + fake.mean()) / 2
            span = float((heat - centre).abs().max()) or 1.0
            levels = (centre - span, centre + span)
            name = "critic D(x)"
        else:
            levels, name = (0.0, 1.0), "D(x) = P(real)"
        warped = self.generator_net(fr.grid_lines(Z_LIM, 11, 41))
        lo, hi = (levels if not self.wgan else (float(torch.min(real.min(), fake.min())),
                                                   float(torch.max(real.max(), fake.max())) + 1e-6))
        edges = torch.linspace(lo, hi, 31)
        share = lambda s: torch.histc(s.clamp(lo, hi), 30, lo, hi) / len(s)  # noqa: E731
        return View(main=[fr.heatmap(name, "diverging", heat, levels=levels),
                          fr.lines("G(z grid)", "grid", warped)],
                    side=[fr.bars("D(real)", "data", edges, share(real)),
                          fr.bars("D(generated)", "model", edges, share(fake))],
                    stats={}, samples=samples)
