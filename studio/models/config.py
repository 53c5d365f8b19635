"""What a family declares without PyTorch: its options (a Config dataclass whose ``param``
fields carry ranges, choices and help), their validation, its capabilities and its training
defaults (``FamilyOptions``).

Torch-free on purpose: the CLI's checks and the window's Train page (its forms, their
validation, Start) read these while torch is still importing (``studio.qt.preload``); the
model classes (``GenerativeModel`` in ``base.py``) inherit them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

SUPPORTED_RESOLUTIONS = (28, 32, 64, 128)  # px: the conv nets and the U-Net add a stage per doubling


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
        if kind is str and isinstance(value, bool):  # a yes/no choice spelled "true"/"false"
            value = str(value).lower()
        try:
            coerced[name] = kind(value) if kind in (int, float, str) and not isinstance(value, kind) else value
        except (TypeError, ValueError):
            raise ValueError(f"{name}={value!r} is not a valid {kind.__name__}") from None
        if kind is bool and isinstance(value, str):
            coerced[name] = value.lower() in ("1", "true", "yes", "on")
    config = config_cls(**coerced)
    validate_config(config)
    return config


class FamilyOptions:
    """A family's name, options, capabilities and training defaults, without its networks.

    Each family declares one subclass in ``options.py`` (``VAEOptions``…); its model class
    inherits it first (``class VAE(VAEOptions, LatentAutoencoder)``), so every default has one
    home and ``models.family_options(name)`` answers without importing torch."""

    family: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    Config: ClassVar[type]
    default_lr: ClassVar[float] = 1e-3
    default_batch_size: ClassVar[int] = 128
    default_steps: ClassVar[int] = 2000
    preview_every: ClassVar[int] = 250  # steps between live preview grids
    early_preview_images: ClassVar[int] = 8  # samples in an early preview (studio.specs): one row
    # quick / standard / quality: overrides of steps, batch_size and config fields
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def needs_labels(cls, config: Any) -> bool:
        """Whether a model with ``config`` trains on class labels (the engine then refuses
        datasets without labels before it creates the run folder)."""
        return cls.capabilities.class_conditional
