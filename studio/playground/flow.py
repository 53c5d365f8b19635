"""A RealNVP-style coupling flow on 2-D points (Dinh et al. 2017, "Density estimation using
Real NVP").

An invertible f = f_K ∘ … ∘ f_1 maps data x to z with p(z) = N(0, I). Each affine coupling
keeps one coordinate a and moves the other b (eq. 4–5):

    b′ = b ⊙ exp(s(a)) + t(a),    log |det ∂f_k/∂x| = Σ s(a)   (eq. 6),

alternating which coordinate is kept. The change of variables (eq. 3) gives the exact
log-likelihood  log p(x) = log N(f(x); 0, I) + Σ_k log |det ∂f_k|,  which training maximises.
The view shows p(x) as a heatmap (it integrates to 1), the grid of z carried into data space
one coupling at a time (the slider), and the data carried to z, where it should look like the
round Gaussian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..models.base import param
from . import frame as fr
from .base import SAMPLES, VIEW_SEED, Model2D, Slider, View, descend, mlp

HEAT = 48  # the density heatmap's cells per side (64: 6.1 ms of a frame's CPU, 48: ~3.5)


@dataclass
class FlowConfig:
    couplings: int = param(6, min=2, max=16, help="number of affine coupling layers (alternating coordinates)")
    hidden: int = param(64, min=8, max=512, help="units per hidden layer of each s, t network")


class AffineCoupling(nn.Module):
    """One coupling: coordinate ``keep`` conditions the affine map of the other (eq. 4–6).

    It works on the two coordinates as separate (B, 1) columns, which the flow carries from
    coupling to coupling: no slicing and joining of (B, 2) tensors per layer (a tiny model's step
    is mostly such per-op overhead, forward and backward)."""

    def __init__(self, keep: int, hidden: int):
        super().__init__()
        self.keep = keep
        self.net = mlp(1, 2, hidden, 2)
        self.scale = nn.Parameter(torch.ones(1))  # s = scale · tanh(·): bounded, as in the authors' code
        nn.init.zeros_(self.net[-1].weight)  # start as the identity
        nn.init.zeros_(self.net[-1].bias)

    def _st(self, a: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self.net(a).split(1, dim=1)
        return self.scale * torch.tanh(s), t

    def forward(self, cols: list[Tensor]) -> Tensor:
        """Moves ``cols[1 − keep]`` (B, 1) in place in the list: b′ = b ⊙ exp(s(a)) + t(a) (eq. 5);
        returns s (B, 1), whose sum is log |det ∂f_k/∂x| (eq. 6)."""
        s, t = self._st(cols[self.keep])
        cols[1 - self.keep] = cols[1 - self.keep] * s.exp() + t
        return s

    def inverse(self, cols: list[Tensor]) -> None:
        """f_k⁻¹ in place in the list: b = (b′ − t(a)) ⊙ exp(−s(a)) (eq. 8–9), as cheap as forward."""
        s, t = self._st(cols[self.keep])
        cols[1 - self.keep] = (cols[1 - self.keep] - t) * (-s).exp()


class CouplingFlow2D(Model2D):
    name = "flow"
    label = "Coupling flow (RealNVP)"
    paper = "Dinh et al. 2017"
    Config = FlowConfig
    default_lr = 2e-3
    loss_label = "−log p(x) (nats)"
    side_title = "the data carried to z = f(x)"
    side_axes = ("z₁", "z₂")

    def build(self, config: FlowConfig) -> None:
        self.couplings = nn.ModuleList(AffineCoupling(k % 2, config.hidden) for k in range(config.couplings))
        self.slider = Slider("couplings applied to the z grid", 0, config.couplings, config.couplings, integer=True)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = f(x) (B, 2) and Σ log |det| (B,)."""
        cols = list(x.split(1, dim=1))
        s = [layer(cols) for layer in self.couplings]
        return torch.cat(cols, 1), torch.cat(s, 1).sum(1)

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact log p(x) in nats (B,), eq. 3: log N(f(x); 0, I) + Σ log |det ∂f_k/∂x|."""
        z, logdet = self(x)
        return -0.5 * z.square().sum(1) - math.log(2 * math.pi) + logdet

    def inverse(self, z: Tensor, layers: int | None = None) -> Tensor:
        """x = f⁻¹(z); with ``layers`` = k only the last k couplings are undone (the grid's k-th stage)."""
        todo = list(self.couplings)[::-1][: len(self.couplings) if layers is None else layers]
        cols = list(z.split(1, dim=1))
        for layer in todo:
            layer.inverse(cols)
        return torch.cat(cols, 1)

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        loss = -self.log_prob(batches[0]).mean()  # maximum likelihood
        descend(loss, optimizers[0])
        return {"−log p(x)": float(loss.detach())}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.inverse(self.randn(n, 2, generator=generator))

    @torch.no_grad()
    def density(self, cells: int = HEAT, lim: float = fr.VIEW) -> Tensor:
        """p(x) on the centres of a cells×cells grid over [−lim, lim]², (cells, cells) (row i at y_i)."""
        return self.log_prob(fr.grid_points(cells, lim)).exp().reshape(cells, cells)

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        k = len(self.couplings) if setting is None else int(round(setting))
        # one pass forward for the density grid and the data, one back for the z grid and the
        # samples (each pass is mostly per-layer Python: a frame's CPU 12 → ~10 ms, measured)
        cells = fr.grid_points(HEAT)
        z, logdet = self(torch.cat([cells, data]))
        log_p = -0.5 * z.square().sum(1) - math.log(2 * math.pi) + logdet  # eq. 3, as in log_prob
        p, log_p, z = log_p[:len(cells)].exp().reshape(HEAT, HEAT), log_p[len(cells):], z[len(cells):]
        cell_area = (2 * fr.VIEW / HEAT) ** 2
        grid = fr.grid_lines(2.5, 11, 41).reshape(-1, 2)
        noise = torch.randn(SAMPLES, 2, generator=torch.Generator().manual_seed(VIEW_SEED))  # as ``sample``
        if k == len(self.couplings):
            warped, samples = self.inverse(torch.cat([grid, noise])).split([len(grid), SAMPLES])
        else:
            warped, samples = self.inverse(grid, k), self.inverse(noise)
        warped = warped.reshape(22, 41, 2)
        angle = torch.linspace(0, 2 * math.pi, 49)
        ring = torch.stack([angle.cos(), angle.sin()], 1)
        gap = torch.full((1, 2), math.nan)
        return View(main=[fr.heatmap("p(x)", "heat", p, levels=(0.0, fr.bright(p))),
                          fr.lines(f"z grid after {k} of {len(self.couplings)} couplings⁻¹", "grid", warped)],
                    side=[fr.points("f(x)", "data", z),
                          fr.curve("N(0, I): 1σ, 2σ, 3σ", "outline", torch.cat([ring, gap, 2 * ring, gap, 3 * ring]))],
                    stats={"log-likelihood (nats/point)": float(log_p.mean()),
                           "∫ p(x) dx over the view": float(p.sum() * cell_area)},
                    samples=samples)
