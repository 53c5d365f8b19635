"""The one rule for where the app's file dialogs open: in the folder last used for that kind of
file (remembered across sessions in QSettings under ``folders/<kind>``), else the user's Pictures
folder when it exists, else the home folder. Never the process's working folder: Qt opens a
dialog there when given "" or a folder that does not exist (a fresh account has no ~/Pictures).
A file to save is checked first (``export.write_problem``): a folder that cannot be written is
said at once and never remembered, so the next dialog does not open in it again."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from ...errors import sentence
from ...export import write_problem
from .plain_text import message

KEYS = {"export": "export/folder"}  # images, GIFs and videos saved (the key older versions wrote)


def _key(kind: str) -> str:
    return KEYS.get(kind, f"folders/{kind}")


def start_folder(kind: str = "export") -> str:
    """Where a dialog for ``kind`` of file opens ("export", "config", "picture", "images", ...)."""
    last = QSettings().value(_key(kind), "", type=str)
    if last and Path(last).is_dir():
        return last
    pictures = QStandardPaths.writableLocation(QStandardPaths.PicturesLocation)
    return pictures if pictures and Path(pictures).is_dir() else str(Path.home())


def remember(kind: str, path: str) -> None:
    """Remember the folder of ``path`` (a chosen file) or ``path`` itself (a chosen folder)."""
    if path:
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        QSettings().setValue(_key(kind), str(folder))


def ask_save_path(parent: QWidget, title: str, name: str, kinds: str, kind: str = "",
                  refused: Callable[[str], None] | None = None) -> str:
    """The path the user chose for ``name`` (``kinds``: a Qt file filter), or "" if cancelled.
    ``kind`` (default: "config" for a .json name, else "export") picks the remembered folder.
    A path that cannot be written (``export.write_problem``: a read-only folder, …) is refused
    before the caller draws anything: "" is returned, its folder is not remembered, and the
    line ("Can't write to F (permission denied): choose another folder") goes to ``refused``
    (the caller's status line, shown as an error), or without one to a modal note."""
    kind = kind or ("config" if name.endswith(".json") else "export")
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(start_folder(kind)) / name), kinds)
    problem = write_problem(path, create=True) if path else None
    if problem:
        (refused or (lambda line: message(parent, title, line)))(sentence(problem))
        return ""
    remember(kind, path)
    return path


def ask_open_path(parent: QWidget, title: str, kinds: str, kind: str) -> str:
    """A file to open (``kinds``: a Qt file filter), or "" if cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start_folder(kind), kinds)
    remember(kind, path)
    return path


def ask_folder(parent: QWidget, title: str, kind: str, start: str = "") -> str:
    """A folder (opening in ``start`` when it exists, else the rule above), or "" if cancelled."""
    folder = QFileDialog.getExistingDirectory(parent, title, start if start and Path(start).is_dir()
                                              else start_folder(kind))
    remember(kind, folder)
    return folder
