"""Selectable text that wraps anywhere a word is too long: run folder paths and messages holding
them (the Runs page's details, the Train page's message line)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from .. import theme

ROLE_COLORS = {"muted": theme.MUTED, "error": "#ff8a98", "warning": theme.WARNING, "title": "#ffffff"}
ROLE_FONTS = {"title": "font-size: 15pt; font-weight: 600;"}  # as dark.qss's QLabel[role="title"]


class WrapText(QTextBrowser):
    """Read-only, selectable text as tall as its lines that never widens its window: it wraps at
    spaces and, where a word is longer than the room (a 144-character folder name), anywhere
    (``QTextOption.WrapAtWordBoundaryOrAnywhere``); a QLabel wraps only at spaces, "/" and "-",
    and the zero-width spaces once inserted for it came along when the text was copied.
    ``setText`` shows its text as it is, never as HTML (a run named ``a<b>c``: see ``plain_text``);
    ``set_rich_text`` takes markup, whose user parts the caller escapes (``plain_text.escape``);
    ``text()`` gives what is shown, plain. The ``role`` property (``cards.set_role``: muted, error, warning, title) styles it as it does a label."""

    def __init__(self, text: str = "", role: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.setWordWrapMode(QTextOption.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setOpenLinks(False)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.setFocusPolicy(Qt.ClickFocus)  # a click selects; never handed focus (a text caret) when a button goes off
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.document().setDocumentMargin(0)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        if role:
            self.setProperty("role", role)
        self._colour()
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's API)
        self.setPlainText(text)
        self._fit_height()

    def set_rich_text(self, markup: str) -> None:
        """Show ``markup`` (rich text: ``<b>``, ``<br>``, ``<span style=…>``) as HTML."""
        self.setHtml(markup)
        self._fit_height()

    def text(self) -> str:
        return self.toPlainText()

    def event(self, event) -> bool:
        if event.type() == QEvent.DynamicPropertyChange and bytes(event.propertyName()) == b"role":
            self._colour()
        return super().event(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit_height()

    def _colour(self) -> None:
        role = self.property("role") or ""
        colour, font = ROLE_COLORS.get(role, theme.TEXT), ROLE_FONTS.get(role, "")
        self.setStyleSheet(f"QTextBrowser {{ background: transparent; border: none; color: {colour}; {font} }}")

    def _fit_height(self, *_args) -> None:
        self.document().setTextWidth(self.viewport().width())
        height = int(self.document().size().height() + 0.999) if self.toPlainText() else 0
        if height != self.height():
            self.setFixedHeight(height + 2 * self.frameWidth())
