"""An autoregressive model on 2-D points over discretised bins: p(x) = p(x₁) p(x₂ | x₁), the
chain rule of NADE (Larochelle & Murray 2011) and PixelCNN (van den Oord et al. 2016), whose
per-pixel softmax over 256 intensities is the same categorical over bins used here.

Each coordinate is cut into B equal bins over [−3, 3]. p(x₁) is a softmax over learned
logits; p(x₂ | x₁) is a softmax over the logits a tiny MLP computes from x₁'s bin centre.
Training minimises the negative log-likelihood (cross-entropy); as a density over the plane,
log p(x) = log P(bin₁) + log P(bin₂ | bin₁) − 2 log w for bin width w, which is what the
loss reports (comparable with the flow's). Sampling goes in order: draw x₁'s bin, then x₂'s
given it, each uniformly inside its bin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.base import param
from . import frame as fr
from .base import Model2D, Slider, View, descend, mlp, time_features


@dataclass
class AutoregressiveConfig:
    bins: int = param(48, min=4, max=256, help="bins per coordinate over [−3, 3]")
    hidden: int = param(64, min=8, max=512, help="units per hidden layer of p(x₂ | x₁)")


class Autoregressive2D(Model2D):
    name = "autoregressive"
    label = "Autoregressive (binned)"
    paper = "Larochelle & Murray 2011 (NADE); van den Oord et al. 2016 (PixelCNN)"
    Config = AutoregressiveConfig
    default_lr = 5e-3
    loss_label = "−log p(x) (nats)"
    slider = Slider("x₁ of the conditional p(x₂ | x₁)", -fr.VIEW, fr.VIEW, 0.0)
    side_title = "p(x₁) above, p(x₂ | x₁) below"
    side_axes = ("value", "density")
    side_equal = False
    side_mirrored = True

    def build(self, config: AutoregressiveConfig) -> None:
        self.bins = config.bins
        self.width = 2 * fr.VIEW / config.bins
        self.edges = torch.linspace(-fr.VIEW, fr.VIEW, config.bins + 1)
        self.centres = (self.edges[:-1] + self.edges[1:]) / 2
        self.marginal_logits = nn.Parameter(torch.zeros(config.bins))
        self.conditional = mlp(16, config.bins, config.hidden, 2)

    def bin_of(self, v: Tensor) -> Tensor:
        return ((v + fr.VIEW) / self.width).floor().long().clamp(0, self.bins - 1)

    def conditional_logits(self, b1: Tensor) -> Tensor:
        """Logits of p(x₂ | x₁ in bin b1), (B, bins), from the bin centre's sinusoidal features."""
        position = (self.centres[b1] + fr.VIEW) / (2 * fr.VIEW)  # in [0, 1]
        return self.conditional(time_features(position))

    def nll(self, x: Tensor) -> Tensor:
        """−log p(x) in nats per point (B,), as a density over the plane."""
        b1, b2 = self.bin_of(x[:, 0]), self.bin_of(x[:, 1])
        discrete = F.cross_entropy(self.marginal_logits.expand(len(x), -1), b1, reduction="none") \
            + F.cross_entropy(self.conditional_logits(b1), b2, reduction="none")
        return discrete + 2 * math.log(self.width)

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        loss = self.nll(batches[0]).mean()
        descend(loss, optimizers[0])
        return {"−log p(x)": float(loss.detach())}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        g = generator or self.generator
        b1 = torch.multinomial(self.marginal_logits.softmax(0), n, replacement=True, generator=g)
        b2 = torch.multinomial(self.conditional_logits(b1).softmax(1), 1, generator=g).squeeze(1)
        jitter = self.rand(n, 2, generator=g) * self.width  # uniform inside the bin (dequantisation)
        return torch.stack([self.edges[b1], self.edges[b2]], 1) + jitter

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        s = float(self.slider.default if setting is None else setting)
        p1 = self.marginal_logits.softmax(0)  # (B,)
        p2 = self.conditional_logits(torch.arange(self.bins)).softmax(1)  # row: x₁'s bin
        joint = (p1[:, None] * p2).T / self.width ** 2  # density; row i is x₂'s bin (y)
        b = int(self.bin_of(torch.tensor([s])))
        near = data[self.bin_of(data[:, 0]) == b]
        data1 = torch.histc(data[:, 0], self.bins, -fr.VIEW, fr.VIEW) / (len(data) * self.width)
        data2 = torch.histc(near[:, 1], self.bins, -fr.VIEW, fr.VIEW) / (max(len(near), 1) * self.width)
        line = torch.tensor([[self.centres[b], -fr.VIEW], [self.centres[b], fr.VIEW]])
        return View(main=[fr.heatmap("p(x) = p(x₁) p(x₂ | x₁)", "heat", joint, levels=(0.0, fr.bright(joint))),
                          fr.curve("x₁ of the conditional", "outline", line)],
                    side=[fr.bars("p(x₁)", "model", self.edges, p1 / self.width),
                          fr.bars("data (outlines)", "outline", self.edges, data1),
                          fr.bars(f"p(x₂ | x₁ ≈ {float(self.centres[b]):.2f})", "aux", self.edges, -p2[b] / self.width),
                          fr.bars("data in that column", "outline", self.edges, -data2)],
                    stats={"−log p(x) (nats/point)": float(self.nll(data).mean())})
