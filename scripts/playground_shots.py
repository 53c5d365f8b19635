"""Screenshots of the Playground for the README: the window at 1366×768, each lesson's view, and
two families compared side by side.

    python scripts/playground_shots.py OUT_DIR [--only KEY ...] [--gif]

Each lesson's model is trained here, in this thread, for the steps listed in ``STEPS`` (seeded, one
torch thread, so the pictures are the same every time) and its frames are drawn by the page's
own panes, exactly as when the page plays. Runs offscreen unless a display is available; uses
a temporary runs folder and settings (``studio.qt.driver``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STEPS = {"gan-mode-collapse": 2000, "wgan-gp-coverage": 1500, "vae-posteriors": 1500,
         "vae-posterior-collapse": 1500, "flow-exact": 1500, "ddpm-reverse": 1500,
         "flow-matching-straight": 1500, "autoregressive-bins": 800}
CHUNK = 25  # steps per drawn frame (the loss curve gets one point per chunk, as on the page)


def train_and_draw(page, job, steps: int) -> None:
    """Train ``job`` to ``steps`` and draw its frames into the page's panes, like the page does."""
    from studio.playground.compare import FramePair, PlaygroundPair, loss_points

    pair = isinstance(job, PlaygroundPair)
    while job.step < steps:
        losses = job.train(min(CHUNK, steps - job.step))
        frame = job.frame()
        page.recorder.offer(frame)
        record = [(job.step, 0.0, losses)]
        for pane, lane, part in zip(page.panes, ("A", "B") if pair else (None,),
                                    frame.frames if isinstance(frame, FramePair) else (frame,)):
            pane.add_losses(loss_points(record, lane))
            pane.show_frame(part)
    for pane in page.panes:
        pane.flush_loss()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the PNG files")
    parser.add_argument("--only", nargs="*", help="lesson keys (default: all), 'compare' and 'page'")
    parser.add_argument("--gif", action="store_true", help="also write compare.gif through the page's GIF export")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from studio.qt.driver import Driver

    driver = Driver("studio-playground-shots-")
    import torch
    from PySide6.QtCore import QSettings

    from studio.playground import PlaygroundJob
    from studio.playground.compare import PlaygroundPair
    from studio.qt.main_window import MainWindow

    torch.set_num_threads(1)
    window = MainWindow(QSettings())
    window.resize(1366, 768)
    window.show()
    window.show_page("playground")
    page = window.playground
    wanted = set(args.only or [*STEPS, "compare", "page"])

    def shoot(lesson: str, compare: bool) -> None:
        page.controls.lesson.setCurrentIndex(page.controls.lesson.findData(lesson))
        page.compare.setChecked(compare)
        driver.settle(0.3)
        spec, other = page.state.spec(), page.state.compare_spec()
        job = PlaygroundJob(spec) if other is None else PlaygroundPair(spec, other)  # view sliders at their defaults
        page.recorder.clear()
        train_and_draw(page, job, STEPS[lesson])
        driver.settle(0.3)

    for lesson in STEPS:
        if lesson in wanted:
            shoot(lesson, compare=False)
            page.grab(page.views.geometry().adjusted(-8, 0, 8, 4)).save(str(out / f"{lesson}.png"))
            print("wrote", out / f"{lesson}.png", flush=True)
    if "page" in wanted:
        shoot("gan-mode-collapse", compare=False)
        window.grab().save(str(out / "page.png"))
        print("wrote", out / "page.png", flush=True)
    if "compare" in wanted:
        shoot("gan-mode-collapse", compare=True)
        window.grab().save(str(out / "compare.png"))
        print("wrote", out / "compare.png", flush=True)
        if args.gif:
            page.gif.save(page.recorder.frames, page.panes, str(out / "compare.gif"))
            driver.wait_until(lambda: page.message.text().startswith(("Saved", "Could not")), timeout=300)
            print(page.message.text(), flush=True)
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
