"""The interface every model family implements, and the config/capability helpers.

A family is one ``GenerativeModel`` subclass in one file. The engine, the CLI and the
GUI only talk to this interface; panels enable features from ``capabilities`` instead
of testing family names.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, ContextManager

import torch
from torch import Tensor, nn

Autocast = Callable[[], ContextManager[Any]]


def no_autocast() -> ContextManager[Any]:
    return contextlib.nullcontext()


@dataclass(frozen=True)
class Capabilities:
    """What a trained model can do; the GUI enables its features from this."""

    encode: bool = False  # image -> latent
    decode: bool = False  # latent -> image
    sample: bool = True  # draw new images
    reconstruct: bool = False  # image -> image through the bottleneck
    denoise_step: bool = False  # one reverse-diffusion step (diffusion viewer)
    exact_likelihood: bool = False
    class_conditional: bool = False
    samplers: tuple[str, ...] = ()  # names accepted by sample(sampler=...)
    latent_dim: int | None = None  # set per instance (depends on the config)


def param(default: Any, *, min: float | None = None, max: float | None = None,
          choices: tuple | None = None, help: str = "") -> Any:
    """A config field with the metadata the CLI validates and the GUI form shows."""
    meta = {"min": min, "max": max, "choices": choices, "help": help}
    return dataclasses.field(default=default, metadata=meta)


def validate_config(config: Any) -> None:
    """Raise ``ValueError`` naming the first field outside its declared range."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        lo, hi, choices = f.metadata.get("min"), f.metadata.get("max"), f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise ValueError(f"{f.name}={value!r} is not one of {', '.join(map(str, choices))}")
        if lo is not None and value < lo:
            raise ValueError(f"{f.name}={value!r} is below its minimum {lo}")
        if hi is not None and value > hi:
            raise ValueError(f"{f.name}={value!r} is above its maximum {hi}")


def config_from_dict(config_cls: type, values: dict[str, Any]) -> Any:
    """Build a config, rejecting unknown keys and coercing to the declared field types."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(fields)}")
    coerced = {}
    for name, value in values.items():
        kind = type(fields[name].default)
        try:
            coerced[name] = kind(value) if kind in (int, float, str) and not isinstance(value, kind) else value
        except (TypeError, ValueError):
            raise ValueError(f"{name}={value!r} is not a valid {kind.__name__}") from None
        if kind is bool and isinstance(value, str):
            coerced[name] = value.lower() in ("1", "true", "yes", "on")
    config = config_cls(**coerced)
    validate_config(config)
    return config


class GenerativeModel(nn.Module):
    """Base class of every family.

    Images enter and leave as float tensors in [-1, 1], shape (N, C, H, W).
    ``image_shape`` is (C, H, W) of the dataset; H == W is one of 28, 32 or 64.
    """

    family: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    Config: ClassVar[type]
    default_lr: ClassVar[float] = 1e-3
    default_batch_size: ClassVar[int] = 128
    default_steps: ClassVar[int] = 2000
    preview_every: ClassVar[int] = 250  # steps between live preview grids
    # quick / standard / quality: overrides of steps, batch_size and config fields
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, config: Any, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__()
        self.config = config
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes

    # --- training -----------------------------------------------------------------
    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        """One full update (forward, backward, optimizer step(s), EMA).

        Returns named scalar metrics as detached 0-d tensors; the first key is the
        headline curve (``recon``, ``loss``, ``d_loss``, ``eps_mse``...)."""
        raise NotImplementedError

    # --- generation ---------------------------------------------------------------
    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """The starting noise of ``sample``; the engine keeps a fixed one for previews."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               **options: Any) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def preview(self, noise: Tensor, real: Tensor) -> Tensor:
        """Images for the live preview grid: samples from ``noise`` (and, for
        autoencoders, reconstructions of ``real`` appended after them)."""
        return self.sample(noise.shape[0], noise=noise)

    # --- optional, per capabilities ---------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{self.family} has no encoder")

    def decode(self, z: Tensor) -> Tensor:
        raise NotImplementedError(f"{self.family} has no decoder")

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    # Families with ``denoise_step`` (diffusion) also provide ``predict_noise(x_t, t)`` and
    # ``make_scheduler(sampler, steps, eta)``; the scheduler's ``step`` returns
    # ``(prev_sample, pred_original_sample)`` so a viewer can drive the loop itself.

    @torch.no_grad()
    def evaluate(self, x: Tensor) -> dict[str, float]:
        """Held-out metrics on a batch (e.g. the VAE's negative ELBO in nats)."""
        return {}
