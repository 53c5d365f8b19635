"""The family registry: one name per model family, shared by CLI, GUI and run.json.

Importing it does not import torch: the window lists the families and builds, fills and checks
their forms (``family_options``) before torch has loaded; ``GenerativeModel`` and the model
classes (``get_family``) are imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import Capabilities, FamilyOptions, config_from_dict, param, validate_config

if TYPE_CHECKING:
    from .base import GenerativeModel

# name -> "module:Class"; modules are imported on first use so the registry is cheap.
_FAMILIES = {
    "autoencoder": "studio.models.autoencoder:Autoencoder",
    "vae": "studio.models.vae:VAE",
    "dcgan": "studio.models.dcgan:DCGAN",
    "ddpm": "studio.models.ddpm:DDPM",
    "cdcgan": "studio.models.cdcgan:CDCGAN",
    "cvae": "studio.models.cvae:CVAE",
    "wgan-gp": "studio.models.wgan_gp:WGANGP",
    "realnvp": "studio.models.realnvp:RealNVP",
    "pixelcnn": "studio.models.pixelcnn:PixelCNN",
}


def family_names() -> list[str]:
    return list(_FAMILIES)


def __getattr__(name: str) -> Any:
    if name != "GenerativeModel":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".base", __name__), name)


def _target(name: str) -> tuple[str, str]:
    try:
        module, cls = _FAMILIES[name].split(":")
    except KeyError:
        raise ValueError(f"unknown family {name!r}; choose one of {', '.join(_FAMILIES)}") from None
    return module, cls


def family_options(name: str) -> type[FamilyOptions]:
    """The family's options, capabilities and training defaults (``options.py``) without
    importing torch; ``get_family(name)`` is its subclass with the networks. ValueError naming
    the known families for an unknown name."""
    from . import options

    return getattr(options, _target(name)[1] + "Options")


def get_family(name: str) -> type[GenerativeModel]:
    module, cls = _target(name)
    return getattr(importlib.import_module(module), cls)


def build_model(name: str, options: dict, image_shape: tuple[int, int, int],
                num_classes: int = 0) -> GenerativeModel:
    family = get_family(name)
    config = config_from_dict(family.Config, options)
    return family(config, image_shape, num_classes)


__all__ = ["Capabilities", "FamilyOptions", "GenerativeModel", "build_model", "config_from_dict", "family_names",
           "family_options", "get_family", "param", "validate_config"]
