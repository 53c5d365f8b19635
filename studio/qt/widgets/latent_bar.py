"""The Latent explorer's top bar, a view of its ``ExplorerState``: the model picker, the map's
projection, thumbnails and box select, a status line, and the progress of background work
with its Cancel button. The page decides what a projection choice or Cancel starts or stops."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QProgressBar, QPushButton, QSizePolicy, QToolButton,
                               QWidget)

from .cards import label, set_role
from .plain_text import tip
from .run_picker import RunPicker


class ExplorerBar(QWidget):
    projection_chosen = Signal(str)  # "pca" | "tsne"

    def __init__(self, state, picker: RunPicker, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.picker = state, picker
        self.projection_combo = QComboBox()
        self.projection_combo.addItem("PCA", "pca")
        self.projection_combo.addItem("t-SNE", "tsne")
        self.projection_combo.setToolTip("PCA: instant, and a click on empty space decodes that spot. "
                                         "t-SNE (openTSNE): neighbourhoods kept, computed in the background")
        self.thumbs = QCheckBox("Thumbnails")
        self.thumbs.setToolTip("Draw a few hundred images in place of their dots")
        self.select_button = QToolButton(text="⬚ Box select", checkable=True)
        self.select_button.setToolTip("Drag a box on the map to select points (for attribute directions); "
                                      "off: drag pans, wheel zooms")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(110)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.status = label("", "muted")
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.status.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label("Model", "muted"))
        layout.addWidget(picker, 3)
        layout.addSpacing(12)
        layout.addWidget(label("Map", "muted"))
        for widget in (self.projection_combo, self.thumbs, self.select_button):
            layout.addWidget(widget)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self.projection_combo.currentIndexChanged.connect(self._on_projection_combo_changed)
        self.select_button.toggled.connect(self._on_select_button_toggled)
        state.events.box_select.connect(self._on_state_box_select)
        self.set_enabled(False)

    def set_enabled(self, on: bool) -> None:
        for w in (self.projection_combo, self.thumbs, self.select_button):
            w.setEnabled(on)

    def show_projection(self, kind: str) -> None:
        """Show ``kind`` chosen without announcing it (a t-SNE that ended goes back to PCA)."""
        self.projection_combo.blockSignals(True)
        self.projection_combo.setCurrentIndex(self.projection_combo.findData(kind))
        self.projection_combo.blockSignals(False)

    def say(self, text: str, role: str = "muted") -> None:
        self.status.setText(text)
        self.status.setToolTip(tip(text))  # clipped when the window is narrow
        set_role(self.status, role)

    def busy(self, what: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(what)
        self.progress.show()
        self.cancel_button.show()
        self.say(f"{what}…")

    def progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.say(f"{self.progress.format()} {done / max(total, 1):.0%}")

    def idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    @Slot(int)
    def _on_projection_combo_changed(self, index: int) -> None:
        self.projection_chosen.emit(self.projection_combo.currentData())

    @Slot(bool)
    def _on_select_button_toggled(self, on: bool) -> None:
        self.state.set_box_select(on)

    def _on_state_box_select(self, on: bool) -> None:
        self.select_button.blockSignals(True)
        self.select_button.setChecked(on)
        self.select_button.blockSignals(False)
