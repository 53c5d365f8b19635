"""The Train page off its happy path: a Stop before training has begun, typed numbers that are
not numbers or too big, and a batch larger than the dataset."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from studio.engine import trainer
from studio.qt.panels.train_setup import TrainSetup
from studio.train_words import CANCELLED_MESSAGE


def test_stop_while_the_images_load_cancels_before_any_run_folder(window, tiny_run, qtbot, monkeypatch, tmp_path):
    panel = window.train
    tiny_run(panel, steps=50)
    loading, release = threading.Event(), threading.Event()
    load = trainer.load_training_data

    def slow_load(spec):  # the dataset load of an ordinary Start, held until the Stop is in
        loading.set()
        release.wait(30)
        return load(spec)

    monkeypatch.setattr(trainer, "load_training_data", slow_load)
    ended = []
    panel.run_ended.connect(lambda *args: ended.append(args))
    qtbot.mouseClick(panel.controls.start_button, Qt.LeftButton)
    qtbot.waitUntil(loading.is_set, timeout=20_000)
    qtbot.mouseClick(panel.controls.stop_button, Qt.LeftButton)
    assert panel.controls.headline.text() == "Cancelling…"
    release.set()
    qtbot.waitUntil(lambda: panel.handle is None, timeout=30_000)
    qtbot.wait(50)
    assert panel.controls.message.text() == CANCELLED_MESSAGE
    assert panel.controls.headline.text() == "Ready"
    assert panel.controls.start_button.isEnabled() and not panel.controls.stop_button.isEnabled()
    assert window.status.text() == CANCELLED_MESSAGE
    assert not Path(panel.run_path).exists() and not list((tmp_path / "runs").glob("*"))
    assert ended == []  # no run to list


def test_stop_while_preparing_cancels_and_nothing_starts_later(window, tiny_run, qtbot, monkeypatch, tmp_path):
    panel = window.train
    tiny_run(panel, steps=5)
    monkeypatch.setattr(TrainSetup, "pending", property(lambda self: "Loading PyTorch…"))
    assert panel.start() and panel.state == "preparing"
    assert panel.controls.start_button.text() == "Preparing…"
    qtbot.mouseClick(panel.controls.stop_button, Qt.LeftButton)
    assert panel.state == "idle" and panel.controls.start_button.isEnabled()
    assert panel.controls.message.text() == CANCELLED_MESSAGE
    monkeypatch.setattr(TrainSetup, "pending", property(lambda self: None))
    panel.setup.changed.emit()  # what the Start waited for is in: the cancelled Start stays cancelled
    assert panel.handle is None and not list((tmp_path / "runs").glob("*"))


def _type(qtbot, box, text: str) -> None:
    """Type ``text`` over the field's contents and leave it (Tab), as a user does."""
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    box.interpretText()  # what leaving the field does (focus out / Enter)
    box.clearFocus()


def test_a_learning_rate_that_is_not_a_number_stays_as_typed_and_is_named(window, tiny_run, qtbot):
    panel = window.train
    tiny_run(panel, steps=5)
    form, box = panel.setup.training_form, panel.setup.training_form.editors["lr"]
    for typed, words in (("nan", "you typed nan, which is not a number"),
                         ("inf", "you typed inf, which reads as infinity"),
                         ("-inf", "you typed -inf, which reads as infinity"),
                         ("1e999", "you typed 1e999, which reads as infinity")):
        _type(qtbot, box, typed)
        qtbot.wait(20)
        assert box.text() == typed  # never redrawn as 1e+12
        error = form.errors["lr"].text()
        assert error.startswith("Learning rate must be") and words in error, error
        assert "1e+12" not in error and not panel.controls.start_button.isEnabled()
    _type(qtbot, box, "0.001")
    qtbot.wait(20)
    assert box.text() == "0.001" and box.value() == 0.001 and form.errors["lr"].text() == ""
    assert panel.controls.start_button.isEnabled()
    _type(qtbot, box, "nan")
    form.set_values({"lr": 0.002})  # a preset's value replaces what was typed
    assert box.text() == "0.002" and box.value() == 0.002


def test_a_number_past_a_fields_limit_is_refused_with_the_limit_not_cut(window, tiny_run, qtbot):
    panel = window.train
    tiny_run(panel, steps=5)
    form, box = panel.setup.training_form, panel.setup.training_form.editors["steps"]
    _type(qtbot, box, "99999999999")
    qtbot.wait(20)
    assert box.text() == "99999999999" and box.value() == 99_999_999_999  # Qt used to keep 999,999,999
    assert form.errors["steps"].text() == "Steps must be at most 2,147,483,647 (you typed 99999999999)"
    assert panel.setup.reason == form.errors["steps"].text() and not panel.controls.start_button.isEnabled()
    _type(qtbot, box, "400")
    qtbot.wait(20)
    assert box.value() == 400 and form.errors["steps"].text() == "" and panel.controls.start_button.isEnabled()


def test_a_batch_larger_than_the_dataset_is_said_with_the_dataset_size(window, tiny_run, qtbot):
    panel = window.train
    tiny_run(panel, steps=5)
    size = panel.setup.dataset.summary.info["size"]
    _type(qtbot, panel.setup.training_form.editors["batch_size"], str(20 * size))
    qtbot.wait(20)
    message = panel.controls.message.text()
    assert message.startswith(f"Batch size {20 * size:,} is larger than the {size:,} images")
    assert "repeats every image about 20 times" in message
    assert panel.controls.start_button.isEnabled()  # it trains (engine.batches pads from the same epoch)
    _type(qtbot, panel.setup.training_form.editors["batch_size"], "64")
    qtbot.wait(20)
    assert "larger than" not in panel.controls.message.text()


def test_the_status_bar_speaks_for_the_page_on_show(window, tiny_run, qtbot):
    """The Train page's line ("training autoencoder on …") followed the user to every page: on
    another page the bar says only that a run trains, and where, with its step."""
    from studio.qt.main_window import IDLE_LINES

    panel = window.train
    tiny_run(panel, steps=100_000)
    with qtbot.waitSignal(panel.run_started, timeout=60_000):
        panel.start()
    qtbot.waitUntil(lambda: panel.controls.last is not None and panel.controls.last.step >= 2, timeout=60_000)
    on_train = window.status.text()
    assert on_train.startswith("training autoencoder on")
    window.show_page("latent")
    qtbot.waitUntil(lambda: window.status.text().startswith("Training: step "), timeout=5_000)
    assert window.status.text().endswith(" (Train page)") and "training autoencoder" not in window.status.text()
    step = panel.controls.last.step
    qtbot.waitUntil(lambda: int(window.status.text().split()[2].replace(",", "")) > step, timeout=10_000)
    window.show_page("train")
    assert window.status.text() == on_train or window.status.text() == panel.controls.message.text().lower()
    with qtbot.waitSignal(panel.run_ended, timeout=30_000):
        panel.stop()
    window.show_page("runs")
    assert window.status.text() == IDLE_LINES["runs"]  # the page's own idle line again
    window.show_page("train")
    assert window.status.text().startswith("stopped at step ")


def test_the_page_and_the_status_bar_say_how_a_job_ended(qtbot):
    """``TrainStatus`` at each end of a job: the line held while stopping, then the headline; a
    failure's sentence in red; a divergence's advice naming the Runs page's field, not a CLI
    command; a cancelled start as before it. The page gets a sentence, the status bar the line."""
    from studio.engine.reporting import Progress
    from studio.qt.widgets.train_controls import TrainControls
    from studio.qt.widgets.train_status import TrainStatus

    controls, posted = TrainControls(), []
    qtbot.addWidget(controls)
    words = TrainStatus(controls, posted.append)
    words.starting()
    assert (controls.headline.text(), controls.message.text()) == ("Starting…", "Preparing the images and the model…")
    words.stopping(announced=True)  # before the job's first step: nothing to save
    assert controls.message.text() == "Stopping before the first step: nothing new will be saved…"
    controls.last = Progress(12, 100)
    words.stopping(announced=True)
    assert controls.message.text() == "Stopping after this step and saving a checkpoint…"
    words.held = "stopped at step 40; checkpoint saved"
    words.ended("stopped")
    assert controls.message.text() == "Stopped at step 40; checkpoint saved" and controls.message.property("role") == "muted"
    assert posted == ["stopped at step 40; checkpoint saved"] and controls.headline.text() == "Stopped at step 12"

    posted.clear()
    words.ended("failed", "learning rate must be a number in (0, 1]")  # a held line is not said over a failure
    assert controls.message.text() == "Learning rate must be a number in (0, 1]"
    assert controls.message.property("role") == "error" and controls.headline.text() == "Failed"
    assert posted == ["learning rate must be a number in (0, 1]"]

    posted.clear()
    words.held = ""
    controls.set_message("Loss became nan at step 120 (studio resume /runs/r --steps 100 --lr 0.0001)")
    words.ended("diverged")
    advice = ("Loss became nan at step 120: type 0.0001 as the learning rate beside Resume training on the "
              "Runs page")
    assert controls.message.text() == advice and controls.message.property("role") == "warning"
    assert posted == [advice] and controls.headline.text() == "Diverged"

    posted.clear()
    words.stopping(announced=False)
    assert controls.headline.text() == "Cancelling…" and controls.message.text().startswith("Cancelling the start")
    words.cancelled()
    assert (controls.headline.text(), controls.detail.text(), controls.bar.value()) == ("Ready", "", 0)
    assert controls.message.text() == CANCELLED_MESSAGE and posted == [CANCELLED_MESSAGE]
