"""Where the file dialogs open (widgets/save_dialog.py, the one rule): the folder last used for
that kind of file, else an existing Pictures folder, else home; never the working folder."""

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from studio.qt.widgets import save_dialog


@pytest.fixture
def starts(monkeypatch, tmp_path):
    seen = []

    def save(parent, title, start, kinds):
        seen.append(start)
        return str(tmp_path / "chosen" / Path(start).name), kinds

    def folder(parent, title, start):
        seen.append(start)
        return str(tmp_path / "images")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(folder))
    (tmp_path / "chosen").mkdir()
    (tmp_path / "images").mkdir()
    for key in ("export/folder", "folders/config", "folders/images", "folders/run"):
        save_dialog.QSettings().remove(key)
    return seen


def test_no_pictures_folder_opens_home_not_the_working_folder(qtbot, monkeypatch, tmp_path, starts):
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda _kind: str(tmp_path / "Pictures")))
    assert save_dialog.start_folder("export") == str(Path.home())  # was .../Pictures, absent: Qt used the cwd
    (tmp_path / "Pictures").mkdir()
    assert save_dialog.start_folder("export") == str(tmp_path / "Pictures")


def test_each_kind_remembers_its_own_folder(qtbot, monkeypatch, tmp_path, starts):
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda _kind: str(tmp_path)))
    parent = QWidget()
    qtbot.addWidget(parent)
    save_dialog.ask_save_path(parent, "Export run config", "vae.json", "Run config (*.json)")
    assert starts[-1] == str(tmp_path / "vae.json")
    save_dialog.ask_save_path(parent, "Export run config", "dcgan.json", "Run config (*.json)")
    assert starts[-1] == str(tmp_path / "chosen" / "dcgan.json")  # the config folder last used
    save_dialog.ask_save_path(parent, "Save image", "a.png", "PNG (*.png)")
    assert starts[-1] == str(tmp_path / "a.png")  # pictures: their own folder, not the config's
    assert save_dialog.ask_folder(parent, "Choose a folder of images", "images") == str(tmp_path / "images")
    assert starts[-1] == str(tmp_path)
    save_dialog.ask_folder(parent, "Choose a folder of images", "images")
    assert starts[-1] == str(tmp_path / "images")


def test_a_folder_dialog_given_a_missing_start_uses_the_rule(qtbot, monkeypatch, tmp_path, starts):
    """The run picker's "Open a run folder" starts in the runs folder, which a new user lacks:
    Qt then opened the working folder."""
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda _kind: str(tmp_path / "none")))
    parent = QWidget()
    qtbot.addWidget(parent)
    save_dialog.ask_folder(parent, "Open a run folder", "run", str(tmp_path / "no-runs-yet"))
    assert starts[-1] == str(Path.home())
    save_dialog.ask_folder(parent, "Open a run folder", "run", str(tmp_path))
    assert starts[-1] == str(tmp_path)
