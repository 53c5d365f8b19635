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


def test_a_long_run_reaches_the_plots_as_columns_made_off_the_ui_thread(window, qtbot, monkeypatch):
    """A long run's curve is converted to plot columns in the worker: the UI thread is handed
    ready arrays (a 100k-step run's records took 0.3 s of Python there), for a finished run
    (``set_history``) and for one followed live (its backlog), and the values arrive intact."""
    from studio.qt.widgets.curve_data import History

    runs = window.runs
    runs.follow.interval_s = 0.1
    n = 3000
    handed: list = []
    monkeypatch.setattr(runs.plot, "set_history", lambda h, real=runs.plot.set_history: (handed.append(h), real(h)))
    batches: list[int] = []
    monkeypatch.setattr(runs.plot, "add_records",
                        lambda records, real=runs.plot.add_records: (batches.append(len(records)), real(records)))
    paths = {}
    for name, status in (("done", "finished"), ("growing", "running")):
        paths[name] = path = runs.root / name
        run = Run.create(path, {"family": "vae", "data": "shapes", "image_shape": [1, 28, 28], "target_step": n})
        run.append_metrics([{"step": s, "time": s / 100, "recon": 1 / s} for s in range(1, n + 1)])
        run.save_meta(status=status, step=n)
        run.close()
    runs.refresh()
    qtbot.waitUntil(lambda: all(str(p) in runs.row_paths() for p in paths.values()), timeout=10_000)
    expected = 1 / np.arange(1, n + 1)

    assert runs.select(str(paths["done"]))
    qtbot.waitUntil(lambda: "recon" in runs.plot.series and runs.plot.series["recon"].n == n, timeout=10_000)
    assert handed and all(isinstance(h, History) for h in handed)
    np.testing.assert_allclose(runs.plot.series["recon"].values, expected)

    assert runs.select(str(paths["growing"]))
    qtbot.waitUntil(lambda: runs.title.text() == "growing · live", timeout=10_000)
    qtbot.waitUntil(lambda: "recon" in runs.plot.series and runs.plot.series["recon"].n == n, timeout=10_000)
    assert max(batches, default=0) < 256  # never the whole backlog as records
    np.testing.assert_allclose(runs.plot.series["recon"].steps, np.arange(1, n + 1))
    np.testing.assert_allclose(runs.plot.series["recon"].values, expected)
    run = Run.open(paths["growing"])
    run.append_metrics([{"step": n + 1, "time": 31.0, "recon": 0.5}])  # and a few more come as records
    run.close()
    qtbot.waitUntil(lambda: runs.plot.series["recon"].n == n + 1, timeout=10_000)
    assert runs.plot.series["recon"].values[-1] == 0.5
    Run.open(paths["growing"]).save_meta(status="finished")
