"""The Runs page at 1366×768 in every state: the window never asks for more than a laptop gives
it (minimumSizeHint ≤ 1340×730), and no text is cut off (every label, button and combo box fits
its room, or elides with "…" and says it all in its tooltip) — with no runs, many runs, a
150-character run name under a long folder path, a bundled demo, a run training here, a run
another process writes, a damaged folder, a diverged run with NaN figures, a single point."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from studio.runs import Run
from tests.qt.test_diffusion_fit import fits as fits_1366

NAME = ("an-artist-named-this-run-after-everything-she-tried-on-a-rainy-afternoon-with-the-vae-and-a-"
        "lower-learning-rate-than-before-and-a-bigger-latent-space")[:150]
SHOT = os.environ.get("STUDIO_SHOTS")  # a folder: save a screenshot of each state there (to look at)


def fits(window, qtbot, state: str) -> None:
    fits_1366(window, qtbot, state, window.runs)
    if SHOT:
        qtbot.wait(800)  # the curves redraw one plot per tick
        window.grab().save(os.path.join(SHOT, state.replace(" ", "-").replace(",", "") + ".png"))


def fake_run(root, name: str, status: str = "finished", records=None, **meta) -> Run:
    """A run folder as the trainer leaves it (run.json and metrics.jsonl), made in an instant."""
    run = Run.create(root / name, {"family": "vae", "data": "fashion-mnist-5k", "image_shape": [1, 28, 28],
                                   "target_step": 200, "device": "cpu", "precision": "fp32",
                                   "spec": {"lr": 0.001}, **meta})
    run.append_metrics(records if records is not None else
                       [{"step": s, "time": s / 10, "loss": 1 / s, "recon": 0.5 / s, "kl": 0.1 * s} for s in
                        range(1, 201, 10)])
    run.save_meta(status=status, step=(records or [{"step": 200}])[-1]["step"])
    run.close()
    return run


def show(window, qtbot, path) -> None:
    runs = window.runs
    qtbot.waitUntil(lambda: str(path) in runs.row_paths(), timeout=10_000)
    assert runs.select(str(path))
    qtbot.waitUntil(lambda: runs.current is not None and runs.current.run.path == path or
                    runs.info.text() not in ("", "Reading…") and runs.current is None, timeout=10_000)
    qtbot.wait(60)


@pytest.fixture
def long_root(tmp_path, monkeypatch):
    """The runs folder under a long path (the root label must elide, not widen the window)."""
    root = tmp_path.joinpath(*["a-folder-with-a-long-name-in-a-synced-cloud-drive"] * 4, "runs")
    root.mkdir(parents=True)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    empty = tmp_path / "no-demos"
    empty.mkdir()
    monkeypatch.setattr("studio.qt.panels.runs.demo_runs_root", lambda: empty)
    return root


def test_the_runs_page_fits_1366_by_768_in_every_state(make_window, qtbot, long_root, trained_run, tiny_run,
                                                       monkeypatch):
    window = make_window()
    window.resize(1340, 730)
    window.show_page("runs")
    runs = window.runs
    fits(window, qtbot, "no runs")

    for i in range(40):
        fake_run(long_root, f"run-{i:02d}")
    long = fake_run(long_root, NAME)
    runs.refresh()
    show(window, qtbot, long.path)
    assert runs.title.text() == NAME
    fits(window, qtbot, "many runs, a long name")

    single = fake_run(long_root, "one-point", records=[{"step": 1, "time": 0.4, "loss": 0.7}])
    runs.refresh()
    show(window, qtbot, single.path)
    fits(window, qtbot, "a single metric point")

    nan = float("nan")
    error = (f"loss became nan at step 120 — stopped; the checkpoint at step 100 is kept: lower the learning "
             f"rate and resume (studio resume {long_root / 'diverged'} --steps 100 --lr 0.0001)")
    diverged = fake_run(long_root, "diverged", "diverged", error=error, divergences=1,
                        records=[{"step": s, "time": s / 10, "loss": 1 / s if s < 100 else nan,
                                  "kl": nan if s > 110 else s} for s in range(1, 121)])
    runs.refresh()
    show(window, qtbot, diverged.path)
    assert "studio resume" not in runs.info.text()  # the window's advice names its own field
    assert "learning rate" in runs.info.text()
    fits(window, qtbot, "diverged with NaN figures")

    damaged = long_root / "damaged-folder"
    damaged.mkdir()
    (damaged / "run.json").write_text("{ not json")
    runs.refresh()
    show(window, qtbot, damaged)
    assert runs.current is None and "run.json" in runs.info.text()
    row = runs.row_paths().index(str(damaged))
    assert runs.table.rows.item(row, 5).text() == "damaged" and runs.table.rows.item(row, 4).text() == ""
    assert runs.lr.placeholderText() == "same as before"  # not the rate of the run shown before
    assert runs.reveal_button.isEnabled() and not runs.resume_button.isEnabled()  # to mend it in the folder
    opened = []
    monkeypatch.setattr("studio.qt.widgets.run_actions.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toLocalFile()))
    runs.reveal_button.click()
    assert opened == [str(damaged)]
    assert "run.json" in runs.table.rows.item(row, 1).toolTip()
    fits(window, qtbot, "a damaged folder")

    live = Run.create(long_root / "elsewhere", {"family": "vae", "data": "shapes", "image_shape": [1, 28, 28],
                                                "target_step": 50})
    try:
        live.save_meta(status="running")
        live.append_metrics([{"step": 1, "time": 0.1, "recon": 0.9}])
        runs.refresh()
        show(window, qtbot, live.path)
        qtbot.waitUntil(lambda: runs.title.text().endswith("· live"), timeout=10_000)
        fits(window, qtbot, "followed live")
    finally:
        live.save_meta(status="stopped")
        live.close()

    demos = long_root.parent / "demos"
    shutil.copytree(trained_run("vae"), demos / "vae-fashion-mnist")
    monkeypatch.setattr("studio.qt.panels.runs.demo_runs_root", lambda: demos)
    runs.refresh()
    show(window, qtbot, demos / "vae-fashion-mnist")
    assert not runs.resume_button.isEnabled()
    fits(window, qtbot, "a demo, read-only")

    window.show_page("train")
    tiny_run(window.train, 100_000)
    window.train.controls.start_button.click()
    qtbot.waitUntil(lambda: window.train.state == "running", timeout=30_000)
    path = window.train.run_path
    window.show_page("runs")
    runs.refresh()
    show(window, qtbot, Path(path))
    assert not runs.resume_button.isEnabled() and not runs.delete_button.isEnabled()
    fits(window, qtbot, "training in this window")
    qtbot.waitUntil(lambda: window.train.controls.last is not None, timeout=60_000)  # a Stop before step 1 keeps no run
    with qtbot.waitSignal(window.train.run_ended, timeout=60_000):
        window.train.stop()
    assert math.isfinite(json.loads((long_root / os.path.basename(path) / "run.json").read_text())["step"])
