"""The base of every playground family: a tiny model on 2-D points with one training step,
a sampler and the layers its view draws. One file per family; ``FAMILIES`` names them.

A family's ``Config`` is a dataclass of ``studio.models.param`` fields (so the page builds its
form the way the Train page does, and ``config_from_dict`` checks it). Models are built under
a private RNG seeded by ``seed``, and every random draw afterwards comes from ``self.generator``,
so a run is reproducible and never disturbs torch's global RNG.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import SpecError
from ..models.base import config_from_dict
from .frame import Layer

# name -> (module, class); imported on first use
SAMPLES = 500  # samples a frame shows (and compares with the data)
VIEW_SEED = 1234  # a view's noise is the same every frame: points move only because the model learns

FAMILIES = {
    "gan": "studio.playground.gan:GAN2D",
    "vae": "studio.playground.vae:VAE2D",
    "flow": "studio.playground.flow:CouplingFlow2D",
    "ddpm": "studio.playground.diffusion:DDPM2D",
    "flow-matching": "studio.playground.flow_matching:FlowMatching2D",
    "autoregressive": "studio.playground.autoregressive:Autoregressive2D",
}


@dataclass(frozen=True)
class Slider:
    """A view setting the page shows as a slider (t of the noised cloud, the coupling layer …)."""

    label: str
    minimum: float
    maximum: float
    default: float
    integer: bool = False


@dataclass(frozen=True)
class View:
    """What the family's view adds: layers over the data (``main``) and in its own space
    (``side``), its own numbers, and the samples when drawing the view made them anyway
    (a sampler's paths); otherwise the job draws them with ``sample``."""

    main: list[Layer]
    side: list[Layer]
    stats: dict[str, float]
    samples: Tensor | None = None


class Model2D(nn.Module):
    name = ""
    label = ""
    paper = ""  # the reference shown under the family picker
    Config: type = object
    default_lr = 1e-3
    loss_label = "loss"  # what the loss curve shows (the first value train_step returns)
    loss_falls = True  # False for adversarial losses, which need not fall while the model improves
    slider: Slider | None = None
    side_title = ""
    side_axes = ("", "")
    side_equal = True
    side_mirrored = False  # the side plot draws a second plot downwards: its y ticks show magnitudes
    batches_per_step = 1  # real batches each train_step takes (a GAN's D steps + 1)

    def __init__(self, config: Any, seed: int = 0):
        super().__init__()
        self.config = config
        self.generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.build(config)

    # --- what each family defines ------------------------------------------------------------
    def build(self, config: Any) -> None:
        raise NotImplementedError

    def optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        """One Adam over all parameters unless the family needs more (GANs keep two)."""
        return [adam(self.parameters(), lr)]

    def train_step(self, batches: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        """One training step on ``batches`` (batches_per_step, B, 2) of data; returns the losses,
        the loss curve's first."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` samples (n, 2) from the model, drawn with ``generator`` (default: the model's)."""
        raise NotImplementedError

    @torch.no_grad()
    def view(self, data: Tensor, setting: float | None) -> View:
        """The family's own layers for the data ``data`` (N, 2) at the slider's ``setting``."""
        raise NotImplementedError

    # --- shared helpers -------------------------------------------------------------------
    def randn(self, *shape: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(*shape, generator=generator or self.generator)

    def rand(self, *shape: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.rand(*shape, generator=generator or self.generator)


def adam(params, lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) with the fused kernel: one C++ call updates every parameter
    instead of a Python loop over them (a tiny model's step is mostly such overhead: the
    coupling flow's step 6.5 → 4.1 ms of CPU, measured; same update up to float rounding)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


def descend(loss: Tensor, optimizer: torch.optim.Optimizer) -> Tensor:
    """One gradient step on ``loss``; returns the loss, detached (for reporting)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def mlp(n_in: int, n_out: int, hidden: int = 64, depth: int = 2, act: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    """``depth`` hidden layers of ``hidden`` units."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), act()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def time_features(t: Tensor, dims: int = 16) -> Tensor:
    """Sinusoidal features of t ∈ [0, 1] (Vaswani et al. 2017 §3.5, as in Ho et al. 2020's U-Net),
    (B,) → (B, dims), with frequencies 1 … 1000 scaled to t's unit interval."""
    half = dims // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (math.log(1000.0) / max(half - 1, 1)))
    angle = t.reshape(-1, 1).float() * freqs
    return torch.cat([angle.sin(), angle.cos()], 1)


def ema_of(net: nn.Module, decay: float = 0.99) -> torch.optim.swa_utils.AveragedModel:
    """An exponential moving average of ``net``'s weights (``update_parameters(net)`` after each
    step): what diffusion models sample with (Ho et al. 2020 §4, "EMA"); decay 0.99 follows the
    learning within about a hundred steps while smoothing the step-to-step jitter."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def family_names() -> list[str]:
    return list(FAMILIES)


def get_family(name: str) -> type[Model2D]:
    if name not in FAMILIES:
        raise SpecError(f"unknown playground family {name!r}; choose one of {', '.join(FAMILIES)}", "family")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def options_text(options: dict[str, Any]) -> str:
    """Options as the Playground's status line names them: "beta = 8.0, latent = 1"."""
    return ", ".join(f"{k} = {v}" for k, v in options.items())


def described(family: str, options: dict[str, Any]) -> str:
    """A family as the status line names it: "VAE (beta = 8.0)" (just "VAE" with no options)."""
    text = options_text(options)
    return f"{get_family(family).label} ({text})" if text else get_family(family).label


def build_family(name: str, options: dict[str, Any] | None = None, seed: int = 0) -> Model2D:
    """A family's model from its name and options (checked: a bad one is a ``SpecError`` naming
    ``options.<field>``)."""
    family = get_family(name)
    try:
        config = config_from_dict(family.Config, dict(options or {}))
    except ValueError as exc:
        field = str(exc).split("=")[0].split()[-1] if "=" in str(exc) else None
        raise SpecError(f"{family.label}: {exc}", f"options.{field}" if field else "options") from None
    return family(config, seed)
