"""engine.allocator: glibc keeps a step's freed memory for the next step instead of handing it back
(page faults counted with getrusage in fresh interpreters — no timing)."""

import subprocess
import sys

import pytest

from studio.engine import allocator

PROBE = """
import resource, sys
from studio.engine.allocator import tune_allocator
print(tune_allocator(), end=" ")
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):  # a training step's pattern: blocks of several sizes written, then all freed
    blocks = [bytearray(b"x") * (n * 2**20) for n in (3, 5, 9, 2, 7)]
    del blocks
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _probe(**env) -> tuple[str, int]:
    import os

    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tuned_malloc_stops_refaulting_freed_memory():
    tuned, tuned_faults = _probe()
    plain, plain_faults = _probe(STUDIO_ALLOCATOR="system")
    assert (tuned, plain) == ("True", "False")
    # 40 steps of 26 MiB: glibc's defaults give the top of the heap back and fault it in again at
    # every step (~6,600 pages a step); tuned, only the first step faults its pages in
    assert plain_faults > 20 * 6_600 and tuned_faults < 2 * 6_656


def test_the_user_s_own_malloc_settings_are_kept():
    assert not allocator._apply({"MALLOC_TRIM_THRESHOLD_": "131072"})
    assert not allocator._apply({"MALLOC_MMAP_THRESHOLD_": "131072"})
    assert not allocator._apply({"STUDIO_ALLOCATOR": "System"})


def test_training_tunes_the_allocator(monkeypatch, tmp_path):
    """The engine's one call: a run (CLI, window, torchrun rank) sets it before its first step."""
    from studio.engine import trainer

    calls = []
    monkeypatch.setattr(trainer, "tune_allocator", lambda: calls.append(1) or True)
    from studio.cli import main

    assert main(["train", "--family", "vae", "--steps", "1", "--batch-size", "4", "--set", "width=8",
                 "--preview-every", "0", "--run-dir", str(tmp_path / "r")]) == 0
    assert calls == [1]
