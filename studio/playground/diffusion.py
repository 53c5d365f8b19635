"""DDPM on 2-D points (Ho et al. 2020), sampled with the studio's own schedulers: ancestral
DDPM, DDIM (Song et al. 2021) or DPM-Solver++ 2M (Lu et al. 2022), all in ``studio.schedulers``,
which work on tensors of any shape.

Forward process, eq. 4: x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε.  A tiny MLP ε_θ(x_t, t) learns the
noise with the simple loss of eq. 14, ‖ε − ε_θ(x_t, t)‖².  From ε_θ: the clean guess
x̂₀ = (x_t − √(1 − ᾱ_t) ε_θ)/√ᾱ_t, and the score ∇ log p_t(x) = −ε_θ/√(1 − ᾱ_t) (so −ε_θ
points towards the data). The view shows the noised cloud x_t at the slider's t, −ε_θ as
arrows, each particle's x̂₀, and sample paths from noise to data.

While sampling, x̂₀ is clipped to the view box [−3, 3]² (the data's range, as the image DDPM
clips to [−1, 1], §3.3) by handing the samplers the ε that matches the clipped x̂₀ (what
diffusers' DDIM does after clipping); without it the cosine schedule's first steps, where √ᾱ_t
is tiny, turn small errors of ε_θ into huge x̂₀.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import SpecError
from ..models.base import param
from ..schedulers import SCHEDULERS, Scheduler, make_scheduler
from . import frame as fr
from .base import SAMPLES, VIEW_SEED, Model2D, Slider, View, descend, ema_of, mlp, time_features

PARTICLES = 400  # the noised cloud and its x̂₀
PATHS = 24


@dataclass
class DDPMConfig:
    timesteps: int = param(100, min=10, max=1000, help="diffusion steps T of training")
    beta_schedule: str = param("linear", choices=("linear", "cosine"), help="noise schedule β_t")
    sampler: str = param("dpmpp2m", choices=tuple(SCHEDULERS), help="sampler of the samples and paths")
    sample_steps: int = param(20, min=1, max=1000, help="sampler steps (at most T)")
    hidden: int = param(64, min=8, max=512, help="units per hidden layer of ε_θ")


class DDPM2D(Model2D):
    name = "ddpm"
    label = "Diffusion (DDPM)"
    paper = "Ho et al. 2020; DDIM: Song et al. 2021; DPM-Solver++: Lu et al. 2022"
    Config = DDPMConfig
    default_lr = 1e-3
    loss_label = "‖ε − ε_θ‖²"
    side_title = "paths: noise (τ = 0) → data (τ = 1)"
    side_axes = ("τ", "x₁")
    side_equal = False
    live_options = ("sampler", "sample_steps")  # the view may change these without retraining

    def build(self, config: DDPMConfig) -> None:
        if config.sample_steps > config.timesteps:
            raise SpecError(f"sample_steps={config.sample_steps} is more than timesteps={config.timesteps}",
                            "options.sample_steps")
        self.eps_net = mlp(2 + 16, 2, config.hidden, 3)
        self.ema = ema_of(self.eps_net)  # what sampling and the view use
        self.schedule = Scheduler(config.timesteps, config.beta_schedule, clip_sample=False)
        self.slider = Slider("t (0 = data, T − 1 = noise)", 0, config.timesteps - 1, config.timesteps // 4,
                             integer=True)

    def epsilon(self, x: Tensor, t: Tensor | int, training: bool = False) -> Tensor:
        """ε_θ(x_t, t), (B, 2); t an int or (B,) ints in 0 … T − 1; the EMA weights unless ``training``."""
        t = torch.as_tensor(t).float().expand(len(x)) / self.config.timesteps
        return (self.eps_net if training else self.ema)(torch.cat([x, time_features(t)], 1))

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        x0 = batches[0]
        # Algorithm 1: t ~ Uniform{0 … T − 1}, ε ~ N(0, I), minimise ‖ε − ε_θ(√ᾱ_t x₀ + √(1 − ᾱ_t) ε, t)‖²
        t = torch.randint(0, self.config.timesteps, (len(x0),), generator=self.generator)
        eps = self.randn(*x0.shape)
        loss = (eps - self.epsilon(self.schedule.add_noise(x0, eps, t), t, training=True)).square().mean()
        descend(loss, optimizers[0])
        self.ema.update_parameters(self.eps_net)
        return {"‖ε − ε_θ‖²": float(loss.detach())}

    def sampler(self) -> Scheduler:
        c = self.config
        scheduler = make_scheduler(c.sampler, num_train_timesteps=c.timesteps, beta_schedule=c.beta_schedule,
                                   clip_sample=False)
        scheduler.set_timesteps(min(c.sample_steps, c.timesteps))
        return scheduler

    def clipped_epsilon(self, x: Tensor, t: int) -> Tensor:
        """ε_θ(x, t) adjusted so that x̂₀ = (x − √(1 − ᾱ_t) ε)/√ᾱ_t lies in [−3, 3]²."""
        eps = self.epsilon(x, t)
        a = self.schedule.alpha_bar(t)
        x0 = ((x - (1 - a) ** 0.5 * eps) / a ** 0.5).clamp(-fr.VIEW, fr.VIEW)
        return (x - a ** 0.5 * x0) / (1 - a) ** 0.5

    @torch.no_grad()
    def run_sampler(self, noise: Tensor, generator: torch.Generator, keep: int = 0) -> tuple[Tensor, Tensor]:
        """Samples from ``noise`` (N, 2) with the chosen sampler; also the path of the first
        ``keep`` particles, (steps + 1, keep, 2)."""
        scheduler = self.sampler()
        x, path = noise, [noise[:keep]]
        for t in scheduler.timesteps:
            x = scheduler.step(self.clipped_epsilon(x, int(t)), t, x, generator).prev_sample
            path.append(x[:keep])
        return x, torch.stack(path)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        g = generator or self.generator
        return self.run_sampler(self.randn(n, 2, generator=g), g)[0]

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        t = int(self.slider.default if setting is None else round(setting))
        g = torch.Generator().manual_seed(VIEW_SEED)
        samples, paths = self.run_sampler(torch.randn(SAMPLES, 2, generator=g), g, keep=PATHS)
        x0 = data[:PARTICLES]
        xt = self.schedule.add_noise(x0, torch.randn(x0.shape, generator=g), t)
        x0_hat = self.schedule.predict_original(self.epsilon(xt, t), t, xt)
        tails = fr.arrow_grid()
        path_main, side = fr.path_layers(paths, marker=1 - t / max(self.config.timesteps - 1, 1))
        return View(main=[path_main,
                          fr.points(f"x_t at t = {t}", "noised", xt),
                          fr.points("predicted x₀ of each x_t", "aux", x0_hat),
                          fr.arrows("−ε_θ(x, t): towards the data", "field", tails, -self.epsilon(tails, t), 0.3)],
                    side=side, stats={}, samples=samples)
