"""Screenshots of every page of the studio window, the Train page mid-training.

    python scripts/screenshots.py OUT_DIR [--family vae] [--steps 300] [--batch-size 64]

Runs offscreen unless a display is available (e.g. under Xvfb). Uses a temporary runs folder
and temporary settings, so your own runs and preferences are untouched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the PNG files")
    parser.add_argument("--family", default="vae")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--at", type=float, default=0.7, help="grab the Train page at this fraction of the run")
    parser.add_argument("--size", default="1440x900", help="window size WIDTHxHEIGHT")
    parser.add_argument("--diffusion-run", help="a trained DDPM run for the Diffusion viewer (default: the bundled demo)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings

    from studio.qt.driver import Driver
    from studio.qt.main_window import MainWindow

    drive = Driver("studio-shots-")
    scratch, settle, wait_until = drive.scratch, drive.settle, drive.wait_until

    def grab(name: str) -> None:
        settle()
        path = out / f"{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")

    window = MainWindow(QSettings())
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    train = window.train
    wait_until(lambda: not train.setup.dataset.loading)
    grab("train-ready")

    train.setup.family.setCurrentText(args.family)
    train.setup.training_form.editors["steps"].setValue(args.steps)
    train.setup.training_form.editors["batch_size"].setValue(args.batch_size)
    if train.setup.reason:
        print(f"cannot start: {train.setup.reason}", file=sys.stderr)
        return 1
    train.start()
    wait_until(lambda: train.controls.last is not None and train.controls.last.step >= args.at * args.steps)
    grab("train")
    wait_until(lambda: not train.busy)
    grab("train-finished")

    from studio.runs import list_model_runs

    latent = window.latent  # the run just trained, with a point picked and an interpolation made
    window.show_page("latent")
    latent.picker.select(str(list_model_runs(scratch / "runs", with_demos=False)[0].path))
    wait_until(lambda: latent.space is not None and latent.frames_shown > 0)
    latent.show_example()
    wait_until(lambda: len(latent.interpolation.frames.frames) > 0)
    grab("latent")
    diffusion = window.diffusion  # mid-way through sampling a DDPM (given, or the bundled demo)
    window.show_page("diffusion")
    from studio.runs import demo_runs_root

    example = args.diffusion_run or str(demo_runs_root() / "ddpm-fashion-mnist")
    if Path(example, "run.json").is_file():
        diffusion.open_run(example)
        wait_until(lambda: diffusion.model is not None)
        top = diffusion.top  # DDIM, 50 steps, η = 1, 16 images: a run that reads well in a screenshot
        top.sampler.setCurrentIndex(top.sampler.findData("ddim"))
        top.steps.setValue(min(50, top.steps.maximum()))
        top.eta.setValue(1.0)
        top.batch.setValue(16)
        diffusion.run()
        wait_until(lambda: diffusion.trajectory is not None and diffusion.trajectory.done >= 0.6 * diffusion.trajectory.n)
    grab("diffusion")
    if diffusion.trajectory is not None:
        wait_until(lambda: not diffusion.busy)
        diffusion.mode_buttons.button(2).click()
        wait_until(lambda: diffusion.forward.process is not None)
        grab("diffusion-forward")
    window.show_page("runs")
    wait_until(lambda: window.runs.row_paths())
    window.runs.select(window.runs.row_paths()[0])
    wait_until(lambda: window.runs.current is not None)
    grab("runs")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
