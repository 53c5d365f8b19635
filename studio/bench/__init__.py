"""``studio bench NAME``: benchmarks users can run; each prints a readable table and then
one JSON object on the last line (with ``meets_targets`` where the benchmark has targets;
``--json`` is accepted for old scripts). Later features add their names here."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import platform

# the Qt-driving ones (ui, latent, playground's page) live in the Qt layer and are imported only
# when run (the Qt layer imports the core's benchmarks, never the other way round)
BENCHMARKS = {"engine": "studio.bench.engine", "ui": "studio.qt.bench_ui", "latent": "studio.qt.bench_latent",
              "diffusion": "studio.bench.diffusion", "metrics": "studio.bench.metrics",
              "contention": "studio.bench.contention", "playground": "studio.qt.bench_playground",
              "speedups": "studio.bench.speedups"}


def run_benchmark(name: str, json_output: bool = False, **options) -> int:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")
    run = importlib.import_module(BENCHMARKS[name]).run
    for option in options:
        if option not in inspect.signature(run).parameters:
            raise ValueError(f"--{option} does not apply to 'studio bench {name}'")
    from ..engine.allocator import tune_allocator

    tune_allocator()  # as training has it, from the first timing on (the bare loops included)
    result = run(**options)
    print(json.dumps(result))
    return 0


def machine_info() -> dict:
    """What a timing needs next to it: the CPU model, usable cores and the 1-minute load
    average when the benchmark ended (None where the system has none)."""
    from ..engine.devices import usable_cores

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": usable_cores(), "load_average": load}


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    """Columns are (key, format spec) pairs; the key is the header."""
    cells = [[format(r[k], f) if isinstance(r[k], (int, float)) else str(r[k]) for k, f in columns] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, (k, _) in enumerate(columns)]
    print("  ".join(k.rjust(w) for (k, _), w in zip(columns, widths)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))
