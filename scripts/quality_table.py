"""The README's quality table: each family × dataset with FCD, KID, class coverage, NLL,
training time and device, from run folders — existing ones, or trained here with the CLI.

    python scripts/quality_table.py resources/models/*-fashion-mnist          # existing runs
    python scripts/quality_table.py --train vae,dcgan --data mnist-5k --root runs/quality
    python scripts/quality_table.py RUN... --out docs/quality.md --json docs/quality.json
    python scripts/quality_table.py RUN... --grids docs/quality    # + an 8×8 sample grid per run

Each dataset also gets a "real test split" row: the floor (the test images judged against the
train split, as a perfect model would be with that many images). Families that sample slowly
(diffusion, PixelCNN on a CPU) are judged on as many samples as fit in --sampling-budget
seconds (at least 100): FCD is biased upwards for small samples, KID is not, so compare those
rows by KID.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.export import folder_problem, write_problem  # noqa: E402
from studio.metrics import evaluate_run, floor  # noqa: E402
from studio.metrics.classifier import classifier_info  # noqa: E402
from studio.runs import Run, RunError, atomic_write_bytes, atomic_write_json  # noqa: E402

NLL_KEYS = (("iwae_nats", "{:.1f} nats (IWAE k=100)"), ("nll_bits_per_dim", "{:.3f} bits/dim"),
            ("bits_per_dim", "{:.3f} bits/dim"), ("neg_elbo_nats", "{:.1f} nats (−ELBO)"))


def train(family: str, data: str, root: Path, extra: list[str]) -> Path:
    """Train a default-setting run with the project's CLI (the command lands in run.json)."""
    run_dir = root / f"{family}-{data}"
    if (run_dir / "run.json").exists():
        print(f"{run_dir} exists: evaluating it as it is", flush=True)
        return run_dir
    command = [sys.executable, "-m", "studio", "train", "--family", family, "--data", data, "--run-dir",
               str(run_dir), *extra]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    return run_dir


def affordable_samples(run: Run, n: int, budget_s: float) -> int:
    """``n``, or fewer (in hundreds, at least 100) when sampling ``n`` would take over ``budget_s``."""
    from studio.metrics import generate
    from studio.runs import load_model

    model = load_model(run)
    start = time.perf_counter()
    generate(model, 8)
    per_image = (time.perf_counter() - start) / 8
    return n if n * per_image <= budget_s else max(100, int(budget_s / per_image) // 100 * 100)


def train_seconds(run: Run) -> float | None:
    """Wall time of training: the clock of the last metrics record (it continues across resumes;
    bundled demo runs keep their metrics but not their optimizer state)."""
    times = [r["time"] for r in run.read_metrics() if isinstance(r.get("time"), (int, float))]
    return max(times) if times else None


def nll_text(likelihood: dict[str, float], conditional: bool = False) -> str:
    """The headline likelihood; a class-conditional model's is of p(x | class), which is
    lower than an unconditional model's p(x) would be."""
    for key, fmt in NLL_KEYS:
        if key in likelihood:
            return fmt.format(likelihood[key]) + (" given the class" if conditional else "")
    return "—"


def family_text(row: dict) -> str:
    """The family, with the options it was trained with (``ddpm (class_conditional=True)``)."""
    options = row.get("options") or {}
    return row["family"] + (f" ({', '.join(f'{k}={v}' for k, v in options.items())})" if options else "")


def save_sample_grid(run: Run, folder: Path) -> Path:
    """64 samples (seed 0; conditional models cycle through the classes) as ``<run name>.png``."""
    from studio.imaging import make_grid, save_png
    from studio.metrics import generate
    from studio.runs import load_model

    images = generate(load_model(run), 64, seed=0).float() / 127.5 - 1  # uint8 → [-1, 1]
    return save_png(make_grid(images, ncol=8), folder / f"{run.path.name}.png", scale=2)


def row_of(run: Run, result: dict) -> dict:
    from studio.runs import load_model

    samples = result.get("samples")
    seconds = train_seconds(run)
    conditional = bool(load_model(run).capabilities.class_conditional)
    return {"family": run.family, "options": run.meta.get("options") or {}, "data": run.meta["data"], "steps": run.step,
            "n": samples["n"] if samples else None,
            "fcd": samples["fcd"] if samples else None, "kid": samples["kid"] if samples else None,
            "coverage": f"{samples['coverage']}/{samples['num_classes']}" if samples else "—",
            "entropy_bits": samples["class_entropy_bits"] if samples else None,
            "nll": nll_text(result.get("likelihood", {}), conditional), "likelihood": result.get("likelihood", {}),
            "class_conditional": conditional,
            "train_s": seconds, "device": f"{run.meta.get('device', '?')} {run.meta.get('precision', '')}".strip(),
            "run": str(run.path)}


def floor_row(data: str) -> dict:
    q = floor(data)
    info = classifier_info(data)
    return {"family": "real test split (floor)", "data": data, "steps": None, "n": q["n"], "fcd": q["fcd"],
            "kid": q["kid"], "coverage": f"{q['coverage']}/{q['num_classes']}", "entropy_bits": q["class_entropy_bits"],
            "nll": "—", "likelihood": {}, "train_s": None,
            "device": f"classifier acc. {info.test_accuracy:.1%}" if info else "", "run": ""}


def markdown(rows: list[dict]) -> str:
    def num(v, fmt):
        return "—" if v is None else format(v, fmt)

    def duration(s):
        return "—" if s is None else f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s"

    lines = ["| family | dataset | steps | samples | FCD ↓ | KID ×10³ ↓ | coverage | NLL ↓ | train time | device |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
    for r in rows:
        kid = None if r["kid"] is None else r["kid"] * 1e3
        lines.append(f"| {family_text(r)} | {r['data']} | {num(r['steps'], 'd')} | {num(r['n'], 'd')} | "
                     f"{num(r['fcd'], '.2f')} | {num(kid, '.1f')} | {r['coverage']} | {r['nll']} | "
                     f"{duration(r['train_s'])} | {r['device']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run folders to evaluate")
    parser.add_argument("--train", help="comma-separated families to train first with 'studio train' (defaults)")
    parser.add_argument("--data", default="fashion-mnist-5k", help="dataset of the runs trained with --train")
    parser.add_argument("--root", default="runs/quality", help="where --train puts its runs")
    parser.add_argument("--train-args", default="", help="extra 'studio train' arguments, e.g. '--steps 500'")
    parser.add_argument("--n", type=int, default=5000, help="samples per run (default 5000)")
    parser.add_argument("--sampling-budget", type=float, default=600,
                        help="seconds of sampling per run at most (timed on 8 samples; default 600)")
    parser.add_argument("--nll-images", type=int, default=1000, help="test images for likelihoods (default 1000)")
    parser.add_argument("--out", help="also write the Markdown table here")
    parser.add_argument("--json", help="also write all numbers as JSON here")
    parser.add_argument("--grids", help="also save an 8×8 sample grid of each run in this folder")
    args = parser.parse_args(argv)
    for flag, path in (("--out", args.out), ("--json", args.json)):  # checked before hours of evaluating
        if path and (problem := write_problem(path)):
            parser.error(f"{flag} {path}: {problem}")
    if args.grids and (problem := folder_problem(args.grids)):
        parser.error(f"--grids {args.grids}: {problem}")

    folders = [Path(p) for p in args.runs]
    if args.train:
        folders += [train(f, args.data, Path(args.root), args.train_args.split()) for f in args.train.split(",")]
    if not folders:
        parser.error("give run folders, or --train FAMILIES")
    rows, datasets = [], []
    for folder in folders:
        try:
            run = Run.open(folder)
        except RunError as exc:
            print(f"skipped {folder}: {exc}", file=sys.stderr)
            continue
        n = affordable_samples(run, args.n, args.sampling_budget)
        print(f"evaluating {run.path} on {n} samples ...", flush=True)
        result = evaluate_run(run, n=n, nll_images=args.nll_images)
        rows.append(row_of(run, result))
        if args.grids and "samples" in result:
            print(f"grid: {save_sample_grid(run, Path(args.grids))}", flush=True)
        if "samples" in result and run.meta["data"] not in datasets:
            datasets.append(run.meta["data"])
    rows += [floor_row(d) for d in datasets]
    rows.sort(key=lambda r: (r["data"], r["run"] == "", r["family"]))  # the floor (no run) last
    table = markdown(rows)
    print(table)
    if args.out:
        atomic_write_bytes(Path(args.out), (table + "\n").encode())
    if args.json:
        atomic_write_json(Path(args.json), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
