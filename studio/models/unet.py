"""A small U-Net ε_θ(x_t, t) for 28–128 px images (after Ho et al. 2020, Appendix B).

Residual blocks (GroupNorm → SiLU → conv, twice) with the timestep embedding added
between the convolutions, a stride-2 conv to go down and a 2×2 transposed conv to go
up, one skip connection per resolution, and optional self-attention at the lowest
resolution.  The image is halved while its side is even and the half at least 7: 28→14→7,
32→16→8, 64→32→16→8, 128→64→32→16→8 (a stage more per doubling).

Class conditioning (optional): a learned embedding of the label, with one extra "null"
label K for the unconditional model of classifier-free guidance (Ho & Salimans 2022, §3.2),
is added to the timestep embedding, so every residual block sees it.

CPU notes: all timestep projections of all blocks are one matmul, attention is one
fused ``scaled_dot_product_attention`` call, and the largest resolution has the fewest
channels, since convolutions there dominate the cost.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .convnets import channels_last, uses_channels_last


def resolutions(size: int) -> list[int]:
    """Feature-map sides, largest first: halve while even and the half is at least 7."""
    sides = [size]
    while sides[-1] % 2 == 0 and sides[-1] // 2 >= 7:
        sides.append(sides[-1] // 2)
    return sides


def parse_mults(mults: str | tuple[int, ...], levels: int) -> list[int]:
    """"1,2,2" → one multiplier per level, the last one repeated if there are more levels."""
    values = [int(m) for m in mults.split(",")] if isinstance(mults, str) else list(mults)
    if not values or min(values) < 1:
        raise ValueError(f"channel multipliers must be positive integers, got {mults!r}")
    return (values + [values[-1]] * levels)[:levels]


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Transformer sinusoidal position embedding (Vaswani et al. 2017, §3.5) of t,
    PE(t, 2i) = sin(t / 10000^{2i/d}), PE(t, 2i+1) = cos(t / 10000^{2i/d})."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """h = conv(SiLU(GN(x))) + emb;  out = skip(x) + conv(SiLU(GN(h)))."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.c_out = c_out
        self.norm1, self.conv1 = norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2, self.conv2 = norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + emb[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    """Multi-head self-attention over the H·W positions, softmax(QKᵀ/√d)V
    (Vaswani et al. 2017, eq. 1), with a residual connection."""

    def __init__(self, channels: int, head_dim: int = 32):
        super().__init__()
        self.heads = max(1, channels // head_dim)
        self.norm = norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, self.heads, c // self.heads, h * w).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2),
                                             v.transpose(-1, -2))
        return x + self.proj(out.transpose(-1, -2).reshape(n, c, h, w))


class UNet(nn.Module):
    def __init__(self, channels: int, size: int, base_channels: int = 32,
                 channel_mults: str | tuple[int, ...] = "1,2,2", num_res_blocks: int = 1,
                 attention: bool = True, num_classes: int = 0):
        super().__init__()
        sides = resolutions(size)
        widths = [base_channels * m for m in parse_mults(channel_mults, len(sides))]
        self.base_channels = base_channels
        self.channels_last = uses_channels_last("unet", size)  # activations' layout (convnets: the one rule)
        emb_dim = 4 * base_channels
        self.time_mlp = nn.Sequential(nn.Linear(base_channels, emb_dim), nn.SiLU(),
                                      nn.Linear(emb_dim, emb_dim), nn.SiLU())
        self.conv_in = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.num_classes = num_classes
        if num_classes:  # labels 0…K−1, and K = "no label" (the unconditional model)
            self.label_emb = nn.Embedding(num_classes + 1, emb_dim)

        def blocks(c_in: int, c_out: int, count: int) -> nn.ModuleList:
            return nn.ModuleList(ResBlock(c_in if i == 0 else c_out, c_out) for i in range(count))

        # down path: blocks at each level, then a stride-2 conv into the next level's width
        self.down = nn.ModuleList(blocks(widths[max(i - 1, 0)], w, num_res_blocks)
                                  for i, w in enumerate(widths))
        self.downsample = nn.ModuleList(nn.Conv2d(w, w, 3, stride=2, padding=1)
                                        for w in widths[:-1])
        self.mid = blocks(widths[-1], widths[-1], 2)
        self.attn = Attention(widths[-1]) if attention else nn.Identity()
        # up path: the first block of a level takes [h, skip] concatenated along channels
        self.up = nn.ModuleList(blocks(2 * w, w, num_res_blocks) for w in widths)
        self.upsample = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                      for i in range(len(widths) - 1))
        self.norm_out = norm(widths[0])
        self.conv_out = nn.Conv2d(widths[0], channels, 3, padding=1)
        # every block's timestep projection Linear(emb, c_out), fused into one matmul
        self.res_blocks = [b for level in self.down for b in level] + list(self.mid) + \
            [b for level in reversed(self.up) for b in level]
        self.time_proj = nn.Linear(emb_dim, sum(b.c_out for b in self.res_blocks))
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """ε (or v) for x_t at timesteps ``t``; ``y`` the labels of a conditional net
        (``None`` or K: unconditional)."""
        emb = self.time_mlp(timestep_embedding(t, self.base_channels))
        if self.num_classes:
            y = torch.full_like(t, self.num_classes) if y is None else y
            emb = emb + self.label_emb(y)
        emb = self.time_proj(emb)
        embs = iter(emb.split([b.c_out for b in self.res_blocks], dim=1))
        h = self.conv_in(x)
        if self.channels_last:
            h = channels_last(h)
        skips = []
        for i, level in enumerate(self.down):
            if i > 0:
                h = self.downsample[i - 1](h)
            for block in level:
                h = block(h, next(embs))
            skips.append(h)
        h = self.mid[0](h, next(embs))
        h = self.mid[1](self.attn(h), next(embs))
        for i in reversed(range(len(self.up))):
            if i < len(self.up) - 1:
                h = self.upsample[i](h)
            for j, block in enumerate(self.up[i]):
                h = block(torch.cat([h, skips.pop()], dim=1) if j == 0 else h, next(embs))
        return self.conv_out(F.silu(self.norm_out(h))).contiguous()
