"""The Train page driven through its widgets: a short run, pause/resume/stop, validation,
and closing the window mid-training."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QThread, Qt

from studio.engine import TrainJob
from studio.qt.widgets.metrics_plot import MetricsPlot
from studio.runs import Run


def _click(qtbot, button):
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.LeftButton)


def test_a_short_run_fills_the_curves_and_the_previews(window, tiny_run, qtbot, monkeypatch, qapp):
    threads = set()
    add_records = MetricsPlot.add_records

    def recording(self, records):  # called from the panel's slot: must be the GUI thread
        threads.add(QThread.currentThread())
        add_records(self, records)

    monkeypatch.setattr(MetricsPlot, "add_records", recording)
    panel = window.train
    assert window.windowTitle() == "Generative Studio"
    tiny_run(panel, steps=30)
    with qtbot.waitSignal(panel.run_ended, timeout=60_000) as ended:
        _click(qtbot, panel.controls.start_button)
    path, status = ended.args
    assert status == "finished"
    assert threads == {qapp.thread()}
    recon = panel.plot.series["recon"]
    assert list(recon.steps) == list(range(1, 31))
    panel.plot.redraw()
    raw, smooth = panel.plot.curves["recon"]
    assert len(smooth.xData) == 30 and len(raw.yData) == 30
    assert "test/mse" in panel.plot.series  # held-out metric of the final checkpoint
    grids = [grid for _, grid in panel.previews.history]
    assert len(grids) == 10 and panel.previews.current()[0] == 30
    assert not np.array_equal(grids[0], grids[-1])  # the model learned something
    assert panel.previews.view.image() is not None
    assert panel.controls.headline.text() == "Finished · 30 steps"
    assert Run.open(path).status == "finished"
    assert panel.controls.start_button.isEnabled()


def test_pause_really_pauses_then_resume_and_stop(window, tiny_run, qtbot):
    panel = window.train
    tiny_run(panel, steps=100_000)
    _click(qtbot, panel.controls.start_button)
    qtbot.waitUntil(lambda: panel.controls.last is not None and panel.controls.last.step >= 3, timeout=60_000)
    handle = panel.handle
    assert "next samples at step" in panel.controls.detail.text()  # when the next preview comes
    clicked = time.perf_counter()
    _click(qtbot, panel.controls.pause_button)
    qtbot.waitUntil(lambda: panel.controls.message.text().startswith("Paused at step"), timeout=5_000)
    assert time.perf_counter() - clicked < 1.0
    paused_at = panel.controls.last.step
    assert panel.controls.headline.text().startswith(f"Paused at step {paused_at:,}")
    assert "paused" in panel.controls.detail.text() and "left" in panel.controls.detail.text()
    with qtbot.assertNotEmitted(handle.metrics_reported, wait=600):
        pass
    assert panel.controls.last.step == paused_at
    assert panel.controls.pause_button.text().endswith("Resume")
    _click(qtbot, panel.controls.pause_button)
    qtbot.waitUntil(lambda: panel.controls.last.step > paused_at + 2, timeout=10_000)
    # the stale "paused at step N" is gone once training resumes (status bar and message)
    assert panel.controls.message.text().startswith("Training resumed at step")
    assert panel.controls.headline.text().startswith("Step ")
    assert not window.status.text().startswith("paused")
    with qtbot.waitSignal(panel.run_ended, timeout=30_000) as ended:
        _click(qtbot, panel.controls.stop_button)
    path, status = ended.args
    assert status == "stopped"
    run = Run.open(path)
    assert run.status == "stopped" and run.step > paused_at
    assert run.latest_checkpoint()["step"] == run.step


def test_invalid_hyperparameters_disable_start_with_the_reason(window, tiny_run):
    panel = window.train
    tiny_run(panel, steps=10)
    form = panel.setup.model_form
    form.editors["latent_dim"].setValue(1)
    assert not panel.controls.start_button.isEnabled()
    assert form.errors["latent_dim"].text() == "Latent dim must be from 2 to 512 (you typed 1)"
    assert not form.errors["latent_dim"].isHidden()
    assert form.editors["latent_dim"].property("invalid")
    assert "Latent dim must be from 2 to 512 (you typed 1)" in panel.controls.message.text()
    assert panel.start() is False
    form.editors["latent_dim"].setValue(4)
    steps = panel.setup.training_form
    steps.editors["steps"].setValue(0)
    assert not panel.controls.start_button.isEnabled()
    assert steps.errors["steps"].text() == "Steps must be at least 1 (you typed 0)"
    steps.editors["steps"].setValue(10)
    assert panel.controls.start_button.isEnabled()
    assert not form.editors["latent_dim"].property("invalid")


def test_closing_mid_training_leaves_a_resumable_run(window, tiny_run, qtbot):
    panel = window.train
    tiny_run(panel, steps=100_000)
    with qtbot.waitSignal(panel.run_started, timeout=60_000) as started:
        _click(qtbot, panel.controls.start_button)
    path = started.args[0]
    qtbot.waitUntil(lambda: panel.controls.last is not None and panel.controls.last.step >= 2, timeout=60_000)
    from studio.qt.runner import runner

    work = runner()
    window.close()  # the job is cancelled: it checkpoints at once (no held-out evaluation), and the window waits
    assert not window.isVisible() and work.closed and not work.active()
    run = Run.open(path)
    assert run.status == "stopped"
    checkpoint = run.latest_checkpoint()
    assert checkpoint is not None and checkpoint["step"] == run.step >= 2
    assert TrainJob.resume(path, 2).run() == "finished"
    assert Run.open(path).step == run.step + 2


def test_last_choices_are_remembered(make_window):
    first = make_window()
    first.train.setup.family.setCurrentText("autoencoder")
    first.train.setup.training_form.editors["seed"].setValue(7)
    first.train.plot.log_y.setChecked(True)
    first.show_page("runs")
    first.close()
    second = make_window()
    assert second.train.setup.family_name == "autoencoder"
    assert second.train.setup.training_form.values()["seed"] == 7
    assert second.train.plot.log_y.isChecked()
    assert second.page == "runs"


def test_keyboard_shortcuts_start_pause_and_stop(window, tiny_run, qtbot):
    panel = window.train
    tiny_run(panel, steps=100_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    with qtbot.waitSignal(panel.run_started, timeout=60_000):
        qtbot.keyClick(window, Qt.Key_Return, Qt.ControlModifier)
    qtbot.waitUntil(lambda: panel.controls.last is not None, timeout=60_000)
    qtbot.keyClick(window, Qt.Key_Space)
    assert panel.state == "paused"
    qtbot.keyClick(window, Qt.Key_Space)
    assert panel.state == "running"
    with qtbot.waitSignal(panel.run_ended, timeout=30_000) as ended:
        qtbot.keyClick(window, Qt.Key_Escape)
    assert ended.args[1] == "stopped"
