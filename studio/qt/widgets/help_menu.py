"""The Help menu at the foot of the sidebar: the glossary (F1) — every number the studio shows,
in plain words with the exact definition and the technical name —, the keyboard shortcuts
(Ctrl+/: read from the window, ``shortcut_list``) and About."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHeaderView, QLabel, QMenu, QTableWidget,
                               QTableWidgetItem, QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from ...glossary import glossary_html
from .shortcut_list import Shortcut


class GlossaryDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Glossary — what the numbers mean")
        self.text = QTextBrowser()
        self.text.setHtml("<p>Every figure the studio shows, in plain words; the technical name is in "
                          "italics (hover any plot title for the same text).</p>" + glossary_html())
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.resize(640, 520)


class ShortcutsDialog(QDialog):
    """The window's keyboard shortcuts as a table (keys · what · where), read afresh from
    ``shortcuts()`` each time it is shown."""

    def __init__(self, shortcuts: Callable[[], list[Shortcut]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self._shortcuts = shortcuts
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Keys", "What it does", "Where"])
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        note = QLabel("A page's keys work while that page is on show; those marked Everywhere work on "
                      "every page.", wordWrap=True)
        note.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(note)
        self.resize(720, 560)

    def refresh(self) -> None:
        rows = self._shortcuts()
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate((row.keys, row.what or "—", row.where)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeRowsToContents()

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row (keys, what, where)."""
        return [tuple(self.table.item(i, j).text() for j in range(3)) for i in range(self.table.rowCount())]

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.refresh()
        super().showEvent(event)


def help_button(window: QWidget, shortcuts: Callable[[], list[Shortcut]]) -> QToolButton:
    """"Help" with Glossary (F1), Keyboard shortcuts (Ctrl+/; ``shortcuts()`` lists them) and
    About; each dialog is made on first use."""
    button = QToolButton(window, text="?  Help")
    button.setObjectName("helpButton")
    button.setPopupMode(QToolButton.InstantPopup)
    button.setToolButtonStyle(Qt.ToolButtonTextOnly)
    menu = QMenu(button)
    dialogs: dict[str, QDialog] = {}

    def show_glossary() -> None:
        dialog = dialogs.setdefault("glossary", GlossaryDialog(window))
        dialog.show()
        dialog.raise_()

    def show_shortcuts() -> None:
        dialog = dialogs.setdefault("shortcuts", ShortcutsDialog(shortcuts, window))
        dialog.show()
        dialog.refresh()  # shown already: read again
        dialog.raise_()

    keys = {}
    for key, what, slot in (("F1", "The glossary: what each number means", show_glossary),
                            ("Ctrl+/", "This list of keyboard shortcuts", show_shortcuts)):
        keys[slot] = QShortcut(QKeySequence(key), window, activated=slot, whatsThis=what).key().toString(
            QKeySequence.NativeText)
    menu.addAction(f"Glossary…  ({keys[show_glossary]})", show_glossary)
    menu.addAction(f"Keyboard shortcuts…  ({keys[show_shortcuts]})", show_shortcuts)
    menu.addAction("About Generative Studio…", lambda: _about(window))
    button.setMenu(menu)
    button.glossary = show_glossary  # for tests and the selftest
    button.shortcuts = show_shortcuts
    button.dialogs = dialogs
    return button


def _about(window: QWidget) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ... import __version__

    QMessageBox.about(window, "About Generative Studio",
                      f"<b>Generative Studio</b> {__version__}<br>Train small generative models on your own "
                      "images, watch them learn, explore their latent spaces and step through diffusion — "
                      "offline. MIT licence; bundled data and models: see resources/ATTRIBUTION.md.")
