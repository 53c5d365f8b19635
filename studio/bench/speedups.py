"""``studio bench speedups``: do channels-last activations or ``torch.compile`` make a training
step faster on this machine?

For each family (default: vae, dcgan, ddpm) and image side (``--resolutions``, default 28,64:
fashion-mnist-5k, resized for 64), one process builds the same model (same seed) in NCHW and in
channels-last layout (``models.convnets.set_channels_last``) and, with ``--compile``, a third copy
in the shipped layout compiled as ``studio train --compile`` compiles it. Their bare training steps
(``bench.engine.BareLoop``: default batch, fp32, this process's thread count) are timed in
alternating rounds, so drifting machine load hits all alike; each side's figure is the median of
its rounds. Ratios are the other side's seconds per step over this side's: above 1 it is faster.
The compile time is the compiled copy's first steps (tracing, Inductor codegen, the C++ build)
less as many eager steps. The layout each network ships with is ``convnets.CHANNELS_LAST``.

Length: 5 rounds of about 3 s per side (``--quick``: 1 of 0.3 s; ``--long``: 9 of 6 s), at least
3 steps per side and round. Measured here: see the README's "Bigger pictures on a GPU" section.
"""

from __future__ import annotations

import json
import math
import statistics
import time

import torch

from . import machine_info, print_table

DATA = "fashion-mnist-5k"
FAMILIES = ("vae", "dcgan", "ddpm")
LENGTHS = {"quick": (1, 0.3), "default": (5, 3.0), "long": (9, 6.0)}  # rounds, seconds per side
COMPILE_WARMUP = 3  # compiled steps counted as compiling (forward and backward graphs, the first recompile)


def run(quick: bool = False, long: bool = False, families: list[str] | None = None,
        resolutions: list[int] | None = None, compile: bool = False) -> dict:
    from ..data import load_dataset
    from ..engine.compiling import compile_refusal
    from ..models import get_family

    began = time.perf_counter()
    families = families or list(FAMILIES)
    for family in families:
        get_family(family)  # an unknown name: ValueError naming the choices
    resolutions = resolutions or [28, 64]
    length = "long" if long else "quick" if quick else "default"
    rounds, side_s = LENGTHS[length]
    results, rows = {}, []
    for side in resolutions:
        dataset = load_dataset(DATA, resolution=None if side == 28 else side)
        for family in families:
            refusal = compile_refusal(family) if compile else None
            entry = compare(family, dataset, rounds, side_s, compile and refusal is None)
            if refusal:
                entry["compile_refused"] = refusal
            results[f"{family}@{side}"] = entry
            print(f"{family}@{side}: {json.dumps(entry)}", flush=True)  # as it goes: a long run's partial figures
            rows.append({"family": family, "px": side, **{k: entry.get(k, "-") for k, _ in COLUMNS[2:]}})
    machine = machine_info()
    print(f"studio bench speedups — {DATA}, {length} length ({rounds} rounds × {side_s:g} s per side), fp32, "
          f"{torch.get_num_threads()} threads, {machine['cpu']}, load average {machine['load_average']}")
    print_table(rows, COLUMNS if compile else COLUMNS[:7])
    print("cl_ratio = NCHW s/step ÷ channels-last s/step (> 1: channels-last faster); compile_ratio = eager ÷ "
          "compiled (> 1: compiled faster, after compile_s of compiling)")
    for key, entry in results.items():
        if "compile_refused" in entry:
            print(f"{key}: {entry['compile_refused']}")
    return {"results": results, "threads": torch.get_num_threads(), "length": length,
            "seconds": time.perf_counter() - began, **machine}


COLUMNS = [("family", ""), ("px", "d"), ("batch", "d"), ("nchw_images_per_s", ".1f"),
           ("cl_images_per_s", ".1f"), ("cl_ratio", ".2f"), ("shipped", ""),
           ("compiled_images_per_s", ".1f"), ("compile_ratio", ".2f"), ("compile_s", ".0f")]


def compare(family: str, dataset, rounds: int, side_s: float, compile: bool = False) -> dict:
    """Images/s of the family's model in each layout (and compiled in the shipped one), timed in
    alternating rounds; see the module docstring."""
    from ..models import get_family
    from ..models.convnets import set_channels_last
    from .engine import BareLoop

    batch = get_family(family).default_batch_size
    built_cl = []  # whether the model as built (its networks' rule at this side) runs channels-last anywhere

    def layout(on: bool):
        def prepare(model) -> None:
            built_cl.append(any(getattr(m, "channels_last", False) for m in model.modules()))
            set_channels_last(model, on)
        return prepare

    loops = {name: BareLoop(family, dataset, "fp32", batch, prepare=layout(on))
             for name, on in (("nchw", False), ("cl", True))}
    shipped = "cl" if built_cl[0] else "nchw"
    step_s = min(loop.seconds_per_step(1, warmup=2) for loop in loops.values())
    compile_s = None
    if compile:
        # a fresh start: no code compiled for another size (whose sizes would turn symbolic: automatic dynamic
        # shapes) and the whole compile counted
        torch._dynamo.reset()
        loops["compiled"] = BareLoop(family, dataset, "fp32", batch, prepare=_compile(shipped == "cl"))
        warm = sum(loops["compiled"].step() for _ in range(COMPILE_WARMUP))
        compile_s = warm - COMPILE_WARMUP * step_s
    steps = max(3, min(200, math.ceil(side_s / step_s)))
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(rounds):
        for name, loop in loops.items():
            times[name].append(loop.seconds_per_step(steps, warmup=0))
    s = {name: statistics.median(t) for name, t in times.items()}
    entry = {"batch": batch, "nchw_images_per_s": batch / s["nchw"], "cl_images_per_s": batch / s["cl"],
             "cl_ratio": s["nchw"] / s["cl"], "shipped": "channels-last" if shipped == "cl" else "NCHW",
             "rounds": rounds, "steps_per_round": steps}
    if compile:
        entry.update(compiled_images_per_s=batch / s["compiled"], compile_ratio=s[shipped] / s["compiled"],
                     compile_s=compile_s, eager_images_per_s=batch / s[shipped])
    return entry


def _compile(channels_last: bool):
    def prepare(model) -> None:
        from ..engine.trainer import compile_networks
        from ..models.convnets import set_channels_last

        set_channels_last(model, channels_last)
        note = compile_networks(model, torch.device("cpu"))
        if note.startswith("--compile:"):  # no compiler here: say it instead of timing eager twice
            raise ValueError(note)
    return prepare
