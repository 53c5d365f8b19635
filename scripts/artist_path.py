"""An artist's afternoon, driven on a real X display: a screenshot per step and a timing table.

    Xvfb :99 -screen 0 1366x768x24 &  DISPLAY=:99 python scripts/artist_path.py OUT_DIR

First launch → train the default VAE and wait for its first preview (timed from Start) → stop
→ open the run on the Runs page → explore its latent map and export an interpolation GIF →
sample and scrub the bundled DDPM in the Diffusion viewer → open the glossary. The window is
1366×768 (a common laptop). With a display, each screenshot is of the whole screen
(ImageMagick's ``import -window root``: what a person sees); without one, of the window.
Uses a temporary runs folder and settings; prints one JSON object with the timings.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the PNG files")
    parser.add_argument("--size", default="1366x768", help="screen size WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    real_screen = bool(os.environ.get("DISPLAY")) and shutil.which("import") is not None
    from PySide6.QtCore import QSettings

    from studio.qt.driver import Driver
    from studio.qt.main_window import MainWindow

    drive = Driver("studio-artist-")
    scratch, settle, wait_until = drive.scratch, drive.settle, drive.wait_until
    times: dict[str, float] = {}

    def shot(name: str) -> None:
        settle()
        path = out / f"{name}.png"
        if real_screen:
            subprocess.run(["import", "-window", "root", str(path)], check=True)
        else:
            window.grab().save(str(path))
        print(f"wrote {path}", file=sys.stderr)

    width, height = (int(v) for v in args.size.lower().split("x"))
    window = MainWindow(QSettings())
    window.setGeometry(0, 0, width, height - 28)  # a task bar's worth less than the screen
    window.show()
    train = window.train
    wait_until(lambda: not train.setup.dataset.loading)
    shot("1-first-launch")

    # the default VAE (standard preset), as a new user starts it
    train.setup.family.setCurrentText("vae")
    started = time.monotonic()
    train.start()
    wait_until(lambda: bool(train.previews.history))
    times["first_preview_s"] = round(time.monotonic() - started, 2)
    times["first_preview_step"] = train.previews.history[-1][0]
    shot("2-first-preview")
    wait_until(lambda: train.controls.last is not None and train.controls.last.step >= 150, timeout=300)
    shot("3-training")
    train.stop()
    times["stop_s"] = round(wait_until(lambda: not train.busy), 2)
    shot("4-stopped")

    runs = window.runs
    window.show_page("runs")
    wait_until(lambda: runs.row_paths())
    path = runs.row_paths()[0]
    runs.select(path)
    wait_until(lambda: runs.current is not None)
    shot("5-runs")

    latent = window.latent
    window.show_page("latent")
    latent.picker.select(path)
    times["latent_map_s"] = round(wait_until(lambda: latent.space is not None and latent.frames_shown > 0), 2)
    latent.show_example()
    wait_until(lambda: len(latent.interpolation.frames.frames) > 0)
    shot("6-latent-interpolation")
    gif = scratch / "interpolation.gif"
    latent.interpolation.frames.export(str(gif))
    wait_until(gif.is_file, timeout=60)

    diffusion = window.diffusion
    window.show_page("diffusion")
    from studio.runs import demo_runs_root

    demo = demo_runs_root() / "ddpm-fashion-mnist"
    if (demo / "run.json").is_file():
        diffusion.open_run(str(demo))
        wait_until(lambda: diffusion.model is not None)
        diffusion.top.steps.setValue(50)
        started = time.monotonic()
        diffusion.run()
        wait_until(lambda: diffusion.trajectory is not None and diffusion.trajectory.done >= 25)
        shot("7-diffusion-running")
        wait_until(lambda: not diffusion.busy)
        times["diffusion_50_steps_s"] = round(time.monotonic() - started, 2)
        diffusion.slider.setValue(12)
        shot("8-diffusion-scrubbed")

    window.help_button.glossary()
    shot("9-glossary")
    window.help_button.dialogs["glossary"].close()
    window.close()
    times["interpolation_gif_bytes"] = gif.stat().st_size
    print(json.dumps({"screen": args.size, "real_display": real_screen, **times}))
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
