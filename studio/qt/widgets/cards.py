"""Small layout helpers shared by the pages: rounded cards with a section title, styled labels,
a row of tab buttons."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QBoxLayout, QButtonGroup, QComboBox, QFrame, QLabel, QSizePolicy, QStyle,
                               QStyleOptionComboBox, QStylePainter, QToolButton, QVBoxLayout, QWidget)

from .. import theme
from .plain_text import tip


def label(text: str = "", role: str = "", wrap: bool = False, rich: bool = False) -> QLabel:
    """A label in a style ``role`` (muted, error, warning, title, section) that shows its text as
    it is (``plain_text``: a run name or file name never read as HTML); ``rich``: its text is
    markup, whose user parts the caller escapes (``plain_text.escape``)."""
    widget = QLabel(text, wordWrap=wrap, textFormat=Qt.RichText if rich else Qt.PlainText)
    if role:
        widget.setProperty("role", role)
    return widget


class ElidedLabel(QLabel):
    """One line that never widens its window and is never cut off mid-letter: text longer than
    the room ends in "…" and the whole text becomes the tooltip. ``text()`` and ``full_text``
    give the whole text. Text and tooltip show as they are, never as HTML (``plain_text``)."""

    def __init__(self, text: str = "", role: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.PlainText)  # elided markup would be broken markup anyway
        self.full_text, self._own_tip = "", ""
        if role:
            self.setProperty("role", role)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self.full_text = text
        self._elide()

    def text(self) -> str:
        return self.full_text

    def setToolTip(self, tip: str) -> None:  # noqa: N802
        self._own_tip = tip
        self._elide()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:  # noqa: N802 (a new font or style: new widths)
        super().changeEvent(event)
        if event.type() in (QEvent.FontChange, QEvent.StyleChange):
            self._elide()

    def _elide(self) -> None:
        room = max(0, self.contentsRect().width() - 2 * max(0, self.margin()) - 1)
        shown = self.fontMetrics().elidedText(self.full_text, Qt.ElideRight, room)
        QLabel.setText(self, shown)
        tips = [t for t in (self.full_text if shown != self.full_text else "", self._own_tip) if t]
        QLabel.setToolTip(self, tip("\n\n".join(tips)))


class ElidedCombo(QComboBox):
    """A combo box whose closed text elides in the middle ("name · … · step 800") when the room is
    short, with the whole text as its tooltip (Qt's own draws it cut off mid-letter).
    ``elide_mode``: where the "…" goes (a subclass or instance may set ``Qt.ElideRight``)."""

    elide_mode = Qt.ElideMiddle

    def shown_text(self) -> str:
        """The text drawn in the closed box now."""
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        room = self.style().subControlRect(QStyle.CC_ComboBox, opt, QStyle.SC_ComboBoxEditField, self).width()
        return self.fontMetrics().elidedText(opt.currentText, self.elide_mode, max(0, room - 4))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QStyle.CC_ComboBox, opt)
        shown = self.shown_text()
        self.setToolTip(opt.currentText if shown != opt.currentText else "")
        opt.currentText = shown
        painter.drawControl(QStyle.CE_ComboBoxLabel, opt)


def set_role(widget: QWidget, role: str) -> None:
    """Change a styled role (error / warning / muted) and re-apply the style sheet."""
    set_style_property(widget, "role", role)


def set_style_property(widget: QWidget, name: str, value) -> None:
    """Set a property the style sheet selects on (``*[invalid="true"]``) and restyle the widget."""
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def make_opaque(widget: QWidget, color: str = theme.SURFACE) -> None:
    """Fill the widget with its card's colour, so that updates inside it (a label changing
    many times a second) repaint it alone, not every parent up to the window."""
    widget.setAutoFillBackground(True)
    palette = widget.palette()
    palette.setColor(QPalette.Window, QColor(color))
    widget.setPalette(palette)


def card(title: str = "", *widgets: QWidget, margins: int = 14, spacing: int = 8) -> QFrame:
    """A rounded panel with an optional small-caps title above its widgets."""
    frame = QFrame()
    frame.setProperty("card", True)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(margins, margins - 2, margins, margins)
    layout.setSpacing(spacing)
    if title:
        layout.addWidget(label(title.upper(), "section"))
    for widget in widgets:
        layout.addWidget(widget)
    return frame


def tab_buttons(owner: QWidget, texts, layout: QBoxLayout, min_width: int = 0) -> QButtonGroup:
    """Checkable buttons added to ``layout``, one checked at a time (the first at the start);
    connect the group's ``idClicked`` to switch what they show."""
    group = QButtonGroup(owner)
    for i, text in enumerate(texts):
        button = QToolButton(text=text, checkable=True, checked=i == 0)
        if min_width:
            button.setMinimumWidth(min_width)
        group.addButton(button, i)
        layout.addWidget(button)
    return group
