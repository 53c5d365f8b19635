"""Likelihood bounds of a VAE in nats per image, from its public parts.

For x with posterior q(z|x) = N(μ, σ²) (``model.encoder``), prior p(z) = N(0, I) and the
Bernoulli decoder p(x|z) (``model.decoder``, ``studio.models.vae.bernoulli_nll``):

- negative ELBO (Kingma & Welling 2014, eq. 3): E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)), the KL
  in closed form;
- the importance-weighted bound (Burda et al. 2016, "Importance Weighted Autoencoders", eq. 8)

      −log p(x) ≤ −log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x),   zᵢ ~ q(z|x),

  which tightens as k grows (Theorem 1) and equals the ELBO at k = 1.

The decoder's Bernoulli cross-entropy on gray intensities is the VAE's training objective;
these numbers compare VAEs with each other, not with the flows' bits per dimension on
dequantised pixels.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


def _gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; μ, diag σ²), summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).square() / logvar.exp()).sum(-1)


def supports_vae_bounds(model) -> bool:
    """True for the plain VAE family (an unconditional encoder giving μ, log σ² and a
    Bernoulli-logit decoder); conditional variants need labels and are skipped."""
    from ..models.vae import VAE

    return isinstance(model, VAE) and not getattr(model.capabilities, "class_conditional", False)


@torch.no_grad()
def vae_bounds(model, x: Tensor, k: int = 100, chunk: int = 2000) -> dict[str, Tensor]:
    """Per-image ``neg_elbo`` and ``iwae`` (negative k-sample bound) in nats for images ``x``
    in [-1, 1]; ``chunk`` caps the images decoded at once (k × batch)."""
    from ..models.vae import bernoulli_nll, gaussian_kl

    if k < 1:
        raise ValueError(f"k must be at least 1 importance sample, got {k}")
    mu, logvar = model.encoder(x).float().chunk(2, dim=1)
    n, d = mu.shape
    log_weights, recon = [], []
    per = max(1, chunk // n)  # importance samples decoded per pass
    for start in range(0, k, per):
        m = min(per, k - start)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(m, n, d, device=mu.device)  # (m, n, d)
        nll = bernoulli_nll(model.decoder(z.reshape(m * n, d)).float(),
                            x.repeat(m, *([1] * (x.dim() - 1)))).view(m, n)
        # log w = log p(x|z) + log p(z) − log q(z|x)
        log_p_z = _gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        log_weights.append(-nll + log_p_z - _gaussian_log_density(z, mu, logvar))
        recon.append(nll)
    log_w = torch.cat(log_weights)  # (k, n)
    iwae = -(torch.logsumexp(log_w, 0) - math.log(k))
    neg_elbo = torch.cat(recon).mean(0) + gaussian_kl(mu, logvar)
    return {"neg_elbo": neg_elbo, "iwae": iwae}
