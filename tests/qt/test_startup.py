"""Start-up: the window and its Train page paint, with their forms filled, checked and Start
enabled, before torch is imported; a Start clicked then waits for it and trains; the pages built
later work; the probe behind packaging/startup_time.py records its four moments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: torch must not be in sys.modules from another test. The core's
# import job is held at a gate so the window's state before torch can be checked at leisure.
PRELUDE = textwrap.dedent("""
    import sys, threading, time
    from studio.qt import preload

    gate, real = threading.Event(), preload._import

    def held(modules, families):
        job = real(modules, families)

        def wait_then(reporter, control):
            gate.wait(120)
            return job(reporter, control)
        return wait_then

    preload._import = held
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from studio.qt.app import open_window

    def spin(until, seconds=120):
        deadline = time.monotonic() + seconds
        while not until():
            assert time.monotonic() < deadline, "timed out"
            app.processEvents()
            time.sleep(0.005)

    app, window = open_window()  # what `studio` does (settings: XDG_CONFIG_HOME, set below)
    QTest.qWait(300)
    train = window.train
""")
SCRIPT = PRELUDE + textwrap.dedent("""

    def accepts_a_dropped_folder():
        from PySide6.QtCore import QMimeData, QPoint, QUrl
        from PySide6.QtGui import QDragEnterEvent

        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(__import__("os").getcwd())])
        event = QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
        event.ignore()
        window.dragEnterEvent(event)
        return event.isAccepted()

    before = {"torch": "torch" in sys.modules, "torchvision": "torchvision" in sys.modules,
              "pyqtgraph": "pyqtgraph" in sys.modules, "plot": train.plot is None,
              "page": window.stack.currentWidget() is train, "built": sorted(window._built),
              "reason": train.setup.reason, "start": train.controls.start_button.isEnabled(),
              "families": train.setup.family.count(), "painted": not window.grab().isNull(),
              "family": train.setup.family_name, "headline": train.controls.headline.text(),
              "setup_enabled": train.setup_area.isEnabled(), "drop": accepts_a_dropped_folder(),
              "pending": train.setup.pending, "form": train.setup.form_values(),
              "datasets": train.setup.dataset.combo.count(), "dataset": train.setup.dataset.spec}
    width = train.setup.model_form.editors["width"]
    width.setValue(4)  # below the family's minimum: checked, and Start refused, without torch
    before.update(bad_reason=train.setup.reason, bad_start=train.controls.start_button.isEnabled())
    width.setValue(64)
    before.update(good_start=train.controls.start_button.isEnabled(), torch_after_checks="torch" in sys.modules)
    window.show_page("runs")  # before torch: a placeholder, and still no torch
    app.processEvents()
    before["runs_early"] = window.stack.currentWidget() is window._loading
    before["torch_after_runs"] = "torch" in sys.modules
    gate.set()
    spin(preload.loaded)
    app.processEvents()
    after = {"runs_page": type(window.stack.currentWidget()).__name__}
    window.show_page("train")
    spin(lambda: not train.setup.dataset.loading)
    after.update(torch="torch" in sys.modules, reason=train.setup.reason,
                 start=train.controls.start_button.isEnabled(), about=window.about.text(),
                 form=train.setup.model_form is not None, plot=type(train.plot).__name__,
                 headline=train.controls.headline.text(), setup_enabled=train.setup_area.isEnabled(),
                 drop=accepts_a_dropped_folder())
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    shortcuts, clicks = {}, {}
    for i, key in enumerate(window.pages):
        QTest.keyClick(window, Qt.Key(Qt.Key_1 + i), Qt.ControlModifier)
        app.processEvents()
        shortcuts[key] = [window.page, type(window.stack.currentWidget()).__name__]
    for row in reversed(range(window.sidebar.count())):
        rect = window.sidebar.visualItemRect(window.sidebar.item(row))
        QTest.mouseClick(window.sidebar.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
        app.processEvents()
        clicks[window.page] = type(window.stack.currentWidget()).__name__
    after.update(shortcuts=shortcuts, clicks=clicks)
    print("RESULT", __import__("json").dumps({"before": before, "after": after}))
    window.close()
""")


# A Start clicked while torch is still importing: "Preparing…" (the UI thread does not wait for
# the import), then the run trains once torch and the images are in, with the form's choices.
EARLY_START = PRELUDE + textwrap.dedent("""
    setup = train.setup
    for name, value in {"steps": 2, "batch_size": 8, "seed": 3}.items():
        setup.training_form.editors[name].setValue(value)
    for name, value in {"latent_dim": 2, "width": 8}.items():
        setup.model_form.editors[name].setValue(value)
    ended = []
    train.run_ended.connect(lambda path, status: ended.append((path, status)))
    t0 = time.monotonic()
    QTest.mouseClick(train.controls.start_button, Qt.LeftButton)
    clicked_s = time.monotonic() - t0
    QTest.qWait(200)  # the window keeps answering while the Start waits
    early = {"clicked_s": clicked_s < 0.5, "state": train.state, "button": train.controls.start_button.text(),
             "start": train.controls.start_button.isEnabled(), "stop": train.controls.stop_button.isEnabled(),
             "torch": "torch" in sys.modules, "handle": train.handle is None, "message": train.controls.message.text()}
    gate.set()
    spin(lambda: ended)
    from studio.runs import Run

    run = Run.open(ended[0][0])
    spec = run.spec()
    print("RESULT", __import__("json").dumps({"early": early, "status": ended[0][1], "step": run.step,
          "spec": [spec.family, spec.data, spec.steps, spec.batch_size, spec.seed],
          "options": {k: spec.options[k] for k in ("latent_dim", "width")}, "button": train.controls.start_button.text()}))
    window.close()
""")


def run_script(script: str, tmp_path: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_RUNS_DIR": str(tmp_path / "runs"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "OMP_NUM_THREADS": "1",
           "STUDIO_STARTUP_PROBE": str(tmp_path / "probe.json")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_a_start_clicked_before_torch_has_loaded_waits_then_trains(tmp_path):
    result = run_script(EARLY_START, tmp_path)
    assert result["early"] == {"clicked_s": True, "state": "preparing", "button": "Preparing…", "start": False,
                               "stop": True, "torch": False, "handle": True,
                               "message": "Loading PyTorch… The run begins once that is done."}
    assert result["status"] == "finished" and result["step"] == 2
    assert result["spec"] == ["vae", "fashion-mnist-5k", 2, 8, 3]
    assert result["options"] == {"latent_dim": 2, "width": 8} and result["button"] == "▶  Start"


def test_the_train_page_paints_before_torch_and_every_page_works_when_built_later(tmp_path):
    result = run_script(SCRIPT, tmp_path)
    before, after = result["before"], result["after"]
    assert before == {"torch": False, "torchvision": False, "pyqtgraph": False, "plot": True, "page": True,
                      "built": ["train"], "reason": None, "start": True, "families": 9, "painted": True,
                      "runs_early": True, "torch_after_runs": False, "family": "vae", "headline": "",
                      "setup_enabled": True, "drop": False, "pending": "Loading PyTorch…",
                      "form": {"steps": 2000, "batch_size": 128, "lr": 0.002, "seed": 0, "latent_dim": 32, "width": 64,
                               "beta": 1.0, "norm": "batch"},  # the VAE's standard preset
                      "datasets": 13, "dataset": "fashion-mnist-5k",
                      "bad_reason": "Width must be from 8 to 512 (you typed 4)", "bad_start": False, "good_start": True,
                      "torch_after_checks": False}
    assert after["runs_page"] == "RunsPanel"  # the page asked for early comes once torch is in
    assert after["torch"] and after["form"] and after["reason"] is None and after["start"]
    assert after["plot"] == "MetricsPlot" and after["headline"] == "Ready" and after["setup_enabled"]
    assert after["drop"]
    assert after["about"].endswith("· CPU") or "·" in after["about"]
    classes = {"train": "TrainPanel", "latent": "LatentPanel", "diffusion": "DiffusionPanel", "runs": "RunsPanel",
               "playground": "PlaygroundPanel"}
    assert after["shortcuts"] == {key: [key, cls] for key, cls in classes.items()}  # Ctrl+1 … Ctrl+5
    assert after["clicks"] == classes  # the sidebar, each page
    marks = json.loads((tmp_path / "probe.json").read_text())  # the probe open_window made lived on
    assert set(marks) == {"window", "usable", "loaded", "ready"}
    assert marks["window"] <= marks["usable"] < marks["loaded"] <= marks["ready"]  # usable before torch


def test_the_probe_records_first_paint_loaded_and_usable(window, qtbot, tmp_path, monkeypatch):
    from studio.qt.startup import MARKS, StartupProbe

    path = tmp_path / "probe.json"
    monkeypatch.setenv("STUDIO_STARTUP_PROBE", str(path))
    probe = StartupProbe.from_environment()
    probe.watch(window)
    window.update()
    qtbot.waitUntil(path.exists, timeout=20_000)
    marks = json.loads(path.read_text())
    assert set(marks) == set(MARKS)
    assert marks["window"] <= marks["usable"] and marks["loaded"] <= marks["usable"]
    monkeypatch.delenv("STUDIO_STARTUP_PROBE")
    assert StartupProbe.from_environment() is None


def test_a_window_before_torch_restores_and_keeps_the_saved_choices(make_window, monkeypatch):
    """Before torch is in, the window restores the saved family and its form at once; the saved
    device (listed only once torch is in) is neither lost on closing nor overwritten."""
    from studio.qt import preload

    window = make_window()
    setup = window.train.setup
    setup.family.setCurrentText("ddpm")
    setup.model_form.editors["base_channels"].setValue(16)
    setup.device.setCurrentIndex(setup.device.findData("cpu"))
    window.save_settings()
    monkeypatch.setattr(preload, "_state", {**preload._state, "core": "deferred", "callbacks": []})
    from studio.qt.main_window import MainWindow
    from PySide6.QtCore import QSettings

    early = MainWindow(QSettings())
    setup = early.train.setup
    assert setup.family_name == "ddpm" and setup.form_values()["base_channels"] == 16
    assert setup.reason is None and setup.pending == "Loading PyTorch…"
    assert early.train.controls.start_button.isEnabled() and setup.device.count() == 1  # only "Automatic"
    early.save_settings()
    assert QSettings().value("train/family") == "ddpm" and QSettings().value("train/device") == "cpu"
    early.deleteLater()
