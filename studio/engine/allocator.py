"""glibc's malloc kept from handing training memory back to the system after every step (Linux).

Why: PyTorch's CPU tensors come from ``malloc``. glibc returns the top of its heap to the
system whenever more than ``M_TRIM_THRESHOLD`` bytes lie free there, and serves blocks above
``M_MMAP_THRESHOLD`` with fresh ``mmap``s; both thresholds start small (128 KiB) and only adapt
upwards by the size of a freed mmapped block. A training step frees its activations and
gradients at the end and allocates them again at the next: measured on the default VAE at one
thread (2-core AMD EPYC), the process gave back and faulted in again 7,400-15,400 pages per step
— 16-34 ms of system time in a 174-202 ms step, different from one process to the next. With the
thresholds fixed (``packaging/train_speed.py``, alternated rounds), faults fell to ≤ 35 per step
and training ran 1.13-1.30× faster per CPU-second, with the same peak memory (620 vs 657 MB over
a 400-step run). The cost: memory a run freed stays with the process (up to ``TRIM_THRESHOLD``)
until it ends, instead of going back to the system.

Source: ``mallopt(3)`` (glibc): ``M_MMAP_THRESHOLD`` fixes the threshold and turns its dynamic
adjustment off; ``M_TRIM_THRESHOLD`` likewise. The environment variables ``MALLOC_MMAP_THRESHOLD_``
and ``MALLOC_TRIM_THRESHOLD_`` set the same at start-up; a user who sets either keeps theirs.
``STUDIO_ALLOCATOR=system`` leaves glibc's defaults alone.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Mapping

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h> parameter numbers
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # bytes: blocks below come from the heap and are reused (glibc's own upper bound)
TRIM_THRESHOLD = 1 * 2**30  # bytes: free memory at the heap's top kept for the next step, up to this
ENV_SWITCH = "STUDIO_ALLOCATOR"  # "system": leave malloc as it is

_done: bool | None = None


def tune_allocator(environ: Mapping[str, str] = os.environ) -> bool:
    """Fix glibc's mmap and trim thresholds for this process (once; later calls return the first
    answer). Returns whether they were set: False off Linux, without glibc's ``mallopt`` (musl),
    with ``STUDIO_ALLOCATOR=system``, or when the user set ``MALLOC_MMAP_THRESHOLD_`` or
    ``MALLOC_TRIM_THRESHOLD_`` themselves. Process-wide, safe to call from any thread."""
    global _done
    if _done is None:
        _done = _apply(environ)
    return _done


def _apply(environ: Mapping[str, str]) -> bool:
    if environ.get(ENV_SWITCH, "").strip().lower() == "system" or not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in environ or "MALLOC_TRIM_THRESHOLD_" in environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success, 0 on error
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
