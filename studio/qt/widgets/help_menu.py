"""The Help menu at the foot of the sidebar: the glossary (F1) — every number the studio shows,
in plain words with the exact definition and the technical name — and About."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QMenu, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from ...glossary import glossary_html


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


def help_button(window: QWidget) -> QToolButton:
    """"Help" with Glossary (F1) and About; the glossary dialog is made on first use."""
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

    menu.addAction("Glossary…  (F1)", show_glossary)
    menu.addAction("About Generative Studio…", lambda: _about(window))
    button.setMenu(menu)
    QShortcut(QKeySequence("F1"), window, activated=show_glossary)
    button.glossary = show_glossary  # for tests and the selftest
    button.dialogs = dialogs
    return button


def _about(window: QWidget) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ... import __version__

    QMessageBox.about(window, "About Generative Studio",
                      f"<b>Generative Studio</b> {__version__}<br>Train small generative models on your own "
                      "images, watch them learn, explore their latent spaces and step through diffusion — "
                      "offline. MIT licence; bundled data and models: see resources/ATTRIBUTION.md.")
