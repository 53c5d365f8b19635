"""The Playground page off the happy path, as a user gets there: Play / Reset / Step pressed
over and over, another page opened mid-training and back, the window closed while it trains."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt


def playground_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "studio-playground" and t.is_alive()]


def test_play_reset_and_step_spam_leave_one_consistent_run(qtbot, make_window):
    window = make_window()
    window.show_page("playground")
    page = window.playground
    page.controls.lesson.setCurrentIndex(page.controls.lesson.findData("autoregressive-bins"))
    for _ in range(6):
        qtbot.mouseClick(page.play, Qt.LeftButton)
        qtbot.mouseClick(page.reset, Qt.LeftButton)
    assert page.job is None and page.play.text() == "▶ Play" and page.pane.step_label.text() == "step 0"
    for _ in range(5):  # play, pause, resume, pause, resume
        qtbot.mouseClick(page.play, Qt.LeftButton)
    assert page.running and not page.job.paused and page.play.text() == "❚❚ Pause"
    for _ in range(4):  # Step while playing pauses, and each press adds a frame's steps
        qtbot.mouseClick(page.step_button, Qt.LeftButton)
    job = page.job
    assert job.paused and page.play.text() == "▶ Play"
    qtbot.waitUntil(lambda: job._pending_steps == 0 and page.pane.step_label.text() == f"step {job.step:,}",
                    timeout=10_000)
    qtbot.waitUntil(lambda: len(playground_threads()) == 1, timeout=10_000)  # the reset runs have ended
    step = job.step
    qtbot.wait(300)
    assert job.step == step  # paused stays paused
    qtbot.mouseClick(page.play, Qt.LeftButton)
    page.controls.family.setCurrentIndex(page.controls.family.findData("vae"))  # a new model, started at once ...
    qtbot.mouseClick(page.reset, Qt.LeftButton)  # ... unless Reset comes first
    qtbot.wait(200)
    assert page.job is None and page.message.text() == "" and page.play.text() == "▶ Play"
    qtbot.mouseClick(page.play, Qt.LeftButton)
    page.controls.family.setCurrentIndex(page.controls.family.findData("flow"))  # a restart is due ...
    qtbot.mouseClick(page.play, Qt.LeftButton)  # ... but Play came first: one run, not two
    qtbot.wait(200)
    assert page.running and page.job.model.name == "flow"
    qtbot.waitUntil(lambda: len(playground_threads()) == 1, timeout=10_000)


def test_another_page_pauses_the_playground_and_coming_back_resumes_it(qtbot, make_window):
    window = make_window()
    window.show_page("playground")
    page = window.playground
    page.controls.lesson.setCurrentIndex(page.controls.lesson.findData("autoregressive-bins"))
    qtbot.mouseClick(page.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.frames_drawn >= 2, timeout=20_000)
    window.show_page("train")  # nobody watches: it must not take a core from a real training
    qtbot.waitUntil(lambda: page.job.paused, timeout=2_000)
    step = page.job.step
    qtbot.wait(400)
    assert page.job.step <= step + page.state.speed
    window.show_page("playground")
    qtbot.waitUntil(lambda: not page.job.paused and page.job.step > step + page.state.speed, timeout=10_000)
    assert page.play.text() == "❚❚ Pause"
    qtbot.mouseClick(page.play, Qt.LeftButton)  # paused by the user: coming back leaves it paused
    window.show_page("train")
    window.show_page("playground")
    assert page.job.paused and page.play.text() == "▶ Play"


def test_closing_the_window_while_it_trains_ends_the_run(qtbot, make_window):
    window = make_window()
    window.show_page("playground")
    page = window.playground
    page.compare.setChecked(True)
    qtbot.mouseClick(page.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.frames_drawn >= 1, timeout=30_000)
    handle = page.handle
    window.close()
    assert handle.wait(5) and not playground_threads()
    qtbot.wait(100)  # nothing the ended job sent may reach the closed page and fail
