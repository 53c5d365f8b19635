"""Device and precision choice: cuda > mps > cpu; bf16 only where it is fast."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, ContextManager

import torch

from ..specs import DEVICES, PRECISIONS  # the names a spec may use


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.insert(0, "cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.insert(0, "mps")
    return found


def resolve_device(name: str = "auto") -> torch.device:
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        for candidate in ("cuda", "mps"):
            if candidate in available_devices():
                return torch.device(candidate)
        return torch.device("cpu")
    if name not in available_devices():
        raise ValueError(f"device {name!r} is not available here; available: "
                         f"{', '.join(available_devices())}")
    return torch.device(name)


def cpu_has_fast_bf16() -> bool:
    """AMX tiles: bf16 autocast is then 1.7-2.3x faster than fp32 for our conv models.
    AVX-512-BF16 alone is not enough: on an AMD EPYC with it and no AMX, a VAE step in bf16
    ran at half the fp32 speed (measured 2026-11-22); on AVX2 alone bf16 is emulated and
    ~10x slower."""
    cpu = getattr(torch, "cpu", None)
    return bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def default_precision(device: torch.device) -> str:
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


def resolve_precision(name: str, device: torch.device) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}")
    return default_precision(device) if name == "auto" else name


def autocast_factory(device: torch.device, precision: str) -> Callable[[], ContextManager[Any]]:
    """A zero-argument callable giving the context a family runs its forward pass in."""
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def usable_cores() -> int:
    """Cores this process may run on (respects taskset / container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
