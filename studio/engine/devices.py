"""Device and precision choice: cuda > mps > cpu; bf16 only where it is fast and the family's quality holds."""

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


# Families whose default run trained in bf16 autocast to the same held-out quality as in fp32
# (within seed noise): the README's "bf16 against fp32" table. `--precision auto` gives the
# others fp32; add a family here only with its row in that table.
BF16_PROVEN_FAMILIES = frozenset({"autoencoder", "vae", "cvae", "dcgan", "cdcgan", "wgan-gp", "ddpm", "realnvp", "pixelcnn"})


def cpu_bf16_kind() -> str:
    """How this CPU runs bf16 matmuls and convolutions: ``"amx"`` (AMX tiles), ``"avx512-bf16"``
    (AVX-512 BF16 dot products without AMX, e.g. AMD EPYC Zen 4) or ``"emulated"`` (AVX2 alone,
    or a CPU torch cannot tell about)."""
    cpu = getattr(torch, "cpu", None)

    def has(name: str) -> bool:
        return bool(getattr(cpu, name, lambda: False)())

    if has("_is_amx_tile_supported"):
        return "amx"
    if has("_is_avx512_bf16_supported"):
        return "avx512-bf16"
    return "emulated"


def cpu_has_fast_bf16() -> bool:
    """Whether bf16 autocast trains faster than fp32 here. With AMX, 1.4-1.6x (Intel Xeon, issue
    20); with AVX-512-BF16 alone, 1.15-2.1x at one torch thread on an AMD EPYC (all nine
    families, bare training loop, fp32 and bf16 alternated in one run, 2026-11-30; an earlier
    "2x slower" on that CPU did not reproduce). On AVX2 alone bf16 is emulated, ~10x slower."""
    return cpu_bf16_kind() != "emulated"


def default_precision(device: torch.device, family: str | None = None) -> str:
    """What ``auto`` means: bf16 where it is fast (CUDA with bf16, CPUs with AMX or AVX-512-BF16)
    and, given ``family``, only for a family in ``BF16_PROVEN_FAMILIES``; fp32 otherwise."""
    if family is not None and family not in BF16_PROVEN_FAMILIES:
        return "fp32"
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


def resolve_precision(name: str, device: torch.device, family: str | None = None) -> str:
    """``"fp32"`` or ``"bf16"`` for a spec's precision; ``auto`` as ``default_precision``.
    Raises ValueError for an unknown name."""
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}")
    return default_precision(device, family) if name == "auto" else name


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
