"""Small layout helpers shared by the pages: rounded cards with a section title, styled labels,
a row of tab buttons."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QBoxLayout, QButtonGroup, QFrame, QLabel, QToolButton, QVBoxLayout, QWidget

from .. import theme


def label(text: str = "", role: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text, wordWrap=wrap)
    if role:
        widget.setProperty("role", role)
    return widget


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
