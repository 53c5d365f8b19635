"""Random numbers that are device-correct and kept in separate streams.

Device.  ``torch.randn(..., generator=g, device=d)`` fails when ``g`` lives on another device
than ``d`` (a CPU ``torch.Generator`` with a CUDA model: "Expected a 'cuda' device type for
generator"). ``randn`` / ``rand`` here draw on the generator's own device and move the result,
so a CPU generator gives the *same numbers* on CPU, CUDA and MPS (a seed names one image
everywhere), and a device generator keeps its speed.

Streams.  Sampling needs two independent noises: the starting noise x_T and the per-step noise
z of stochastic samplers (ancestral DDPM, DDIM with η > 0). Drawn from one generator seeded
once, the first z repeats x_T when the two are seeded alike. ``streams(seed)`` gives one
generator per purpose with seeds derived by numpy's ``SeedSequence`` (independent streams
from one user seed; O'Neill, PCG, and NumPy's "parallel random number generation" guide).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

# stream numbers: never reorder (a seed must keep naming the same images)
NOISE, STEPS, GLOBAL = 0, 1, 2  # x_T, per-step z, torch's global generator (what a family draws without one)


def derived_seed(seed: int, stream: int) -> int:
    """A 63-bit seed for ``stream`` of the user's ``seed`` (independent across streams)."""
    state = np.random.SeedSequence([int(seed), int(stream)]).generate_state(1, np.uint64)[0]
    return int(state) & (2 ** 63 - 1)


def generator(seed: int, stream: int = NOISE) -> torch.Generator:
    """A CPU generator for ``stream`` of ``seed`` (CPU: the same numbers on every device)."""
    return torch.Generator().manual_seed(derived_seed(seed, stream))


def streams(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """(generator of x_T, generator of the per-step noise z) for one sampling seed."""
    return generator(seed, NOISE), generator(seed, STEPS)


def randn(shape, generator: torch.Generator | None = None, device=None,
          dtype: torch.dtype | None = None) -> Tensor:
    """N(0, 1) numbers of ``shape`` on ``device``: drawn on ``generator``'s own device, then
    moved (without a generator: torch's default generator of ``device``)."""
    if generator is None:
        return torch.randn(shape, device=device, dtype=dtype)
    x = torch.randn(shape, generator=generator, device=generator.device, dtype=dtype)
    return x if device is None else x.to(device)


def rand(shape, generator: torch.Generator | None = None, device=None,
         dtype: torch.dtype | None = None) -> Tensor:
    """U[0, 1) numbers, device-correct like ``randn``."""
    if generator is None:
        return torch.rand(shape, device=device, dtype=dtype)
    x = torch.rand(shape, generator=generator, device=generator.device, dtype=dtype)
    return x if device is None else x.to(device)
