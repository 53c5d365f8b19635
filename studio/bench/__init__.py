"""``studio bench NAME``: benchmarks users can run; each prints a readable table and,
with ``--json``, one JSON object on the last line. Later features add their names here."""

from __future__ import annotations

import importlib
import json

BENCHMARKS = {"engine": "studio.bench.engine", "ui": "studio.bench.ui", "latent": "studio.bench.latent",
              "diffusion": "studio.bench.diffusion", "metrics": "studio.bench.metrics"}


def run_benchmark(name: str, json_output: bool = False, **options) -> int:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")
    result = importlib.import_module(BENCHMARKS[name]).run(**options)
    if json_output:
        print(json.dumps(result))
    return 0


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    """Columns are (key, format spec) pairs; the key is the header."""
    cells = [[format(r[k], f) if isinstance(r[k], (int, float)) else str(r[k]) for k, f in columns] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, (k, _) in enumerate(columns)]
    print("  ".join(k.rjust(w) for (k, _), w in zip(columns, widths)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))
