"""Shared convolutional pieces of the autoencoder, VAE and DCGAN families.

The encoder is the DCGAN discriminator shape (Radford et al. 2016, §3): 4×4 convolutions
with stride 2 halve the image while its side is even and above 8 (28→14→7, 32→16→8,
64→32→16→8, 128→…→8: a stage more per doubling), doubling the channels each time, then one linear layer. The decoder mirrors
it: a linear projection to the smallest grid, then 4×4 transposed convolutions double it.

Activations run in channels-last layout where ``uses_channels_last`` says so (oneDNN's fast path
on CPU for the wide convolutions); parameters stay contiguous so state dicts save as they are, and
the layout changes no value (``set_channels_last`` flips it on a built model: ``studio bench speedups``).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import torch
from torch import Tensor, nn

from ..rng import randn
from .base import GenerativeModel


def grid_sizes(size: int) -> list[int]:
    """Sides of the feature grids: halve while even and > 8, e.g. 64 → [64, 32, 16, 8]."""
    sizes = [size]
    while sizes[-1] % 2 == 0 and sizes[-1] > 8:
        sizes.append(sizes[-1] // 2)
    if len(sizes) < 2:
        raise ValueError(f"images of side {size} are too small or odd for these conv nets")
    return sizes


# The one layout rule: (network, image side) -> activations channels-last? Measured on the CPU
# with `studio bench speedups` (README, "Bigger pictures"; NCHW ÷ channels-last step time: conv
# 0.98-0.99 at 28 px and for the VAE, 1.14 for DCGAN at 64 px; U-Net 1.10 at 28 px, 1.50 at 64 px);
# sides not listed use the nearest one's.
CHANNELS_LAST = {("conv", 28): True, ("conv", 64): True, ("unet", 28): True, ("unet", 64): True}


def uses_channels_last(network: str, side: int) -> bool:
    """Whether ``network`` ("conv": ConvEncoder/ConvDecoder, "unet": the U-Net) runs its
    activations channels-last for images of ``side`` px: ``CHANNELS_LAST`` at the nearest side."""
    sides = [s for n, s in CHANNELS_LAST if n == network]
    if not sides:
        raise ValueError(f"no layout rule for network {network!r}")
    return CHANNELS_LAST[network, min(sides, key=lambda s: (abs(s - side), s))]


def set_channels_last(model: nn.Module, enabled: bool) -> None:
    """Switch every layout-aware part of ``model`` to channels-last (True) or NCHW (False); the
    outputs stay the same up to float rounding (benchmarks compare the two on one model)."""
    for module in model.modules():
        if hasattr(module, "channels_last"):
            module.channels_last = enabled


def channels_last(x: Tensor) -> Tensor:
    return x.contiguous(memory_format=torch.channels_last)


class ToChannelsLast(nn.Module):
    """Identity on values; channels-last layout while ``channels_last`` is set."""

    def __init__(self, channels_last: bool = True):
        super().__init__()
        self.channels_last = channels_last

    def forward(self, x: Tensor) -> Tensor:
        return channels_last(x) if self.channels_last else x


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(min(32, channels // 4), channels)
    if kind == "layer":  # layer norm over (C, H, W): one group
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class ConvEncoder(nn.Module):
    """Image (N, C, H, W) → features (N, out_features).

    ``norm_first=False`` leaves the first layer unnormalised, as in the DCGAN discriminator."""

    def __init__(self, image_shape: tuple[int, int, int], width: int, out_features: int,
                 act: Callable[[], nn.Module], norm: str = "batch", norm_first: bool = True):
        super().__init__()
        c, size, _ = image_shape
        sizes = grid_sizes(size)
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            out = width * 2 ** i
            normed = norm != "none" and (i > 0 or norm_first)
            layers += [nn.Conv2d(c, out, 4, 2, 1, bias=not normed),
                       _norm(norm if normed else "none", out), act()]
            if i == 0:  # the image-side conv is faster in NCHW, the wide ones channels-last
                layers.append(ToChannelsLast(uses_channels_last("conv", size)))
            c = out
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(c * sizes[-1] ** 2, out_features)

    def forward(self, x: Tensor) -> Tensor:
        h = self.convs(x.contiguous())
        # flatten in (H, W, C) order: a free view of a channels-last tensor (a copy of an NCHW one)
        return self.fc(h.permute(0, 2, 3, 1).flatten(1))


class ConvDecoder(nn.Module):
    """Latent (N, in_features) → image-shaped output (N, C, H, W), no output activation."""

    def __init__(self, in_features: int, image_shape: tuple[int, int, int], width: int,
                 act: Callable[[], nn.Module], norm: str = "batch"):
        super().__init__()
        channels, size, _ = image_shape
        sizes = grid_sizes(size)
        n = len(sizes) - 1
        self.grid, c = sizes[-1], width * 2 ** (n - 1)
        self.channels_last = uses_channels_last("conv", size)
        self.fc = nn.Linear(in_features, self.grid ** 2 * c, bias=norm == "none")
        layers: list[nn.Module] = [_norm(norm, c), act()]
        for i in reversed(range(n)):
            last = i == 0
            out = channels if last else width * 2 ** (i - 1)
            layers.append(nn.ConvTranspose2d(c, out, 4, 2, 1, bias=last or norm == "none"))
            if not last:
                layers += [_norm(norm, out), act()]
            c = out
        self.convs = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        # the projection is laid out (H, W, C), matching ConvEncoder's flatten
        h = self.fc(z).unflatten(1, (self.grid, self.grid, -1)).permute(0, 3, 1, 2)
        return self.convs(channels_last(h) if self.channels_last else h.contiguous()).contiguous()


def init_dcgan_(module: nn.Module) -> None:
    """Weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0 (Radford et al. 2016, §4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Evaluate with running statistics, then restore the previous train/eval mode."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def scalar(t: Tensor) -> Tensor:
    return t.detach().float().reshape(())


class LatentAutoencoder(GenerativeModel):
    """What the autoencoder and the VAE share: an encoder, a decoder, a Gaussian latent
    noise, and previews that show samples followed by reconstructions.

    Subclasses build ``self.encoder`` / ``self.decoder`` and define ``_mean_latent``
    (encoder output → latent), ``_to_image`` (decoder output → [-1, 1]) and
    ``_prior_latent`` (standard normal noise → latent to decode)."""

    latent_dim: int

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": torch.optim.Adam(self.parameters(), lr=lr)}

    def _mean_latent(self, h: Tensor) -> Tensor:
        raise NotImplementedError

    def _to_image(self, out: Tensor) -> Tensor:
        raise NotImplementedError

    def _prior_latent(self, noise: Tensor) -> Tensor:
        return noise

    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return randn((n, self.latent_dim), generator, next(self.parameters()).device)  # device-correct

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        with eval_mode(self):
            return self._mean_latent(self.encoder(x).float())

    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        with eval_mode(self):
            return self._to_image(self.decoder(z).float())

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               **options: Any) -> Tensor:
        noise = self.sample_noise(n, generator) if noise is None else noise
        return self.decode(self._prior_latent(noise))

    @torch.no_grad()
    def preview(self, noise: Tensor, real: Tensor) -> Tensor:
        return torch.cat([self.sample(noise.shape[0], noise=noise), self.reconstruct(real)])
