"""A VAE on 2-D points (Kingma & Welling 2014), with the β weight of Higgins et al. 2017.

Encoder q(z | x) = N(μ(x), diag σ²(x)) with a 1-D or 2-D latent, decoder p(x | z) =
N(f(z), σ_x² I) with a fixed σ_x, prior p(z) = N(0, I). The loss is

    −log p(x | z) + β KL(q(z | x) ‖ p(z)),    z = μ + σ ⊙ ε (the reparameterisation, §2.4),

which for β = 1 is the negative ELBO (eq. 3) in nats. The view shows each point's posterior
as a 2σ ellipse in the latent plane beside the prior's circle, and the decoder's image of a
latent grid over the data. A large β pulls every posterior onto the prior (posterior
collapse): the decoder's image shrinks towards the data's mean and the samples blur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..models.base import param
from . import frame as fr
from .base import VIEW_SEED, Model2D, View, descend, mlp

Z_VIEW = 3.0  # the latent plane's half-width in the side view
ELLIPSES = 120  # posteriors drawn


@dataclass
class VAEConfig:
    latent_dim: int = param(2, choices=(1, 2), help="size of the latent z (1: the decoder draws one curve)")
    beta: float = param(1.0, min=0.0, max=50.0, help="weight β of the KL term (β-VAE; 1 is the ELBO)")
    decoder_std: float = param(0.1, min=0.01, max=2.0, help="σ_x of the decoder's Gaussian p(x|z), data units")
    hidden: int = param(64, min=8, max=512, help="units per hidden layer")


class VAE2D(Model2D):
    name = "vae"
    label = "VAE"
    paper = "Kingma & Welling 2014; β-VAE: Higgins et al. 2017"
    Config = VAEConfig
    default_lr = 2e-3
    loss_label = "loss (−ELBO at β = 1)"
    side_title = "latent plane: posteriors and prior"
    side_axes = ("z₁", "z₂")

    def build(self, config: VAEConfig) -> None:
        d = config.latent_dim
        self.encoder = mlp(2, 2 * d, config.hidden, 3)  # → (μ, log σ²)
        self.decoder = mlp(d, 2, config.hidden, 3)  # → mean of p(x | z)
        if d == 1:
            self.side_axes = ("z", "points, sorted by μ")
        # what the curve shows: the −ELBO itself only at β = 1 (Higgins et al. 2017, eq. 4)
        self.loss_label = "loss = −ELBO (nats)" if config.beta == 1 else f"loss = recon + {config.beta:g}·KL (nats)"

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def losses(self, x: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """The two terms of the loss, each a mean over ``x`` in nats."""
        c = self.config
        mu, logvar = self.encode(x)
        z = mu + (0.5 * logvar).exp() * self.randn(*mu.shape, generator=generator)  # reparameterisation, §2.4
        # −log N(x; f(z), σ_x² I) = ‖x − f(z)‖²/(2σ_x²) + 2 log(σ_x √(2π))
        recon = (x - self.decoder(z)).square().sum(1) / (2 * c.decoder_std ** 2) \
            + 2 * math.log(c.decoder_std * math.sqrt(2 * math.pi))
        # KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (μ² + σ² − 1 − log σ²)  (Appendix B)
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)
        return {"recon": recon.mean(), "KL": kl.mean()}

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        parts = self.losses(batches[0])
        loss = parts["recon"] + self.config.beta * parts["KL"]
        descend(loss, optimizers[0])
        recon, kl = float(parts["recon"].detach()), float(parts["KL"].detach())
        return {"loss": float(loss.detach()), "recon": recon, "KL": kl, "−ELBO": recon + kl}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """x = f(z) + σ_x ε with z ~ N(0, I): the model's own samples, decoder noise included."""
        z = self.randn(n, self.config.latent_dim, generator=generator)
        return self.decoder(z) + self.config.decoder_std * self.randn(n, 2, generator=generator)

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        d = self.config.latent_dim
        mu, logvar = self.encode(data)
        if d == 2:
            image = self.decoder(fr.grid_lines(2.5, 11, 41))
        else:
            image = self.decoder(torch.linspace(-3, 3, 121).reshape(-1, 1)).unsqueeze(0)
        main = [fr.lines("decoder image of a latent grid" if d == 2 else "decoder image of z ∈ [−3, 3]",
                         "grid", image),
                fr.points("reconstructions f(μ(x))", "aux", self.decoder(mu[:300]))]
        sd = (0.5 * logvar[:ELLIPSES]).exp()
        angle = torch.linspace(0, 2 * math.pi, 33)
        ring = torch.stack([angle.cos(), angle.sin()], 1)
        if d == 2:
            ellipses = mu[:ELLIPSES, None, :] + 2 * sd[:, None, :] * ring[None]
            side = [fr.lines("2σ of q(z|x)", "aux", ellipses), fr.points("μ(x)", "data", mu[:ELLIPSES]),
                    fr.curve("prior N(0, I): 1σ, 2σ", "outline",
                             torch.cat([ring, torch.full((1, 2), math.nan), 2 * ring]))]
        else:
            m, s = mu[:ELLIPSES, 0], sd[:, 0]
            order = m.argsort()
            y = torch.linspace(-2.6, 2.6, len(m))
            bars = torch.stack([torch.stack([m[order] - 2 * s[order], y], 1),
                                torch.stack([m[order] + 2 * s[order], y], 1)], 1)
            zz = torch.linspace(-Z_VIEW, Z_VIEW, 121)
            side = [fr.lines("μ ± 2σ of q(z|x)", "aux", bars),
                    fr.points("μ(x)", "data", torch.stack([m[order], y], 1)),
                    fr.curve("prior N(0, 1) (scaled)", "outline",
                             torch.stack([zz, -2.9 + 5 * torch.exp(-zz ** 2 / 2)], 1))]
        parts = self.losses(data, torch.Generator().manual_seed(VIEW_SEED))
        return View(main, side, {"−ELBO (nats)": float(parts["recon"] + parts["KL"]), "KL (nats)": float(parts["KL"])})
