"""Text from the user or the disk shown exactly as it is, never read as HTML.

Qt shows a QLabel's, a QMessageBox's and a tooltip's text as HTML whenever it merely looks like
HTML (``Qt.AutoText``, ``Qt.mightBeRichText``): a run named ``a<b>c`` showed a bold "c", a file
named ``<img src=…>`` would load a picture. Run names, folder and file paths, a picture's file
name, a dataset's folder names and every error that quotes them are such text. The rule:

- a widget that shows words is plain: ``cards.label`` and ``cards.ElidedLabel`` (``rich=True``
  where a caller really passes markup), ``wrap_text.WrapText.setText``, and ``plain`` for a label
  or message box made otherwise; ``message`` for a modal note;
- where markup and such text mix (a bold status beside a dataset name), the text goes through
  ``escape`` (this module is the one place that escapes);
- a tooltip has no plain mode: one that may hold such text goes through ``tip``;
- a button's or menu item's text makes "&" a shortcut marker ("cats & dogs" showed "cats  dogs"):
  such text goes through ``button_text``.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt as QtGuiQt
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def escape(text) -> str:
    """``text`` (any value: ``str()`` of it) as rich text that shows it literally: ``& < >``
    escaped, line breaks as ``<br>``."""
    return html.escape(str(text), quote=False).replace("\n", "<br>")


def tip(text: str) -> str:
    """A tooltip that shows ``text`` as it is: unchanged when Qt would show it plain anyway (a
    plain tooltip keeps its own line breaks, unwrapped), else escaped into a paragraph."""
    return QtGuiQt.convertFromPlainText(text, Qt.WhiteSpaceNormal) if QtGuiQt.mightBeRichText(text) else text


def button_text(text: str) -> str:
    """``text`` for a button, a menu item or a tab that shows its "&" (Qt reads "&x" as the
    shortcut Alt+X and hides the "&"; "&&" is one "&")."""
    return text.replace("&", "&&")


def plain(widget: QLabel | QMessageBox):
    """``widget`` set to show its text as plain text (returned, for use in an expression)."""
    widget.setTextFormat(Qt.PlainText)
    return widget


def message(parent: QWidget, title: str, text: str, icon=QMessageBox.Warning) -> None:
    """A modal note (as ``QMessageBox.warning``) whose ``text`` shows as it is."""
    plain(QMessageBox(icon, title, text, QMessageBox.Ok, parent)).exec()
