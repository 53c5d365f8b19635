"""The Train page at 1366×768 in every state, with the Settings column open and closed: nothing is
cut off (the headline's step count never; the secondary stats elide with a tooltip), and Start /
Pause / Stop stay where they are when Start hides the column."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QPoint, Qt

from tests.qt.test_diffusion_fit import fits as fits_1366


def fits(window, qtbot, state: str) -> None:
    """``state`` fits with the Settings column open and closed (the user may toggle it any time)."""
    panel = window.train
    shown = panel.controls.settings_button.isChecked()
    for open_ in (True, False):
        panel.controls.settings_button.setChecked(open_)
        fits_1366(window, qtbot, f"{state}, settings {'open' if open_ else 'closed'}", panel)
        headline = panel.controls.headline
        assert headline.sizeHint().width() <= headline.width(), (state, open_, headline.text())
    panel.controls.settings_button.setChecked(shown)


def test_the_train_page_fits_with_settings_open_and_closed_in_every_state(window, tiny_run, qtbot):
    panel, controls = window.train, window.train.controls
    window.resize(1340, 730)
    fits(window, qtbot, "idle")
    tiny_run(panel, steps=100_000)
    with qtbot.waitSignal(panel.run_started, timeout=60_000):
        panel.start()
    qtbot.waitUntil(lambda: controls.last is not None and controls.last.step >= 2, timeout=60_000)
    long = dataclasses.replace(controls.last, step=73_123, total=100_000, next_preview=80_000, eta_s=4000.0)
    controls._show(long)  # a long run's headline and stats
    assert controls.headline.text() == "Step 73,123 of 100,000"
    assert "next samples at step 80,000" in controls.detail.text()
    fits(window, qtbot, "running")
    panel.toggle_pause()
    qtbot.waitUntil(lambda: controls.headline.text().startswith("Paused"), timeout=10_000)
    fits(window, qtbot, "paused")
    with qtbot.waitSignal(panel.run_ended, timeout=30_000):
        panel.stop()
    assert controls.headline.text().startswith("Stopped at step ")
    fits(window, qtbot, "stopped")
    controls.show_outcome("finished")
    fits(window, qtbot, "finished")
    controls.show_outcome("failed")
    controls.set_message("training failed at step 1,234,567: " + "a very long reason " * 30, "error")
    fits(window, qtbot, "failed")


def test_stop_stays_under_the_mouse_when_start_hides_the_settings(window, tiny_run, qtbot):
    panel, controls = window.train, window.train.controls
    window.resize(1340, 730)
    tiny_run(panel, steps=100_000)
    qtbot.wait(30)
    assert panel.setup_area.isVisible()
    before = {b.text(): b.mapToGlobal(QPoint(0, 0)) for b in (controls.start_button, controls.pause_button,
                                                               controls.stop_button)}
    with qtbot.waitSignal(panel.run_started, timeout=60_000):
        qtbot.mouseClick(controls.start_button, Qt.LeftButton)
    qtbot.wait(30)
    assert not panel.setup_area.isVisible()  # the curves and samples get the room
    after = [b.mapToGlobal(QPoint(0, 0)) for b in (controls.start_button, controls.pause_button,
                                                    controls.stop_button)]
    assert after == list(before.values())
    with qtbot.waitSignal(panel.run_ended, timeout=30_000):
        qtbot.mouseClick(controls.stop_button, Qt.LeftButton)
