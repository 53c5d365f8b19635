"""Soak test: one long training with the process's resident memory sampled every few steps.

    python scripts/soak.py                                  # 3,000 steps of a tiny VAE
    python scripts/soak.py --family ddpm --steps 5000 --size default

Prints one JSON object: the RSS at the end of the warm-up (the first checkpoint with its held-out
evaluation and the first previews are in it), the peak and the final RSS after it, the growth in
percent, and ``ok`` (growth <= --limit, 5 % by default); exit 1 when not ok. The run trains
in-process (the training job the CLI and the window drive) on one torch thread; its folder is
temporary unless --run-dir is given.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--family", default="vae")
    p.add_argument("--data", default="fashion-mnist-5k")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--preview-every", type=int, default=250)
    p.add_argument("--size", choices=("tiny", "default"), default="tiny",
                   help="the tests' tiny model (default) or the family's default size")
    p.add_argument("--every", type=int, default=10, help="sample the RSS every N steps (default 10)")
    p.add_argument("--warmup", type=int, help="steps before the baseline (default: max(10%% of the steps, "
                   "the first checkpoint + 1))")
    p.add_argument("--limit", type=float, default=5.0, help="allowed growth after warm-up, percent (default 5)")
    p.add_argument("--run-dir", help="keep the run here (default: a temporary folder)")
    args = p.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else max(args.steps // 10, args.checkpoint_every + 1)
    if not 0 < warmup < args.steps:
        p.error(f"the warm-up ({warmup} steps) must be shorter than --steps ({args.steps})")

    import psutil
    import torch

    from fault_inject import _tiny_options
    from studio.engine import TrainJob, TrainSpec
    from studio.engine.reporting import Reporter

    torch.set_num_threads(1)
    process = psutil.Process()
    samples: list[tuple[int, int]] = []  # (step, rss bytes)

    class Sampler(Reporter):
        def progress(self, progress) -> None:
            if progress.step % args.every == 0 or progress.step == 1:
                samples.append((progress.step, process.memory_info().rss))

    options = _tiny_options().get(args.family, {}) if args.size == "tiny" else {}
    spec = TrainSpec(family=args.family, data=args.data, steps=args.steps, batch_size=args.batch_size, seed=0,
                     device="cpu", precision="fp32", options=options, checkpoint_every=args.checkpoint_every,
                     preview_every=args.preview_every)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        run_dir = Path(args.run_dir) if args.run_dir else Path(tmp) / "run"
        start_rss, started = process.memory_info().rss, time.perf_counter()
        status = TrainJob.create(spec, run_dir, reporter=Sampler()).run()
        seconds = time.perf_counter() - started
    after = [rss for step, rss in samples if step >= warmup]
    baseline = next(rss for step, rss in samples if step >= warmup)
    peak, final = max(after), after[-1]
    growth = 100.0 * (peak - baseline) / baseline
    mb = lambda b: round(b / 2**20, 1)  # noqa: E731
    result = {"family": args.family, "size": args.size, "steps": args.steps, "status": status,
              "seconds": round(seconds, 1), "samples": len(samples), "warmup_steps": warmup,
              "rss_mb": {"before": mb(start_rss), "after_warmup": mb(baseline), "peak_after_warmup": mb(peak),
                         "final": mb(final)},
              "growth_pct": round(growth, 2), "limit_pct": args.limit, "ok": status == "finished" and growth <= args.limit,
              "cpu": _cpu_name(), "python": platform.python_version(), "torch": torch.__version__}
    print(json.dumps(result))
    return 0 if result["ok"] else 1


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
