"""Denoising diffusion probabilistic models (Ho et al. 2020) with ε-prediction.

Training adds Gaussian noise to an image in one shot (eq. 4),
    x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,   ε ~ N(0, I),   t ~ Uniform{0, …, T−1},
and teaches a U-Net to recover the noise with L_simple (eq. 14),
    L = ‖ε − ε_θ(x_t, t)‖².
Sampling starts from x_T ~ N(0, I) and walks back with a scheduler from
``studio.schedulers``: ancestral DDPM (Algorithm 2) or DDIM (Song et al. 2021, eq. 12),
always with the exponential moving average (EMA) of the weights, which gives much cleaner
samples than the live weights (Ho et al. 2020, Appendix B).

Options:
- ``objective="v"``: the net predicts v = √ᾱ_t ε − √(1−ᾱ_t) x_0 (Salimans & Ho 2022, §4 and
  Appendix D), better behaved near t = T; ``predict_noise`` still returns ε, recovered as
  ε = √ᾱ_t v + √(1−ᾱ_t) x_t, so every sampler and the step viewer work unchanged.
- ``class_conditional``: classifier-free guidance (Ho & Salimans 2022). One net learns both
  ε(x_t, y) and ε(x_t, ∅): the label is replaced by the null label with probability
  ``label_dropout`` during training (Algorithm 1). Sampling mixes them (Algorithm 2, with
  s = 1 + w):  ε̃ = ε(x_t, ∅) + s·(ε(x_t, y) − ε(x_t, ∅));  s = 0 unconditional, s = 1
  conditional, s > 1 trades diversity for class fidelity.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..rng import randn
from ..schedulers import MIN_STEPS, SCHEDULERS, DDPMScheduler, Scheduler
from .base import Autocast, GenerativeModel, class_labels, no_autocast, require_classes
from .options import SAMPLERS, DDPMConfig, DDPMOptions
from .unet import UNet

PREVIEW_SEED = 0x5EED_D1FF  # not a seed anyone would also use for the starting noise


class DDPM(DDPMOptions, GenerativeModel):
    def __init__(self, config: DDPMConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        c, h, w = self.image_shape
        if h != w:
            raise ValueError(f"DDPM needs square images, got {h}×{w}")
        if config.class_conditional:
            require_classes(self.family, num_classes, what=" with class_conditional=true")
        self.classes = num_classes if config.class_conditional else 0
        self.capabilities = replace(type(self).capabilities, class_conditional=bool(self.classes))
        self.unet = UNet(c, h, config.base_channels, config.channel_mults,
                         config.num_res_blocks, config.attention, self.classes)
        # a real copy (own storage, saved in state_dict), updated in train_step, never optimised
        self.ema = copy.deepcopy(self.unet).requires_grad_(False)
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.int64))
        self.noise_schedule = DDPMScheduler(config.num_train_timesteps, config.schedule)

    @property
    def num_train_timesteps(self) -> int:
        return self.config.num_train_timesteps

    def _alpha_bar(self, t: Tensor, like: Tensor) -> Tensor:
        """ᾱ_t per image, shaped to broadcast over ``like``."""
        a = self.noise_schedule.alphas_cumprod.to(like.device)[t]
        return a.to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))

    # --- training -----------------------------------------------------------------
    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": torch.optim.Adam(self.unet.parameters(), lr=lr, foreach=True)}

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        # t ~ Uniform({0, …, T−1}), ε ~ N(0, I)  (Algorithm 1)
        t = torch.randint(0, self.num_train_timesteps, (x.shape[0],), device=x.device)
        eps = torch.randn_like(x)
        # x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε  (eq. 4)
        x_t = self.noise_schedule.add_noise(x, eps, t)
        labels = None
        if self.classes:
            if y is None:
                raise ValueError("a class-conditional ddpm trains on labelled batches; got no labels")
            # classifier-free guidance: the null label K with probability p_uncond (Algorithm 1)
            drop = torch.rand(y.shape, device=y.device) < self.config.label_dropout
            labels = torch.where(drop, torch.full_like(y, self.classes), y)
        with autocast():
            pred = self.unet(x_t, t, labels)
        if self.config.objective == "v":
            # v = √ᾱ_t ε − √(1−ᾱ_t) x_0  (Salimans & Ho 2022, eq. in §4)
            a = self._alpha_bar(t, x)
            target, name = a.sqrt() * eps - (1 - a).sqrt() * x, "v_mse"
        else:
            target, name = eps, "eps_mse"
        # L_simple = ‖ε − ε_θ(x_t, t)‖²  (eq. 14) or its v analogue, in float32 whatever autocast did
        loss = F.mse_loss(pred.float(), target.float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.unet.parameters(), 1.0)
        opt.step()
        self.update_ema()
        return {name: loss.detach()}

    @torch.no_grad()
    def update_ema(self) -> None:
        """θ_ema ← d θ_ema + (1 − d) θ with d = min(decay, (1 + n)/(10 + n)) after n updates,
        so early, still-random weights are forgotten quickly."""
        n = int(self.ema_updates)
        decay = min(self.config.ema_decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(list(self.ema.parameters()), list(self.unet.parameters()), 1 - decay)
        self.ema_updates += 1

    # --- the denoiser, for samplers and the step-by-step viewer ------------------------
    @torch.no_grad()
    def predict_noise(self, x_t: Tensor, t: int | Tensor, use_ema: bool = True, labels: Tensor | None = None,
                      guidance_scale: float = 1.0) -> Tensor:
        """ε_θ(x_t, t) (also for v-prediction nets); ``t`` one timestep for the whole batch
        or one per image. A class-conditional model with ``labels`` returns the guided
        ε̃ = ε(x_t, ∅) + s·(ε(x_t, y) − ε(x_t, ∅)), s = ``guidance_scale``; without labels
        (or on an unconditional model) the unconditional ε."""
        net = self.ema if use_ema else self.unet
        n = x_t.shape[0]
        t = torch.as_tensor(t, device=x_t.device, dtype=torch.int64).expand(n)
        if labels is not None and not self.classes:
            raise ValueError("this ddpm was trained without class_conditional: it takes no labels")
        s = float(guidance_scale)
        was_training = net.training
        net.eval()
        try:
            if labels is None or s == 0:
                out = net(x_t, t)  # ∅: the null label
            else:
                y = class_labels(labels, n, self.classes, x_t.device)
                if s == 1:
                    out = net(x_t, t, y)
                else:  # one batched pass for ε(x_t, y) and ε(x_t, ∅)
                    null = torch.full_like(y, self.classes)
                    both = net(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([y, null]))
                    cond, uncond = both.float().chunk(2)
                    out = uncond + s * (cond - uncond)
        finally:
            net.train(was_training)
        out = out.float()
        if self.config.objective == "v":  # ε = √ᾱ_t v + √(1−ᾱ_t) x_t
            a = self._alpha_bar(t, out)
            out = a.sqrt() * out + (1 - a).sqrt() * x_t.float()
        return out

    def make_scheduler(self, sampler: str | None = None, steps: int | None = None,
                       eta: float | None = None) -> Scheduler:
        """A scheduler on this model's noise schedule with ``set_timesteps`` already called.

        Defaults: the config's sampler; T steps for DDPM, ``sample_steps`` (at most T) for the
        others. An explicit ``steps`` outside MIN_STEPS..T raises ``ValueError`` naming the
        range (never silently clamped); ``eta`` is ignored by samplers without η (the CLI
        refuses it there: ``engine.sampling.check_options``).
        A step-by-step viewer drives it itself, and can restart from any (x_t, t)::

            for t in scheduler.timesteps:
                eps = model.predict_noise(x, t)
                x, x0 = scheduler.step(eps, t, x, generator)
        """
        cfg, T = self.config, self.config.num_train_timesteps
        sampler = sampler or cfg.sampler
        if sampler not in SCHEDULERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        cls = SCHEDULERS[sampler]
        options: dict[str, Any] = {"num_train_timesteps": T, "beta_schedule": cfg.schedule,
                                   "clip_sample": cfg.clip_sample}
        if getattr(cls, "has_eta", False):  # DDIM-like: η scales the injected noise
            options["eta"] = cfg.eta if eta is None else eta
        scheduler: Scheduler = cls(**options)
        # ancestral DDPM walks every training step by default; the others take sample_steps
        if steps is None:
            steps = T if sampler == "ddpm" else min(cfg.sample_steps, T)
        scheduler.set_timesteps(steps)
        return scheduler

    # --- generation ---------------------------------------------------------------
    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """x_T ~ N(0, I) on the model's device, drawn on ``generator``'s (``studio.rng``)."""
        return randn((n, *self.image_shape), generator, self.ema_updates.device)

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               sampler: str | None = None, steps: int | None = None, eta: float | None = None,
               use_ema: bool = True, labels: Tensor | None = None, guidance_scale: float | None = None,
               **options: Any) -> Tensor:
        """Images from x_T (``noise``, else drawn from ``generator``) by ``sampler`` in ``steps``
        steps with the EMA weights; defaults from the config.  ``generator`` (any device) also
        draws the per-step noise z: give ``noise`` from another stream (``studio.rng.streams``),
        or z at the first step repeats x_T. A class-conditional model draws classes ``labels``
        (``None``: 0, 1, …, K−1 cycling) with guidance ``guidance_scale`` (default: config)."""
        if options:
            raise TypeError(f"unknown sample option(s): {', '.join(options)}")
        scheduler = self.make_scheduler(sampler, steps, eta)
        x = self.sample_noise(n, generator) if noise is None else noise.float()
        guide: dict[str, Any] = {}
        if self.classes:
            guide = {"labels": class_labels(labels, n, self.classes, x.device),
                     "guidance_scale": self.config.guidance_scale if guidance_scale is None else guidance_scale}
        elif labels is not None:
            raise ValueError("this ddpm was trained without class_conditional: it takes no labels")
        was_training = self.training
        self.eval()
        try:
            for t in scheduler.timesteps:
                eps = self.predict_noise(x, t, use_ema, **guide)
                x = scheduler.step(eps, t, x, generator).prev_sample
        finally:
            self.train(was_training)
        return x.clamp(-1, 1)

    @torch.no_grad()
    def preview(self, noise: Tensor, real: Tensor, **_: Any) -> Tensor:
        """A short DDIM run from ``noise`` (conditional: classes cycling, default guidance);
        its per-step noise comes from a fixed seed, so successive previews differ only
        because the weights changed."""
        generator = torch.Generator(device=noise.device).manual_seed(PREVIEW_SEED)
        return self.sample(noise.shape[0], noise=noise, generator=generator, sampler="ddim",
                           steps=min(self.config.preview_steps, self.num_train_timesteps))

    @torch.no_grad()
    def evaluate(self, x: Tensor, labels: Tensor | None = None) -> dict[str, float]:
        """L_simple (in ε, whatever the objective) of the EMA weights on ``x`` (conditioned on
        ``labels`` if given), at timesteps and noise from a fixed seed so that successive
        evaluations are comparable."""
        g = torch.Generator().manual_seed(0)
        t = torch.randint(0, self.num_train_timesteps, (x.shape[0],), generator=g)
        eps = torch.randn(x.shape, generator=g).to(x.device)
        t = t.to(x.device)
        pred = self.predict_noise(self.noise_schedule.add_noise(x, eps, t), t,
                                  labels=labels if self.classes else None)
        return {"eps_mse": F.mse_loss(pred, eps).item()}
