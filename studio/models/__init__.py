"""The family registry: one name per model family, shared by CLI, GUI and run.json.

Importing it does not import torch (the window lists the families before torch has loaded);
``base``'s names below are imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Capabilities, GenerativeModel, config_from_dict, param, validate_config

_BASE_NAMES = ("Capabilities", "GenerativeModel", "config_from_dict", "param", "validate_config")

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
    if name not in _BASE_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".base", __name__), name)


def get_family(name: str) -> type[GenerativeModel]:
    try:
        target = _FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; choose one of {', '.join(_FAMILIES)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def build_model(name: str, options: dict, image_shape: tuple[int, int, int],
                num_classes: int = 0) -> GenerativeModel:
    from .base import config_from_dict

    family = get_family(name)
    config = config_from_dict(family.Config, options)
    return family(config, image_shape, num_classes)


__all__ = ["Capabilities", "GenerativeModel", "build_model", "config_from_dict", "family_names",
           "get_family", "param", "validate_config"]
