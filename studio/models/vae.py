"""Variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational Bayes").

The encoder gives a diagonal Gaussian posterior q(z|x) = N(μ, diag σ²); the decoder gives
Bernoulli logits for every pixel intensity mapped to [0, 1]. Per image we minimise the
negative ELBO (eq. 3, with β weighting the KL term as in Higgins et al. 2017)

    −log p(x|z) + β · KL(q(z|x) ‖ N(0, I)),   z = μ + σ ⊙ ε,  ε ~ N(0, I)   (eq. 10)

and report both terms in nats. New images decode z ~ N(0, I), the prior.

Beside the ELBO, ``VAE.likelihood_bounds`` gives the importance-weighted bound (Burda et al.
2016, "Importance Weighted Autoencoders", eq. 8)

    −log p(x) ≤ −log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x),   zᵢ ~ q(z|x),

which tightens as k grows (Theorem 1) and equals the ELBO at k = 1. The decoder's Bernoulli
cross-entropy on gray intensities is the training objective, so these numbers compare VAEs
with each other, not with the flows' bits per dimension on dequantised pixels.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import Autocast, no_autocast
from .convnets import ConvDecoder, ConvEncoder, LatentAutoencoder, eval_mode, scalar
from .options import VAEConfig, VAEOptions


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²) per image (Appendix B)."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(1)


def gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; μ, diag σ²), summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).square() / logvar.exp()).sum(-1)


def bernoulli_nll(logits: Tensor, x: Tensor) -> Tensor:
    """−log p(x|z) per image: cross-entropy of intensities (x + 1) / 2 under Bernoulli logits."""
    target = (x + 1) / 2
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)


class VAE(VAEOptions, LatentAutoencoder):
    def __init__(self, config: VAEConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.latent_dim = d = config.latent_dim
        self.capabilities = replace(type(self).capabilities, latent_dim=d)
        # a class-conditional subclass (cvae.py) adds K label maps / one-hot inputs to both nets
        k = num_classes if self.capabilities.class_conditional else 0
        c, h, w = self.image_shape
        self.encoder = ConvEncoder((c + k, h, w), config.width, 2 * d, nn.SiLU, config.norm)  # → μ, log σ²
        self.decoder = ConvDecoder(d + k, self.image_shape, config.width, nn.SiLU, config.norm)  # → logits

    def _mean_latent(self, h: Tensor) -> Tensor:
        return h[:, :self.latent_dim]

    def _to_image(self, logits: Tensor) -> Tensor:
        return 2 * torch.sigmoid(logits) - 1

    # hooks of the conditional VAE: what the encoder and decoder see besides x and z
    def _encoder_input(self, x: Tensor, y: Tensor | None) -> Tensor:
        return x

    def _decoder_input(self, z: Tensor, y: Tensor | None) -> Tensor:
        return z

    def _terms(self, x: Tensor, autocast: Autocast, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Per-image reconstruction NLL and KL, one reparameterised sample (eq. 10)."""
        with autocast():
            mu, logvar = self.encoder(self._encoder_input(x, y)).float().chunk(2, dim=1)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            logits = self.decoder(self._decoder_input(z, y))
        return bernoulli_nll(logits.float(), x), gaussian_kl(mu, logvar)

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        recon, kl = (t.mean() for t in self._terms(x, autocast, y))
        loss = recon + self.config.beta * kl
        loss.backward()
        opt.step()
        return {"loss": scalar(loss), "recon": scalar(recon), "kl": scalar(kl)}

    @torch.no_grad()
    def evaluate(self, x: Tensor, labels: Tensor | None = None) -> dict[str, float]:
        """Single-sample negative ELBO (β = 1) in nats per image, with its two terms."""
        with eval_mode(self):
            recon, kl = (t.mean().item() for t in self._terms(x, no_autocast, labels))
        return {"neg_elbo_nats": recon + kl, "recon": recon, "kl": kl}

    @torch.no_grad()
    def likelihood_bounds(self, x: Tensor, k: int = 100, chunk: int = 2000) -> dict[str, Tensor]:
        """Per-image ``neg_elbo`` (closed-form KL, the reconstruction term averaged over the k
        samples) and ``iwae`` (the negative k-sample bound, module docstring) in nats, shape
        (N,), for images ``x`` (N, C, H, W) in [-1, 1]; ``chunk`` caps the images decoded at
        once (k × N). Unconditional only (a conditional VAE's encoder needs the labels).
        ValueError if k < 1."""
        if k < 1:
            raise ValueError(f"k must be at least 1 importance sample, got {k}")
        if self.capabilities.class_conditional:
            raise ValueError(f"{self.family}: likelihood bounds need an unconditional VAE")
        with eval_mode(self):
            mu, logvar = self.encoder(x).float().chunk(2, dim=1)
            n, d = mu.shape
            log_weights, recon = [], []
            per = max(1, chunk // n)  # importance samples decoded per pass
            for start in range(0, k, per):
                m = min(per, k - start)
                z = mu + torch.exp(0.5 * logvar) * torch.randn(m, n, d, device=mu.device)  # (m, n, d)
                nll = bernoulli_nll(self.decoder(z.reshape(m * n, d)).float(),
                                    x.repeat(m, *([1] * (x.dim() - 1)))).view(m, n)
                # log w = log p(x|z) + log p(z) − log q(z|x)
                log_p_z = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
                log_weights.append(-nll + log_p_z - gaussian_log_density(z, mu, logvar))
                recon.append(nll)
        log_w = torch.cat(log_weights)  # (k, n)
        iwae = -(torch.logsumexp(log_w, 0) - math.log(k))
        neg_elbo = torch.cat(recon).mean(0) + gaussian_kl(mu, logvar)
        return {"neg_elbo": neg_elbo, "iwae": iwae}
