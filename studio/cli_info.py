"""The listing and measuring commands of the CLI (``studio runs | datasets | families | bench``):
they show what exists and time this machine, writing nothing but temporary folders. Registered
by ``studio.cli``; the same rules hold: bad input gives one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .errors import UsageError, bad_input


def add_parsers(sub) -> None:
    """The four subcommands, added to the ``studio`` parser's subparsers."""
    runs = sub.add_parser("runs", help="list runs: name, family, data, steps, status")
    runs.add_argument("--root", help="folder holding runs (default: $STUDIO_RUNS_DIR or ~/generative-studio/runs)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of a table")

    sub.add_parser("datasets", help="list the named datasets")
    sub.add_parser("families", help="list model families, their capabilities and options")

    bench = sub.add_parser("bench", help="run a benchmark: a table, then one JSON object on the last line")
    bench.add_argument("name", help="benchmark name: engine, ui, latent, diffusion, metrics, contention, playground "
                       "or speedups")
    bench.add_argument("--json", action="store_true", help="(kept for old scripts: the JSON line is always printed)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    bench.add_argument("--long", action="store_true",
                       help="engine, contention: the long version (more and longer rounds, tens of minutes)")
    bench.add_argument("--quality", type=int, metavar="N",
                       help="diffusion: also compare FCD/KID of N DDIM-50 and N DDPM-1000 samples of the demo DDPM "
                            "(slow: 200 take over half an hour on 2 cores)")
    bench.add_argument("--families", help="comma-separated subset of families")
    bench.add_argument("--resolutions", help="speedups: comma-separated image sides (default 28,64)")
    bench.add_argument("--compile", action="store_true",
                       help="speedups: also time torch.compile against eager (minutes of compiling per family)")


def cmd_runs(args: argparse.Namespace) -> int:
    from .runs import default_runs_root, scan_runs

    root = Path(args.root) if args.root else default_runs_root()
    if args.root and not root.is_dir():
        raise UsageError(f"error: runs folder {root} does not exist")
    runs, damaged = scan_runs(root)
    rows = [{"name": r.name, "family": r.family, "data": r.meta.get("data"), "steps": r.step,
             "status": r.status, "updated": r.meta.get("updated", ""), "path": str(r.path)} for r in runs]
    rows += [{"name": path.name, "family": "?", "data": "?", "steps": "?", "status": "damaged", "updated": "",
              "path": str(path), "reason": reason} for path, reason in damaged]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"no runs under {root}")
        return 0
    _print_table(rows, ["name", "family", "data", "steps", "status", "updated"])
    for row in rows[len(runs):]:
        print(f"damaged: {row['name']}: {row['reason']}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import dataset_names

    for name in dataset_names():
        print(name)
    print("folder:PATH  (any folder of images; subfolders become labels)")
    return 0


def cmd_families(args: argparse.Namespace) -> int:
    import dataclasses

    from .models import family_names, get_family

    for name in family_names():
        family = get_family(name)
        caps = [k for k, v in dataclasses.asdict(family.capabilities).items() if v is True]
        print(f"{name}: steps {family.default_steps}, batch {family.default_batch_size}, lr {family.default_lr}; "
              f"can {', '.join(caps)}")
        for f in dataclasses.fields(family.Config):
            print(f"    --set {f.name}={f.default!r:<10} {f.metadata.get('help', '')}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmark

    try:
        extra = {k: v for k, v in {"long": args.long or None, "quality": args.quality, "compile": args.compile or None,
                                   "resolutions": _sides(args.resolutions)}.items() if v is not None}
        return run_benchmark(args.name, json_output=args.json, quick=args.quick,
                             families=args.families.split(",") if args.families else None, **extra)
    except ValueError as exc:
        raise bad_input(exc) from None


def _sides(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        sides = [int(part) for part in text.split(",")]
    except ValueError:
        sides = []
    if not sides or min(sides) < 8:
        raise UsageError(f"error: --resolutions takes image sides of at least 8 px like 28,64, got {text!r}")
    return sides


CELL_MAX = 40  # a column's most characters: one long run name kept every row 150 wide


def elide_middle(text: str, most: int = CELL_MAX) -> str:
    """``text`` cut to ``most`` characters with "…" in the middle (start and end kept: run names
    differ at their end, a timestamp); ``studio runs --json`` keeps the whole names."""
    if len(text) <= most:
        return text
    head = (most - 1) // 2 + (most - 1) % 2
    return f"{text[:head]}…{text[len(text) - (most - 1 - head):]}"


def _print_table(rows: list[dict], columns: list[str]) -> None:
    cells = [{c: elide_middle(str(r[c])) for c in columns} for r in rows]
    widths = {c: max(len(c), *(len(r[c]) for r in cells)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for r in cells:
        print("  ".join(r[c].ljust(widths[c]) for c in columns))


COMMANDS = {"runs": cmd_runs, "datasets": cmd_datasets, "families": cmd_families, "bench": cmd_bench}
