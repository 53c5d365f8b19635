"""The Runs page follows a run another process is writing: its curve and samples grow as the
files do, and its title says "live" while it trains."""

from __future__ import annotations

import os

import numpy as np

from studio.runs import Run


def test_a_run_written_elsewhere_grows_live(window, qtbot):
    runs = window.runs
    runs.follow.interval_s = 0.1
    path = window.runs.root / "elsewhere"
    run = Run.create(path, {"family": "vae", "data": "shapes", "image_shape": [1, 28, 28], "target_step": 50})
    try:
        run.save_meta(status="running")
        run.append_metrics([{"step": 1, "time": 0.1, "recon": 0.9}])
        runs.refresh()
        qtbot.waitUntil(lambda: str(path) in runs.row_paths(), timeout=10_000)
        assert runs.select(str(path))
        qtbot.waitUntil(lambda: runs.title.text() == "elsewhere · live", timeout=10_000)
        qtbot.waitUntil(lambda: "recon" in runs.plot.series and list(runs.plot.series["recon"].steps) == [1],
                        timeout=10_000)
        run.append_metrics([{"step": s, "time": s / 10, "recon": 1 / s} for s in range(2, 6)])
        run.write_sample("step-0000005.png", np.full((8, 8, 1), 200, np.uint8))
        qtbot.waitUntil(lambda: list(runs.plot.series["recon"].steps) == [1, 2, 3, 4, 5], timeout=10_000)
        qtbot.waitUntil(lambda: runs.previews.current() is not None and runs.previews.current()[0] == 5,
                        timeout=10_000)
        run.save_meta(status="finished", step=5)
    finally:
        run.close()
    qtbot.waitUntil(lambda: runs.title.text() == "elsewhere", timeout=10_000)
    assert os.path.isdir(path)
