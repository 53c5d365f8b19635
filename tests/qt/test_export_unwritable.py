"""Exports into a folder that cannot be written, a second export while one is made, and closing
the window while a GIF is written: the Playground (PNG, GIF) and the Diffusion viewer's Export
menu (which the Edit page shares), driven through their buttons with the save dialog answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from tests.core.test_unwritable import unwritable  # noqa: F401 (a fixture: a folder refusing every write)
from tests.qt.test_diffusion_page import page as viewer  # noqa: F401 (a fixture: the viewer on a tiny DDPM)
from tests.qt.test_playground_page import page as playground  # noqa: F401 (a fixture: the Playground page)
from tests.qt.test_playground_page import wait_frame


@pytest.fixture
def dialog(monkeypatch):
    """The save dialog answers with ``dialog.answer``; ``dialog.starts`` lists where it opened."""

    class Dialog:
        answer, starts = "", []

    def ask(parent, title, start, kinds):
        Dialog.starts.append(str(Path(start).parent))
        return Dialog.answer, kinds

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))
    return Dialog


def refused_line(folder) -> str:
    return f"Can't write to {folder} (permission denied): choose another folder"


def recorded(qtbot, page, steps: int = 2) -> None:
    for _ in range(steps):
        qtbot.mouseClick(page.step_button, Qt.LeftButton)
        wait_frame(qtbot, page)
    assert page.recorder.frames


def test_playground_gif_into_an_unwritable_folder_is_refused_before_drawing(
        qtbot, playground, dialog, unwritable, tmp_path):
    page = playground
    recorded(qtbot, page)
    said = []
    page.gif.said.connect(lambda text, role: said.append(text))
    dialog.answer = str(unwritable / "pg.gif")
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    assert page.message.text() == refused_line(unwritable)
    assert page.message.property("role") == "error"
    assert not page.gif.busy and page.gif._stage is None and not any(t.startswith("Drawing") for t in said)
    assert page.export_gif.isEnabled() and list(unwritable.iterdir()) == []
    dialog.answer = ""  # the next dialog does not open in the folder that failed
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    assert dialog.starts[-1] != str(unwritable)
    dialog.answer = str(tmp_path / "ok.png")  # a later plain line is muted again
    qtbot.mouseClick(page.export, Qt.LeftButton)
    assert page.message.text() == f"Saved ok.png in {tmp_path}" and page.message.property("role") == "muted"


def test_playground_png_into_an_unwritable_folder_says_why(qtbot, playground, dialog, unwritable):
    page = playground
    dialog.answer = str(unwritable / "x.png")
    qtbot.mouseClick(page.export, Qt.LeftButton)
    assert page.message.text() == refused_line(unwritable) and page.message.property("role") == "error"
    assert list(unwritable.iterdir()) == []


def test_export_gif_is_off_while_a_gif_is_made_and_on_again_after(qtbot, playground, dialog, tmp_path):
    page = playground
    recorded(qtbot, page, 3)
    dialog.answer = str(tmp_path / "a.gif")
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    assert page.gif.busy and not page.export_gif.isEnabled()
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)  # a second press does nothing: no dialog, no lost request
    assert len(dialog.starts) == 1
    page.gif.save(page.recorder.frames, page.panes, str(tmp_path / "b.gif"))  # nor a script's
    assert page.message.text() == "Still writing a.gif: export again once it is saved"
    qtbot.waitUntil(lambda: page.message.text().startswith("Saved a.gif"), timeout=60_000)
    assert page.export_gif.isEnabled() and (tmp_path / "a.gif").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".gif") == ["a.gif"]


def test_closing_while_a_gif_is_written_hides_the_window_and_writes_it_whole(
        qtbot, playground, dialog, tmp_path, monkeypatch):
    from studio.qt.widgets import playground_export

    page = playground
    recorded(qtbot, page, 3)
    shown_while_written = []
    real = playground_export.save_gif

    def save_gif(*args, **kwargs):
        shown_while_written.append(page.isVisible())
        return real(*args, **kwargs)

    monkeypatch.setattr(playground_export, "save_gif", save_gif)
    dialog.answer = str(tmp_path / "closing.gif")
    qtbot.mouseClick(page.export_gif, Qt.LeftButton)
    assert page.gif.busy
    page.close()  # mid-drawing: the rest is drawn, then written, with the window off the screen
    assert shown_while_written == [False] and not page.isVisible()
    assert (tmp_path / "closing.gif").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir() if "gif" in p.name) == ["closing.gif"]  # no .tmp left


def test_viewer_export_into_an_unwritable_folder_is_refused_before_the_work(qtbot, viewer, dialog, unwritable):
    page = viewer
    page.top.steps.setValue(4)
    page.top.run_button.click()
    qtbot.waitUntil(lambda: not page.busy and page.export_button.isEnabled(), timeout=60_000)
    for action in page.export_button.menu().actions()[:3]:  # this step, the grid, the GIF
        dialog.answer = str(unwritable / f"d.{'gif' if action.data() == 'gif' else 'png'}")
        action.trigger()
        assert page.message.text() == refused_line(unwritable) and page.message.property("role") == "error"
        assert not page._tasks["export"].busy
    dialog.answer = ""
    page.export_button.menu().actions()[0].trigger()
    assert str(unwritable) not in dialog.starts[-1:]  # the failed folder is not the next dialog's
    assert list(unwritable.iterdir()) == []


def test_viewer_export_is_off_while_one_is_written(qtbot, viewer, dialog, tmp_path):
    page = viewer
    page.top.steps.setValue(4)
    page.top.run_button.click()
    qtbot.waitUntil(lambda: not page.busy and page.export_button.isEnabled(), timeout=60_000)
    gif = next(a for a in page.export_button.menu().actions() if a.data() == "gif")
    dialog.answer = str(tmp_path / "d.gif")
    with qtbot.waitSignal(page._tasks["export"].succeeded, timeout=30_000):
        gif.trigger()
        assert not page.export_button.isEnabled() and page.message.text() == "Exporting d.gif…"
    assert page.export_button.isEnabled() and page.message.text() == f"Saved d.gif in {tmp_path}"
