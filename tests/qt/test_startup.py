"""Start-up: the window and its Train page paint before torch is imported; the pages built later
work; the probe behind packaging/startup_time.py records its three moments."""

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
SCRIPT = textwrap.dedent("""
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
              "setup_enabled": train.setup_area.isEnabled(), "drop": accepts_a_dropped_folder()}
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


def test_the_train_page_paints_before_torch_and_every_page_works_when_built_later(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_RUNS_DIR": str(tmp_path / "runs"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "OMP_NUM_THREADS": "1",
           "STUDIO_STARTUP_PROBE": str(tmp_path / "probe.json")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-4000:]
    result = json.loads(lines[-1][len("RESULT "):])
    before, after = result["before"], result["after"]
    assert before == {"torch": False, "torchvision": False, "pyqtgraph": False, "plot": True, "page": True,
                      "built": ["train"],
                      "reason": "Loading PyTorch…", "start": False, "families": 9, "painted": True,
                      "runs_early": True, "torch_after_runs": False, "family": "vae", "headline": "",
                      "setup_enabled": False, "drop": False}
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
    assert set(marks) == {"window", "loaded", "usable"} and marks["window"] < marks["loaded"] <= marks["usable"]


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


def test_closing_before_torch_has_loaded_keeps_the_saved_choices(make_window, monkeypatch):
    """A window closed while torch still loads has no forms yet: it must not overwrite the
    saved Train settings with empty ones (nor fail)."""
    from studio.qt import preload

    window = make_window()
    window.train.setup.family.setCurrentText("ddpm")
    window.save_settings()
    monkeypatch.setattr(preload, "_state", {**preload._state, "core": "deferred", "callbacks": []})
    from studio.qt.main_window import MainWindow
    from PySide6.QtCore import QSettings

    early = MainWindow(QSettings())
    assert early.train.setup.model_form is None and early.train.setup.reason == "Loading PyTorch…"
    early.save_settings()
    assert QSettings().value("train/family") == "ddpm"
    early.deleteLater()
