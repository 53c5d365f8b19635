"""What the Train page's UI thread does while a run trains, counted (never timed): long
histories draw a bounded number of points, bursts of updates a bounded number of redraws and
label changes, and previews are made display-ready in the job's thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from studio.engine import Progress
from studio.imaging import display_pixels
from studio.qt.runner import Runner
from studio.qt.widgets.curve_data import history_columns
from studio.qt.widgets.train_controls import TrainControls
from tests.qt.test_metrics_plot import plot as shown_plot  # noqa: F401 (a fixture: every plot drawn, 700×500)

STEPS = 100_000


def _long_run() -> list[dict]:
    """metrics.jsonl of a 100k-step VAE run: three training metrics per step, held-out ones
    every 10k steps (one of them non-finite, written as null)."""
    records = [{"step": s, "time": s / 50, "epoch": s // 40, "loss": 100 + 50 / s ** 0.3 + (s % 7),
                "recon": 90.0 + (s % 5), "kl": 10.0 - 1 / s} for s in range(1, STEPS + 1)]
    for s in range(10_000, STEPS + 1, 10_000):
        records.append({"step": s, "test/loss": 120.0 - s / 10_000, "test/fcd": None if s == 50_000 else 5.0})
    return records


@pytest.fixture
def plot(shown_plot):
    shown_plot._timer.stop()  # the test ticks it
    return shown_plot


def _drawn(curve) -> int:
    """Points handed to Qt for drawing (after clipping and downsampling)."""
    return 0 if curve.curve.xData is None else len(curve.curve.xData)


@pytest.mark.parametrize("wall_time", [False, True])
def test_a_100k_step_history_draws_a_bounded_number_of_points_per_curve(plot, qtbot, wall_time):
    plot.x_axis.setCurrentIndex(int(wall_time))
    plot.set_history(history_columns(_long_run()))  # columns as the page makes them in a worker
    while plot._dirty:
        plot._on_timer_timeout()
    qtbot.wait(10)  # painted: the view's width is known
    assert plot.series["loss"].n == STEPS and plot.last_step == STEPS
    assert plot.series["test/loss"].n == 10 and plot.series["test/fcd"].n == 9  # the null left out
    for name in ("loss", "recon", "kl"):
        raw, smooth = plot.curves[name]
        width = plot.plots[name].vb.width()
        assert width > 100
        for curve in (raw, smooth):
            assert len(curve.xData) == STEPS  # all the data is there, for zooming in
            assert 0 < _drawn(curve) <= 4 * width + 8  # a min/max pair per pixel, at most
    assert _drawn(plot.curves["test/loss"][0]) == 10


def test_set_history_keeps_what_the_records_say(plot):
    records = [{"step": 1, "time": 0.5, "epoch": 0, "loss": 3.0, "note": "x"},
               {"step": 2, "test/loss": None, "test/fcd": 7.0},  # held out: the last time carried over
               {"step": 2, "time": 1.5, "epoch": 0, "loss": True, "kl": "high"},
               {"step": 3, "epoch": 0, "loss": 1}]
    plot.set_history(records)
    assert list(plot.series) == ["loss", "test/fcd"]  # non-numbers (and the all-null metric) left out
    loss = plot.series["loss"]
    assert loss.steps.tolist() == [1, 2, 3] and loss.times.tolist() == [0.5, 1.5, 1.5]
    assert loss.values.tolist() == [3.0, 1.0, 1.0]
    assert plot.series["test/fcd"].times.tolist() == [0.5]
    assert plot.time_offset == 1.5 and plot.last_step == 3


def test_a_burst_of_metric_updates_redraws_each_plot_once(plot, monkeypatch):
    calls: list[str] = []
    plot.add_records([(1, 0.0, {"loss": 1.0, "recon": 1.0, "kl": 1.0})])
    while plot._dirty:
        plot._on_timer_timeout()
    for name, (raw, smooth) in plot.curves.items():
        for curve in (raw, smooth):
            original = curve.setData
            monkeypatch.setattr(curve, "setData", lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k)))
    for step in range(2, 1002):  # a thousand deliveries before the timer ticks
        plot.add_records([(step, step / 10, {"loss": 1 / step, "recon": 2.0, "kl": 0.5})])
    assert calls == []  # appending never draws
    ticks = 0
    while plot._dirty:
        plot._on_timer_timeout()
        ticks += 1
        assert len(set(calls)) == ticks  # one plot per tick
    assert sorted(calls) == sorted(["loss", "recon", "kl"] * 2)  # each curve once, whatever the burst
    plot._on_timer_timeout()
    assert len(calls) == 6  # nothing new: no redraw
    assert plot.series["loss"].n == 1001 and plot.curves["loss"][0].xData[-1] == 1001


def test_a_burst_of_progress_changes_the_labels_once_until_the_pace_timer_fires(qtbot):
    controls = TrainControls()
    qtbot.addWidget(controls)
    texts: list[str] = []
    original = controls.headline.setText
    controls.headline.setText = lambda text: (texts.append(text), original(text))
    for step in range(1, 101):
        controls.show_progress(Progress(step, 1000, 0, 500.0, 60.0))
    assert texts == ["Step 1 of 1,000"] and controls.last.step == 100
    controls._pace.timeout.emit()  # the pace timer fires: the newest is shown
    assert texts[-1] == "Step 100 of 1,000" and len(texts) == 2
    controls._pace.timeout.emit()
    assert len(texts) == 2  # nothing newer: nothing redone
    controls.show_progress(Progress(101, 1000, 0, 500.0, 60.0))  # waits for the pace timer
    controls.show_progress(Progress(101, 1000, paused=True))  # a pause shows at once
    controls._pace.timeout.emit()
    assert controls.headline.text().startswith("Paused at step 101")
    controls.show_progress(Progress(102, 1000, 0, 500.0, 60.0))
    controls.show_progress(Progress(103, 1000, 0, 500.0, 60.0))
    controls.show_outcome("stopped")
    controls._pace.timeout.emit()
    assert controls.headline.text() == "Stopped at step 103"  # the pending progress never overwrites it


def test_previews_are_made_display_ready_in_the_jobs_thread(qtbot):
    threads: list[threading.Thread] = []

    def prepare(grid):
        threads.append(threading.current_thread())
        return display_pixels(grid)

    def job(reporter, control):
        reporter.preview(7, np.arange(2 * 12 * 5, dtype=np.uint8).reshape(12, 10, 1)[:, ::2])  # not contiguous
        return "done"

    runner = Runner()
    handle = runner.start(job, "preview-test", prepare=prepare)
    with qtbot.waitSignal(handle.preview_ready, timeout=10_000) as got:
        pass
    step, grid = got.args
    assert step == 7 and grid.shape == (12, 5) and grid.flags.c_contiguous and grid.dtype == np.uint8
    assert threads and threading.main_thread() not in threads
    assert runner.shutdown()


@pytest.mark.parametrize("n", [1, 3, 4])
def test_live_points_keep_their_steps_and_times_whatever_their_number(plot, n):
    plot.add_records([(10 + s, 0.5 * s, {"loss": float(s)}) for s in range(n)])  # 3 points: a 3×3 array
    loss = plot.series["loss"]
    assert loss.steps.tolist() == [10 + s for s in range(n)] and loss.times.tolist() == [0.5 * s for s in range(n)]
    assert loss.values.tolist() == [float(s) for s in range(n)]


def test_a_second_history_of_the_same_metrics_reuses_the_plots_and_shows_only_its_own_data(plot, qtbot):
    plot.set_history([{"step": s, "time": s, "loss": 10.0 - s, "kl": 1.0} for s in range(1, 6)])
    first = dict(plot.plots)
    plot.plots["loss"].vb.setYRange(100, 200)  # a zoom the next history must not keep
    plot.set_history([{"step": s, "time": s, "loss": 0.5, "test/fcd": 3.0} for s in range(1, 4)])
    assert plot.plots["loss"] is first["loss"] and "kl" not in plot.plots
    while plot._dirty:
        plot._on_timer_timeout()
    raw, smooth = plot.curves["loss"]
    assert raw.xData.tolist() == [1, 2, 3] and raw.yData.tolist() == [0.5] * 3
    assert len(plot.plots["loss"].listDataItems()) == 2  # the old curves are gone
    lo, hi = plot.plots["loss"].vb.viewRange()[1]
    assert lo < 0.5 < hi < 100
    assert plot.show_combo.count() == 2 + 2  # the two choices, then loss and test/fcd


def test_the_latent_and_diffusion_pages_ask_about_mp4_off_the_ui_thread(window, qtbot, monkeypatch):
    """``export.mp4_available`` imports imageio and starts ffmpeg (0.2 s cold): it ran in both
    pages' constructors, on the UI thread, on their first visit. Now a job asks once; MP4 is
    offered when it answers (and not when it says no)."""
    import studio.export
    from studio.qt.widgets import mp4_check
    from studio.qt.widgets.latent_frames import FrameStrip

    asked: list[str] = []
    monkeypatch.setattr(studio.export, "mp4_available",
                        lambda: asked.append(threading.current_thread().name) or True)
    monkeypatch.setattr(mp4_check, "_state", {"known": None, "handle": None, "callbacks": []})
    latent, diffusion = window.latent, window.diffusion
    qtbot.waitUntil(lambda: mp4_check.mp4_known() is not None, timeout=10_000)
    assert asked and threading.main_thread().name not in asked
    assert len(asked) == 1  # asked once for the two pages
    mp4 = next(a for a in diffusion.export_button.menu().actions() if a.data() == "mp4")
    assert mp4.isVisible()
    strips = latent.findChildren(FrameStrip)
    assert strips and all(s.export_actions["mp4"].text() == "MP4 video…" and s._mp4 for s in strips)
