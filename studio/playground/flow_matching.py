"""Flow matching / rectified flow on 2-D points (Lipman et al. 2023, "Flow Matching for
Generative Modeling"; Liu et al. 2023, "Flow Straight and Fast: Learning to Generate and
Transfer Data with Rectified Flow").

Pair noise x₀ ~ N(0, I) with a data point x₁ and join them by the straight line
x_t = (1 − t) x₀ + t x₁ (Lipman's conditional OT path, eq. 20–23 with σ_min = 0; Liu's
interpolation, eq. 1). Its velocity is x₁ − x₀, and a tiny MLP v_θ(x_t, t) regresses it:

    min E_{t, x₀, x₁} ‖(x₁ − x₀) − v_θ(x_t, t)‖²      (Lipman eq. 23, Liu eq. 1).

Sampling integrates dx/dt = v_θ(x, t) from t = 0 (noise) to 1 (data) with Euler steps. The
view shows the interpolated cloud x_t at the slider's t, v_θ as arrows, where each particle is
headed, x̂₁ = x_t + (1 − t) v_θ(x_t, t), and sample paths: straighter than diffusion's, which is
why a few Euler steps already land on the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..models.base import param
from . import frame as fr
from .base import SAMPLES, VIEW_SEED, Model2D, Slider, View, descend, ema_of, mlp, time_features
from .diffusion import PARTICLES, PATHS


@dataclass
class FlowMatchingConfig:
    sample_steps: int = param(20, min=1, max=1000, help="Euler steps of the sampler, from noise to data")
    hidden: int = param(64, min=8, max=512, help="units per hidden layer of v_θ")


class FlowMatching2D(Model2D):
    name = "flow-matching"
    label = "Flow matching / rectified flow"
    paper = "Lipman et al. 2023; Liu et al. 2023"
    Config = FlowMatchingConfig
    default_lr = 2e-3
    loss_label = "‖(x₁ − x₀) − v_θ‖²"
    slider = Slider("t (0 = noise, 1 = data)", 0.0, 1.0, 0.5)
    side_title = "paths: noise (τ = 0) → data (τ = 1)"
    side_axes = ("τ", "x₁")
    side_equal = False
    live_options = ("sample_steps",)

    def build(self, config: FlowMatchingConfig) -> None:
        self.v_net = mlp(2 + 16, 2, config.hidden, 3)
        self.ema = ema_of(self.v_net)  # what sampling and the view use

    def velocity(self, x: Tensor, t: Tensor | float, training: bool = False) -> Tensor:
        """v_θ(x, t), (B, 2), t ∈ [0, 1] shared or per point; the EMA weights unless ``training``."""
        net = self.v_net if training else self.ema
        return net(torch.cat([x, time_features(torch.as_tensor(t).float().expand(len(x)))], 1))

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        x1 = batches[0]
        x0 = self.randn(*x1.shape)
        t = self.rand(len(x1), 1)
        xt = (1 - t) * x0 + t * x1  # the straight path
        loss = ((x1 - x0) - self.velocity(xt, t.squeeze(1), training=True)).square().sum(1).mean()
        descend(loss, optimizers[0])
        self.ema.update_parameters(self.v_net)
        return {"‖(x₁ − x₀) − v_θ‖²": float(loss.detach())}

    @torch.no_grad()
    def integrate(self, x: Tensor, keep: int = 0) -> tuple[Tensor, Tensor]:
        """Euler: x ← x + h v_θ(x, t) over ``sample_steps`` steps of h = 1/steps; the end points
        and the path of the first ``keep`` particles (steps + 1, keep, 2)."""
        steps = self.config.sample_steps
        path = [x[:keep]]
        for k in range(steps):
            x = x + self.velocity(x, k / steps) / steps
            path.append(x[:keep])
        return x, torch.stack(path)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.integrate(self.randn(n, 2, generator=generator))[0]

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        t = float(self.slider.default if setting is None else setting)
        g = torch.Generator().manual_seed(VIEW_SEED)
        samples, paths = self.integrate(torch.randn(SAMPLES, 2, generator=g), keep=PATHS)
        x1 = data[:PARTICLES]
        xt = (1 - t) * torch.randn(x1.shape, generator=g) + t * x1
        x1_hat = xt + (1 - t) * self.velocity(xt, t)
        tails = fr.arrow_grid()
        path_main, side = fr.path_layers(paths, marker=t)
        return View(main=[path_main,
                          fr.points(f"x_t at t = {t:.2f}", "noised", xt),
                          fr.points("predicted x₁ = x_t + (1 − t) v_θ", "aux", x1_hat),
                          fr.arrows("v_θ(x, t)", "field", tails, self.velocity(tails, t), 0.3)],
                    side=side, stats={}, samples=samples)
