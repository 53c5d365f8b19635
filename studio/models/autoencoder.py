"""A convolutional autoencoder trained on mean squared reconstruction error.

An autoencoder has no prior over its latents, so to draw new images we keep running
(exponential moving) estimates of the mean μ and covariance Σ of the training latents and
decode z = μ + Lε with LLᵀ = Σ, ε ~ N(0, I): a Gaussian fitted to the codes. Samples are
plausible but blurrier than a VAE's, which is the lesson this family teaches.

``denoise=σ`` makes it a denoising autoencoder (Vincent et al. 2008, "Extracting and
Composing Robust Features with Denoising Autoencoders", §2.3): each training input is
corrupted with Gaussian noise of standard deviation σ (in the model's [−1, 1] pixel units,
clipped back to that range) and the loss compares the reconstruction with the *clean*
image, so the model learns to map noisy pictures back onto the data.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..rng import randn
from .base import Autocast, no_autocast
from .convnets import ConvDecoder, ConvEncoder, LatentAutoencoder, eval_mode, scalar
from .options import AutoencoderConfig, AutoencoderOptions


def add_pixel_noise(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """x̃ = clip(x + σε, −1, 1), ε ~ N(0, I): the corruption of a denoising autoencoder, with σ
    in the [−1, 1] pixel units of every model (σ = 0.3 is about 38 of 255 grey levels).
    ``x`` (N, C, H, W); ``generator`` (any device, ``studio.rng``) makes it reproducible."""
    if sigma <= 0:
        return x
    noise = randn(x.shape, generator, x.device, x.dtype)
    return (x + sigma * noise).clamp(-1, 1)


class Autoencoder(AutoencoderOptions, LatentAutoencoder):
    def __init__(self, config: AutoencoderConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.latent_dim = d = config.latent_dim
        self.capabilities = replace(type(self).capabilities, latent_dim=d)
        self.encoder = ConvEncoder(self.image_shape, config.width, d, nn.SiLU, config.norm)
        self.decoder = ConvDecoder(d, self.image_shape, config.width, nn.SiLU, config.norm)
        # running Gaussian fit of the training codes (no prior to sample from otherwise)
        self.register_buffer("latent_mean", torch.zeros(d))
        self.register_buffer("latent_cov", torch.eye(d))

    def _mean_latent(self, h: Tensor) -> Tensor:
        return h

    def _to_image(self, out: Tensor) -> Tensor:
        return torch.tanh(out)

    def _prior_latent(self, noise: Tensor) -> Tensor:
        # z = μ + Lε, Σ = LLᵀ (jitter keeps the Cholesky factor defined)
        cov = self.latent_cov.double() + 1e-6 * torch.eye(self.latent_dim, dtype=torch.float64,
                                                         device=noise.device)
        chol, info = torch.linalg.cholesky_ex(cov)
        if info.item() != 0:  # not positive definite: fall back to the diagonal
            chol = torch.diag(cov.diagonal().clamp_min(1e-6).sqrt())
        return self.latent_mean + noise @ chol.T.to(noise.dtype)

    @torch.no_grad()
    def _track_latents(self, z: Tensor) -> None:
        """Exponential moving estimates of the code mean and covariance."""
        a = self.config.latent_momentum
        mean = z.mean(0)
        zc = z - mean
        self.latent_mean.lerp_(mean, a)
        self.latent_cov.lerp_(zc.T @ zc / max(len(z) - 1, 1), a)

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        with autocast():
            # a denoising AE encodes a corrupted copy, but is judged against the clean x
            z = self.encoder(add_pixel_noise(x, self.config.denoise))
            out = self.decoder(z)
        recon = F.mse_loss(torch.tanh(out.float()), x)
        recon.backward()
        opt.step()
        self._track_latents(z.detach().float())
        return {"recon": scalar(recon)}

    @torch.no_grad()
    def evaluate(self, x: Tensor) -> dict[str, float]:
        """``mse`` of clean reconstructions; a denoising AE also ``denoise_mse``: the MSE to the clean
        images of the reconstructions of noisy copies (σ = ``denoise``, noise from a fixed seed)."""
        with eval_mode(self):
            out = {"mse": F.mse_loss(self.reconstruct(x), x).item()}
            if self.config.denoise > 0:
                g = torch.Generator().manual_seed(0)
                noisy = add_pixel_noise(x, self.config.denoise, g)
                out["denoise_mse"] = F.mse_loss(self.reconstruct(noisy), x).item()
            return out
