"""Train the bundled demo runs with the project's own CLI and trim them for shipping.

    python scripts/build_demo_models.py [DEMO ...]   # default: all of DEMOS below

Each demo is a complete run folder in ``resources/models/<demo>-fashion-mnist/`` trained with
default settings (``studio train --family F --data fashion-mnist-5k --seed 0``, plus the demo's
options; the exact command is in its run.json). Trimming keeps the latest weights (safetensors), the metrics, run.json and
the last sample grid; it drops older checkpoints and the optimizer state (demos are opened
read-only, so they are not resumable) to keep the bundle small.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMOS = ROOT / "resources" / "models"
# demo name -> (family, extra CLI arguments); no extras: the family's defaults are the demo
DEMO_SPECS: dict[str, tuple[str, list[str]]] = {
    "vae": ("vae", []),
    "ddpm": ("ddpm", []),
    "ddpm-cfg": ("ddpm", ["--set", "class_conditional=true"]),  # classifier-free guidance
    "dcgan": ("dcgan", []),
    "autoencoder": ("autoencoder", []),
    "pixelcnn": ("pixelcnn", []),  # class-conditional on these labels: "Draw samples" shows it pixel by pixel
}


def train(name: str, data: str = "fashion-mnist-5k") -> Path:
    family, extra = DEMO_SPECS[name]
    run_dir = DEMOS / f"{name}-{data.replace('-5k', '')}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    command = [sys.executable, "-m", "studio", "train", "--family", family, "--data", data, "--seed", "0",
               *extra, "--run-dir", str(run_dir.relative_to(ROOT))]
    print("$", " ".join(command[2:]), flush=True)
    start = time.time()
    subprocess.run(command, cwd=ROOT, check=True)
    print(f"{name}: trained in {time.time() - start:.0f} s", flush=True)
    return run_dir


def trim(run_dir: Path) -> None:
    checkpoints = run_dir / "checkpoints"
    latest = json.loads((checkpoints / "latest.json").read_text())
    for path in checkpoints.iterdir():
        if path.name not in (latest["weights"], "latest.json"):
            path.unlink()
    # the pointer names a state file that demos don't ship: point it at the weights alone
    latest["state"] = None
    (checkpoints / "latest.json").write_text(json.dumps(latest, indent=2) + "\n")
    samples = sorted((run_dir / "samples").glob("*.png"))
    for path in samples[:-1]:
        path.unlink()
    meta = json.loads((run_dir / "run.json").read_text())
    meta["demo"] = True
    meta["command"] = [part.replace(str(ROOT) + os.sep, "") for part in meta.get("command", [])]
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    size = sum(p.stat().st_size for p in run_dir.rglob("*") if p.is_file())
    print(f"{run_dir}: {size / 1e6:.1f} MB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demos", nargs="*", default=list(DEMO_SPECS), choices=list(DEMO_SPECS), metavar="DEMO",
                        help=f"one of {', '.join(DEMO_SPECS)} (default: all)")
    args = parser.parse_args()
    for name in args.demos:
        trim(train(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
