"""Closing the window while background work runs ends that work at once: the runner cancels
and joins everything it started (training checkpoints first: see test_train_page). And the
Runs page shows a training run's live step, not its last checkpoint's."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.qt.runner import runner


def _close_and_check(window, qtbot) -> None:
    """Close, then every job the runner had must end by itself (closing cancelled it): within
    the window's own wait on a quiet machine; a loaded test machine gets some slack."""
    work = runner()  # the window's runner (closing it makes the next runner() a new one)
    handles = work.active()
    assert handles
    window.close()
    assert not window.isVisible() and work.closed
    qtbot.waitUntil(lambda: not work.active(), timeout=15_000)
    assert all(h.control.cancelled for h in handles)


def test_closing_while_the_diffusion_viewer_samples(window, trained_run, qtbot):
    page = window.diffusion
    window.show_page("diffusion")
    page.open_run(trained_run("ddpm"))
    qtbot.waitUntil(lambda: page.model is not None, timeout=30_000)
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddpm"))
    page.top.steps.setValue(50)
    page.run()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 1, timeout=30_000)
    _close_and_check(window, qtbot)
    assert page.trajectory.status == "cancelled" and page.trajectory.done < 50


def test_closing_while_a_pixelcnn_draws(window, trained_run, qtbot):
    runs = window.runs
    window.show_page("runs")
    path = trained_run("pixelcnn", steps=3)  # the run test_drawing and test_pixelcnn share
    runs.open_run(path)
    qtbot.waitUntil(lambda: runs.current is not None and runs.draw_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(runs.draw_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "pixel by pixel" in runs.previews.note.text(), timeout=30_000)
    _close_and_check(window, qtbot)


def test_the_runs_table_shows_a_training_runs_live_step(window, tiny_run, qtbot):
    train, runs = window.train, window.runs
    tiny_run(train, steps=100_000)  # checkpoints every 500 steps: none for a while
    with qtbot.waitSignal(train.run_started, timeout=60_000) as started:
        train.start()
    path = started.args[0]
    qtbot.waitUntil(lambda: train.controls.last is not None and train.controls.last.step >= 5, timeout=60_000)
    window.show_page("runs")
    runs.refresh()
    qtbot.waitUntil(lambda: path in runs.row_paths(), timeout=10_000)
    row = runs.row_paths().index(path)
    assert runs.table.rows.item(row, 5).text() == "running"
    assert int(runs.table.rows.item(row, 4).text()) >= 5  # not "0": the run.json step moves only at checkpoints
    runs.select(path)
    qtbot.waitUntil(lambda: runs.current is not None and "step 0 of" not in runs.info.text(), timeout=10_000)
    assert "running" in runs.info.text()
