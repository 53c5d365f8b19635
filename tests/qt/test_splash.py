"""The start-up splash and the probe that times the first paint of the main window."""

from __future__ import annotations

import json
import time

from studio.qt.splash import SIZE, StartupProbe, show_splash


def test_the_splash_shows_at_once_with_the_name(qapp, qtbot):
    splash = show_splash(qapp)
    qtbot.addWidget(splash)
    assert splash.isVisible()
    image = splash.grab().toImage()
    assert (image.width(), image.height()) == SIZE
    assert len({image.pixel(x, 100) for x in range(0, SIZE[0], 4)}) > 5  # icon and text, not a blank box
    assert "splash" in StartupProbe._marks


def test_the_probe_records_the_first_paint_of_the_window(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(StartupProbe, "_marks", {"splash": time.time()})
    path = tmp_path / "probe.json"
    monkeypatch.setenv("STUDIO_STARTUP_PROBE", str(path))
    probe = StartupProbe.from_environment()
    probe.watch(window)
    window.update()
    qtbot.waitUntil(path.exists, timeout=10_000)
    marks = json.loads(path.read_text())
    assert marks["splash"] <= marks["window"] <= time.time()
    monkeypatch.delenv("STUDIO_STARTUP_PROBE")
    assert StartupProbe.from_environment() is None
