"""The Runs page's folder actions and the questions they ask: the chosen run's path row (the
folder whole, selectable, [Copy path]); "Show in folder", which says where the folder is when no
file manager opens it; the rename and delete dialogs (``RunDialogs``, which tests replace)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QInputDialog, QMessageBox, QToolButton, QWidget

from .plain_text import message, plain
from .wrap_text import WrapText

COPIED_MS = 2000  # how long a copy button reads "Copied"
COPY_TIP = "Copy the run folder's path (Ctrl+C in the table; right-click a row for its name)"


def copy_text(button: QAbstractButton, text: str) -> None:
    """Put ``text`` on the clipboard and say so on ``button`` ("Copied ✓" for ``COPIED_MS``,
    then its own text again)."""
    QGuiApplication.clipboard().setText(text)
    own = button.property("ownText") or button.text()
    button.setProperty("ownText", own)
    button.setText("Copied ✓")
    QTimer.singleShot(COPIED_MS, button, lambda: button.setText(own))


class PathRow(QWidget):
    """The run folder, whole: it wraps anywhere and copies as it is (``WrapText``); [Copy path]
    beside it copies it too, saying "Copied ✓" for a moment. ``setText("")``: no folder chosen
    (Copy path is off)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = ""
        self.path_text = WrapText("", "muted")
        self.copy_button = QToolButton(text="Copy path")
        self.copy_button.setMinimumWidth(max(QToolButton(text=text).sizeHint().width()  # the same size saying either
                                             for text in ("Copy path", "Copied ✓")))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.setText("")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path_text, 1)
        row.addWidget(self.copy_button, 0, Qt.AlignTop)

    def setText(self, path: str) -> None:  # noqa: N802 (a label's API)
        self.path = path
        self.path_text.setText(path)
        self.copy_button.setEnabled(bool(path))
        self.copy_button.setToolTip(COPY_TIP if path else "Choose a run in the table first")

    @Slot()
    def _on_copy_clicked(self) -> None:
        if self.path:
            copy_text(self.copy_button, self.path)


class RunDialogs:
    """The Runs page's questions and notes, mixed into the page (a QWidget: their parent). Each
    is one method, so that a test replaces it on the page (``monkeypatch.setattr(runs, "confirm",
    ...)``) and no modal dialog waits for a click."""

    def reveal(self, path: str, what: str) -> None:
        """Open ``path`` in the file manager; where none opens it (none installed: Qt only warns on
        stderr and openUrl returns False), say so in the window with the path, selectable and
        copyable."""
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            self.show_path(f"No file manager opened {what}. It is here:", path)

    def ask_new_name(self, current: str) -> str | None:
        name, ok = QInputDialog.getText(self, "Rename run", "New name:", text=current)
        return name.strip() if ok else None

    def confirm(self, title: str, text: str, action: str) -> bool:
        box = plain(QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Cancel, self))  # quotes the run's name
        button = box.addButton(action, QMessageBox.DestructiveRole)
        box.setDefaultButton(QMessageBox.Cancel)
        box.exec()
        return box.clickedButton() is button

    def show_error(self, title: str, text: str) -> None:
        message(self, title, text)

    def show_path(self, text: str, path: str) -> QMessageBox:
        """A small window-modal box: ``text``, the whole ``path`` selectable, [Copy path] [Close]."""
        box = plain(QMessageBox(QMessageBox.Information, "Show in folder", f"{text}\n\n{path}", QMessageBox.Close,
                                self))
        box.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        copy = box.addButton("Copy path", QMessageBox.ActionRole)
        copy.clicked.disconnect()  # copies and keeps the box open
        copy.clicked.connect(lambda: copy_text(copy, path))
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        return box
