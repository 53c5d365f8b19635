"""A calm placeholder for pages that arrive in a later release."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ..widgets.cards import label


class ComingSoonPanel(QWidget):
    def __init__(self, glyph: str, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        icon = label(glyph)
        icon.setStyleSheet("font-size: 54pt; color: #6f5fd0;")
        badge = label("COMING SOON", "section")
        badge.setStyleSheet("color: #9b87ff; letter-spacing: 3px;")
        body = label(text, "muted", wrap=True)
        body.setFixedWidth(520)
        hint = label("Meanwhile, train a model on the Train page: it will open here.", "muted")
        hint.setStyleSheet("color: #6b7080; padding-top: 14px;")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for widget in (icon, badge, label(title, "hero"), body, hint):
            widget.setAlignment(Qt.AlignCenter)
            row = QHBoxLayout()  # centred by stretches, so wrapped text gets its full height
            row.addStretch(1)
            row.addWidget(widget)
            row.addStretch(1)
            layout.addLayout(row)
        layout.addStretch(3)
