"""One save dialog for every export: it opens in the user's Pictures folder the first time,
then in the folder last saved to (remembered across sessions)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

KEY = "export/folder"


def start_folder() -> str:
    last = QSettings().value(KEY, "", type=str)
    if last and Path(last).is_dir():
        return last
    return QStandardPaths.writableLocation(QStandardPaths.PicturesLocation) or str(Path.home())


def ask_save_path(parent: QWidget, title: str, name: str, kinds: str) -> str:
    """The path the user chose for ``name`` (``kinds``: a Qt file filter), or "" if cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(start_folder()) / name), kinds)
    if path:
        QSettings().setValue(KEY, str(Path(path).parent))
    return path
