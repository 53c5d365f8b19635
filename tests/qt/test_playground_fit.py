"""The Playground page at 1366×768 in every state: the window never asks for more than a laptop
gives it (minimumSizeHint ≤ 1340×730) and no text is cut off (it fits or elides with "…" and the
whole text as tooltip) — idle, playing, Compare playing, each lesson, a long status message."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.playground import LESSONS
from tests.qt.test_diffusion_fit import fits as fits_1366


def fits(window, qtbot, state: str) -> None:
    fits_1366(window, qtbot, state, window.playground)
    controls = window.playground.controls  # the left column is as wide as its scroll area shows, no wider
    assert controls.width() <= controls.parentWidget().width(), (state, controls.width())


@pytest.fixture
def playground(window, qtbot):
    window.resize(1340, 730)
    window.show_page("playground")
    page = window.playground
    yield window
    handle = page.handle
    page.shutdown()
    if handle is not None:
        assert handle.wait(10)


def wait_frames(qtbot, page, n: int = 2) -> None:
    start = page.frames_drawn
    qtbot.waitUntil(lambda: page.frames_drawn >= start + n, timeout=30_000)


def test_the_playground_fits_1366_by_768_in_every_state(playground, qtbot):
    window, page = playground, playground.playground
    fits(window, qtbot, "idle")
    qtbot.mouseClick(page.play, Qt.LeftButton)
    wait_frames(qtbot, page)
    fits(window, qtbot, "playing")
    qtbot.mouseClick(page.compare, Qt.LeftButton)  # the long "Compare: … restarted …" status line
    qtbot.waitUntil(lambda: "restarted" in page.message.text(), timeout=10_000)
    wait_frames(qtbot, page)
    fits(window, qtbot, "Compare playing")
    for lesson in LESSONS:
        page.controls.lesson.setCurrentIndex(page.controls.lesson.findData(lesson.key))
        qtbot.waitUntil(lambda: "restarted" in page.message.text(), timeout=10_000)
        fits(window, qtbot, f"lesson {lesson.key} playing, compared")
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    fits(window, qtbot, "one view after Compare")
    page.message.setText("a very long status message that goes on and on " * 6)
    fits(window, qtbot, "long status message")


def test_compared_views_show_their_options_whole(playground, qtbot):
    """Two GANs side by side differ only by their loss: "loss = vanilla" / "loss = wgan-gp" must be
    read whole at 1340×730 (the family boxes, sized to their longest item, left "loss = …" in both)."""
    from PySide6.QtWidgets import QLabel

    window, page = playground, playground.playground
    page.controls.lesson.setCurrentIndex(page.controls.lesson.findData("gan-mode-collapse"))
    qtbot.mouseClick(page.compare, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.panes[1].isVisible(), timeout=10_000)
    window.resize(1340, 730)
    qtbot.wait(50)
    shown = [QLabel.text(pane.options_label) for pane in page.panes]
    assert shown == [pane.options_label.full_text for pane in page.panes]
    assert {s.split(" = ")[-1] for s in shown} == {"vanilla", "wgan-gp"}
    box = page.panes[0].family
    assert box.width() < box.view().minimumWidth() + 60  # the closed box fits "GAN", its list the longest name
