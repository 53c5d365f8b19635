"""RealNVP normalizing flow (Dinh, Sohl-Dickstein & Bengio 2017, "Density estimation using
Real NVP"): exact log-likelihood, exact encode and decode.

An invertible map f takes an image to z ~ N(0, I); the change of variables (eq. 3)
    log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x|
is exact because every layer is an affine coupling (eq. 7–9) with a triangular Jacobian:
    y = b⊙x + (1 − b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x)),   log |det| = Σ (1 − b)⊙s(b⊙x),
where the mask b is a checkerboard over pixels or a split of the channels (§3.4), and s, t
come from one small ResNet. The inverse only needs s and t of the unchanged half.

Multi-scale architecture (§3.6): at each scale 3 checkerboard couplings, a squeeze (every
2×2 block of pixels becomes 4 channels), 3 channel-wise couplings, then half of the
channels are factored out as part of z and the rest goes on to the next scale; the last
scale has 4 checkerboard couplings. The masks alternate so every pixel gets transformed.

Data (§4.1): pixel levels k ∈ {0…255} are dequantised, u = (k + U[0, 1)) / 256, and mapped
to logit space, y = logit(α + (1 − 2α)u) with α = 0.05. The Jacobians of both steps are in
the likelihood, and a discrete image's NLL in bits/dim is bounded by
    −log₂ P(k)/D ≤ (−log p_u(u))/(D ln 2) + 8      (Theis et al. 2016, eq. 8).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..rng import randn
from .base import Autocast, LikelihoodModel, no_autocast
from .options import RealNVPConfig, RealNVPOptions

ALPHA = 0.05  # keeps the logit away from 0 and 1 (§4.1)
LEVELS = 256


def full(t: Tensor) -> Tensor:
    """Back from autocast's bf16 to float32 (float64 stays float64)."""
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


def squeeze(x: Tensor) -> Tensor:
    """(N, C, H, W) → (N, 4C, H/2, W/2): each 2×2 block of pixels becomes 4 channels (§3.6)."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(x: Tensor) -> Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // 4, 2 * h, 2 * w)


def checkerboard(h: int, w: int, parity: int, like: Tensor) -> Tensor:
    """b = 1 on the pixels (i + j) % 2 == parity, which condition the others."""
    i, j = torch.arange(h, device=like.device), torch.arange(w, device=like.device)
    return (((i[:, None] + j[None]) % 2) == parity).to(like.dtype)[None, None]


class ResNet(nn.Module):
    """s and t of a coupling: conv in, residual blocks (ReLU, conv, ReLU, conv), conv out.
    The last conv starts at zero so every coupling starts as the identity."""

    def __init__(self, c_in: int, c_out: int, hidden: int, blocks: int):
        super().__init__()
        self.conv_in = nn.Conv2d(c_in, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
                                                  nn.Conv2d(hidden, hidden, 3, padding=1))
                                    for _ in range(blocks))
        self.conv_out = nn.Conv2d(hidden, 2 * c_out, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv_in(x)
        for block in self.blocks:
            h = h + block(h)
        return self.conv_out(F.relu(h))


class Coupling(nn.Module):
    """Affine coupling with a checkerboard (``kind="checker"``) or channel mask; ``flip``
    swaps which half is transformed."""

    def __init__(self, channels: int, kind: str, flip: bool, hidden: int, blocks: int):
        super().__init__()
        self.kind, self.flip = kind, flip
        if kind == "checker":  # the net sees b⊙x and b itself
            self.net = ResNet(channels + 1, channels, hidden, blocks)
        else:  # the net sees one half of the channels and transforms the other
            self.net = ResNet(channels // 2, channels - channels // 2, hidden, blocks)
        # s = scale · tanh(ŝ): bounded log-scales keep early training stable
        self.scale = nn.Parameter(torch.ones(1, channels if kind == "checker" else channels - channels // 2, 1, 1))

    def _st(self, given: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        inp = given if mask is None else torch.cat([given, mask.expand(given.shape[0], 1, *given.shape[2:])], 1)
        s, t = full(self.net(inp)).chunk(2, dim=1)
        return self.scale * torch.tanh(s), t

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor]:
        a, b = x.split([x.shape[1] // 2, x.shape[1] - x.shape[1] // 2], dim=1)
        return (b, a) if self.flip else (a, b)

    def _join(self, given: Tensor, changed: Tensor) -> Tensor:
        return torch.cat([changed, given] if self.flip else [given, changed], dim=1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """y and log |det ∂y/∂x| per image (eq. 6–7)."""
        if self.kind == "checker":
            b = checkerboard(x.shape[2], x.shape[3], int(self.flip), x)
            s, t = self._st(b * x, b)
            s, t = (1 - b) * s, (1 - b) * t
            return x * torch.exp(s) + t, s.flatten(1).sum(1)
        given, change = self._halves(x)
        s, t = self._st(given, None)
        return self._join(given, change * torch.exp(s) + t), s.flatten(1).sum(1)

    def inverse(self, y: Tensor) -> Tensor:
        """x = (y − t)⊙exp(−s) on the transformed half (eq. 8–9)."""
        if self.kind == "checker":
            b = checkerboard(y.shape[2], y.shape[3], int(self.flip), y)
            s, t = self._st(b * y, b)
            return b * y + (1 - b) * (y - t) * torch.exp(-s)
        given, change = self._halves(y)
        s, t = self._st(given, None)
        return self._join(given, (change - t) * torch.exp(-s))


class Scale(nn.Module):
    def __init__(self, channels: int, final: bool, hidden: int, blocks: int):
        super().__init__()
        n_checker = 4 if final else 3
        self.checker = nn.ModuleList(Coupling(channels, "checker", i % 2 == 1, hidden, blocks)
                                     for i in range(n_checker))
        self.channel = nn.ModuleList() if final else nn.ModuleList(
            Coupling(4 * channels, "channel", i % 2 == 1, hidden, blocks) for i in range(3))


class RealNVP(RealNVPOptions, LikelihoodModel):
    grad_clip = 100.0

    def __init__(self, config: RealNVPConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        c, h, w = self.image_shape
        k = 2 ** (config.num_scales - 1)
        if h % k or w % k:
            raise ValueError(f"num_scales={config.num_scales} needs an image side divisible by {k}, got {h}×{w}: "
                             f"lower num_scales")
        self.dims = c * h * w
        self.capabilities = replace(type(self).capabilities, latent_dim=self.dims)
        self.scales = nn.ModuleList()
        for i in range(config.num_scales):
            final = i == config.num_scales - 1
            self.scales.append(Scale(c, final, config.hidden, config.res_blocks))
            c *= 2  # squeeze ×4, factor out half

    # --- the flow: u ∈ (0, 1)^D ↔ z -------------------------------------------------------
    def _flow(self, x: Tensor, i: int = 0) -> tuple[Tensor, Tensor]:
        scale, logdet = self.scales[i], torch.zeros(x.shape[0], device=x.device)
        for coupling in scale.checker:
            x, ld = coupling(x)
            logdet = logdet + ld
        if i == len(self.scales) - 1:
            return x, logdet
        x = squeeze(x)
        for coupling in scale.channel:
            x, ld = coupling(x)
            logdet = logdet + ld
        z_out, h = x.chunk(2, dim=1)  # factor out half the channels (§3.6)
        h, ld = self._flow(h, i + 1)
        return unsqueeze(torch.cat([z_out, h], dim=1)), logdet + ld

    def _flow_inverse(self, z: Tensor, i: int = 0) -> Tensor:
        scale = self.scales[i]
        if i < len(self.scales) - 1:
            z_out, h = squeeze(z).chunk(2, dim=1)
            x = torch.cat([z_out, self._flow_inverse(h, i + 1)], dim=1)
            for coupling in reversed(scale.channel):
                x = coupling.inverse(x)
            z = unsqueeze(x)
        for coupling in reversed(scale.checker):
            z = coupling.inverse(z)
        return z

    def log_density(self, u: Tensor, autocast: Autocast = no_autocast) -> Tensor:
        """log p(u) per image, for u ∈ (0, 1)^D (continuous, already dequantised): logit
        preprocessing, the flow, and N(0, I) on z, with all log-Jacobians (eq. 3)."""
        p = ALPHA + (1 - 2 * ALPHA) * u
        y = torch.log(p) - torch.log1p(-p)
        # d y / d u = (1 − 2α) / (p (1 − p))
        logdet = (math.log(1 - 2 * ALPHA) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)
        with autocast():
            z, ld = self._flow(y)
        z = full(z)
        log_normal = -0.5 * (z.square() + math.log(2 * math.pi)).flatten(1).sum(1)
        return log_normal + full(ld) + logdet

    # --- images ↔ u: dequantisation ---------------------------------------------------------
    @staticmethod
    def _levels(x: Tensor) -> Tensor:
        """[-1, 1] → pixel levels k ∈ [0, 255] (continuous, not rounded)."""
        return (x + 1) * (LEVELS - 1) / 2

    def bits_per_dim(self, x: Tensor, noise: Tensor | None = None, autocast: Autocast = no_autocast) -> Tensor:
        """Per image: −log₂ p(u)/D + 8 with u = (k + noise)/256 (noise ~ U[0, 1) if not given),
        an upper bound on the discrete NLL in bits/dim."""
        noise = torch.rand_like(x) if noise is None else noise
        u = (self._levels(x) + noise) / LEVELS
        return -self.log_density(u, autocast) / (self.dims * math.log(2)) + math.log2(LEVELS)

    # --- encode / decode / sample -------------------------------------------------------------
    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return randn((n, self.dims), generator, next(self.parameters()).device)  # device-correct

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """z = f(x), flattened to (N, D); exact, and deterministic (u at the middle of each
        level's bin: k + ½)."""
        u = (self._levels(x) + 0.5) / LEVELS
        p = ALPHA + (1 - 2 * ALPHA) * u
        return self._flow(torch.log(p) - torch.log1p(-p))[0].flatten(1)

    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        """x = f⁻¹(z) for z of shape (N, D) or (N, C, H, W); the exact inverse of ``encode``."""
        y = self._flow_inverse(z.reshape(-1, *self.image_shape).float())
        u = (torch.sigmoid(y) - ALPHA) / (1 - 2 * ALPHA)
        return (u * LEVELS - 0.5) * 2 / (LEVELS - 1) - 1

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               temperature: float | None = None, **options: Any) -> Tensor:
        """Images from z ~ N(0, T²I) (``noise`` is the standard normal draw)."""
        noise = self.sample_noise(n, generator) if noise is None else noise
        t = self.config.temperature if temperature is None else temperature
        return self.decode(t * noise).clamp(-1, 1)
