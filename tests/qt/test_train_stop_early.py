"""A Stop on the Train page after the run folder is written but before step 1: no empty run is left."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from studio.engine import trainer
from studio.qt.panels import train as train_panel


def test_stop_after_the_run_folder_is_written_but_before_step_1_leaves_no_run(window, tiny_run, qtbot, monkeypatch,
                                                                             tmp_path):
    """The run is announced (its folder written, the window following it) and Stop comes before
    step 1: the folder is removed, the page says nothing was kept, and the Runs list has no
    'stopped at step 0' run to delete by hand."""
    panel = window.train
    tiny_run(panel, steps=50)
    held, release = threading.Event(), threading.Event()
    batches = trainer.Batches

    def slow_batches(*args, **kwargs):  # after the "training … on …" line, before step 1
        held.set()
        release.wait(30)
        return batches(*args, **kwargs)

    monkeypatch.setattr(trainer, "Batches", slow_batches)
    ended = []
    panel.run_ended.connect(lambda *args: ended.append(args))
    with qtbot.waitSignal(panel.run_started, timeout=30_000):
        qtbot.mouseClick(panel.controls.start_button, Qt.LeftButton)
    qtbot.waitUntil(held.is_set, timeout=20_000)
    assert (Path(panel.run_path) / "run.json").exists()
    qtbot.mouseClick(panel.controls.stop_button, Qt.LeftButton)
    assert panel.controls.message.text() == "Stopping before the first step: nothing new will be saved…"
    release.set()
    qtbot.waitUntil(lambda: panel.handle is None, timeout=30_000)
    assert panel.controls.message.text() == train_panel.CANCELLED_MESSAGE
    assert panel.controls.headline.text() == "Ready" and panel.controls.start_button.isEnabled()
    assert not Path(panel.run_path).exists() and not list((tmp_path / "runs").glob("*"))
    assert ended == [(panel.run_path, "cancelled")]  # the window stops following it
    window.show_page("runs")
    qtbot.wait(300)
    assert panel.run_path not in window.runs.row_paths()
