"""Resume with a new learning rate from the window, as `studio resume --lr` does: a run trained in
the window diverges, the advice names the Runs page's learning-rate field (not a CLI command), the
field refuses what the CLI refuses, and a resume at 0.001 is recorded in run.json and used by the
optimizer."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PySide6.QtCore import Qt

from studio.qt.widgets.run_resume import LR_FIELD


def test_a_diverged_run_resumed_with_a_lower_lr_from_the_window(window, qtbot):
    train = window.train
    setup = train.setup
    setup.family.setCurrentText("vae")
    for name, value in {"steps": 30, "batch_size": 32, "lr": 1.0}.items():  # the divergence of tests/core
        setup.training_form.editors[name].setValue(value)
    for name, value in {"width": 8, "latent_dim": 4}.items():
        setup.model_form.editors[name].setValue(value)
    assert setup.reason is None, setup.reason
    with qtbot.waitSignal(train.run_ended, timeout=120_000) as ended:
        train.controls.start_button.click()
    path, status = ended.args
    assert status == "diverged"
    advice = train.controls.message.text()
    assert "studio resume" not in advice and f"as the {LR_FIELD} beside Resume training on the Runs page" in advice
    assert "type 0.1 " in advice  # the engine's suggestion: a tenth of the rate that diverged

    runs = window.runs
    window.show_page("runs")
    qtbot.waitUntil(lambda: path in runs.row_paths(), timeout=10_000)
    assert runs.select(path)
    qtbot.waitUntil(lambda: runs.current is not None and str(runs.current.run.path) == path, timeout=10_000)
    assert "studio resume" not in runs.info.text() and f"as the {LR_FIELD} beside Resume training below" in \
        runs.info.text().replace("\u200b", "")
    assert runs.lr.text() == "" and runs.lr.placeholderText() == "1 (same)"  # empty: the run's own rate
    assert runs.resume_button.isEnabled()

    for bad, got in (("5", "you typed 5"), ("0", "you typed 0"), ("fast", "you typed fast"), ("nan", "you typed nan"),
                     ("1e-400", "you typed 1e-400, which reads as 0")):  # the CLI's rule, its words
        runs.lr.clear()
        qtbot.keyClicks(runs.lr, bad)
        assert not runs.resume_button.isEnabled(), bad
        assert runs.lr.property("invalid")
        assert runs.resume_button.toolTip() == f"The learning rate must be a number in (0, 1] ({got})"
    runs.lr.clear()
    qtbot.keyClicks(runs.lr, "0.001")
    assert runs.resume_button.isEnabled() and not runs.lr.property("invalid")
    runs.extra_steps.setValue(30)
    with qtbot.waitSignal(train.run_ended, timeout=120_000) as ended:
        qtbot.mouseClick(runs.resume_button, Qt.LeftButton)
        assert window.page == "train"
    assert ended.args == [path, "finished"]
    meta = json.loads((Path(path) / "run.json").read_text())
    assert meta["status"] == "finished" and meta["step"] == 30 and meta["spec"]["lr"] == 0.001
    assert meta["resumes"][-1]["changes"] == {"lr": [1.0, 0.001]}
    last = max((Path(path) / "checkpoints").glob("step-*.state.pt"))
    state = torch.load(last, weights_only=True)
    assert state["optimizers"]["model"]["param_groups"][0]["lr"] == 0.001


def test_an_empty_field_resumes_at_the_runs_own_rate(window, qtbot):
    from tests.qt.test_runs_page import _cli_run, _open

    path = _cli_run("same-rate")
    runs = _open(window, qtbot, path)
    lr = json.loads((path / "run.json").read_text())["spec"]["lr"]
    assert runs.lr.placeholderText() == f"{lr:g} (same)"
    runs.extra_steps.setValue(2)
    with qtbot.waitSignal(window.train.run_ended, timeout=60_000):
        runs.resume_button.click()
    meta = json.loads((path / "run.json").read_text())
    assert meta["spec"]["lr"] == lr and "changes" not in meta["resumes"][-1]
