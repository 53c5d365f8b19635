"""The Latent explorer's right-hand column, a view of an ``ExplorerState``: the decoded image
with its caption, class and seed controls, and the slider bank that moves the latent. User
actions go to the state; the state's events come back (its own echo is skipped or blocked)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QPushButton, QScrollArea, QSpinBox,
                               QVBoxLayout, QWidget)

from .cards import ElidedLabel, card, label, make_opaque
from .image_view import ImageView
from .latent_sliders import SliderBank


def _fill(combo: QComboBox, items, current) -> None:
    """Replace a combo's (data, text) items without emitting, selecting ``current``."""
    combo.blockSignals(True)
    combo.clear()
    for data, text in items:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)


class DecodedPane(QWidget):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.view = ImageView("The decoded image appears here")
        self.view.setMinimumSize(160, 160)
        self.caption = ElidedLabel("", "muted")  # new text never relayouts the page; long text ends in "…"
        self.caption.setAlignment(Qt.AlignCenter)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("This model is class-conditional: the class it decodes for")
        self.class_row = QWidget()
        class_layout = QHBoxLayout(self.class_row)
        class_layout.setContentsMargins(0, 0, 0, 0)
        class_layout.addWidget(label("Class", "muted"))
        class_layout.addWidget(self.class_combo, 1)
        self.class_row.hide()
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("A latent drawn from a Gaussian fitted to the codes (seeded)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to where the model opened: the average latent (every slider at 0); "
                                     "for a GAN the map's code nearest it (z ≈ 0 draws no real picture)")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, prefix="seed ")
        self.seed.setToolTip("The seed of the next random latent; editing it shows that latent")
        buttons = QHBoxLayout()
        buttons.addWidget(self.random_button)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.seed, 1)
        image_card = card("Decoded", self.view, self.caption, self.class_row)
        image_card.layout().addLayout(buttons)
        image_card.layout().setStretch(1, 1)

        self.basis_combo = QComboBox()
        self.basis_combo.setToolTip("Main directions of variation: the principal components of the codes (PCA), "
                                    "in standard deviations σ. Each number of the code: the raw latent dimensions")
        self.sliders = SliderBank()
        slider_scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        slider_scroll.setWidget(self.sliders)
        make_opaque(self.sliders)
        slider_scroll.setMinimumHeight(90)
        sliders_card = card("Sliders", self.basis_combo, slider_scroll)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(image_card, 5)
        layout.addWidget(sliders_card, 3)

        self.class_combo.currentIndexChanged.connect(self._on_class_combo_changed)
        self.random_button.clicked.connect(self._on_random_clicked)
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self.seed.valueChanged.connect(self._on_seed_value_changed)
        self.basis_combo.currentIndexChanged.connect(self._on_basis_combo_changed)
        self.sliders.moved.connect(self._on_sliders_moved)
        self.sliders.released.connect(self._on_sliders_released)
        events = state.events
        events.space.connect(self._on_state_space)
        events.latent.connect(self._on_state_latent)
        events.seed.connect(self._on_state_seed)
        events.basis.connect(self._on_state_basis)
        events.image.connect(self.view.set_image)
        self.set_enabled(False)

    def set_enabled(self, on: bool) -> None:
        for w in (self.random_button, self.reset_button, self.seed, self.basis_combo):
            w.setEnabled(on)

    # --- the state's events ----------------------------------------------------------------------
    def _on_state_space(self, space) -> None:
        classes = [(k, space.label_name(k)) for k in range(space.num_classes)] if space.class_conditional else []
        _fill(self.class_combo, classes, self.state.label)
        self.class_row.setVisible(space.class_conditional)
        _fill(self.basis_combo, [(k, text) for k, text in self.state.basis_kinds()], self.state.basis_kind)
        self.view.set_image(None)
        self._on_state_basis(self.state.basis)
        self.set_enabled(True)

    def _on_state_basis(self, basis) -> None:
        self.sliders.set_rows(basis.names, basis.tips)
        self.sliders.set_values(self.state.slider_values())

    def _on_state_latent(self, change) -> None:
        if not change.from_sliders:  # a dragged slider already shows its value
            self.sliders.set_values(self.state.slider_values())
        if self.state.label is not None and self.class_combo.currentIndex() != self.state.label:
            self.class_combo.blockSignals(True)
            self.class_combo.setCurrentIndex(self.state.label)
            self.class_combo.blockSignals(False)
        text, tip = self.state.caption()
        self.caption.setText(text)
        self.caption.setToolTip(tip)

    def _on_state_seed(self, seed: int) -> None:
        self.seed.blockSignals(True)
        self.seed.setValue(seed)
        self.seed.blockSignals(False)

    # --- user actions -> the state ------------------------------------------------------------------
    @Slot(int)
    def _on_class_combo_changed(self, index: int) -> None:
        if self.state.space is not None and index >= 0:
            self.state.set_label(int(self.class_combo.currentData()))

    @Slot()
    def _on_random_clicked(self) -> None:
        self.state.random()

    @Slot()
    def _on_reset_clicked(self) -> None:
        self.state.reset()

    @Slot(int)
    def _on_seed_value_changed(self, seed: int) -> None:
        if self.state.space is not None:
            self.state.set_seed(seed)

    @Slot(int)
    def _on_basis_combo_changed(self, index: int) -> None:
        self.state.set_basis(self.basis_combo.currentData())

    @Slot(int, float)
    def _on_sliders_moved(self, row: int, value: float) -> None:
        self.state.set_slider(row, value)

    @Slot(int)
    def _on_sliders_released(self, row: int) -> None:
        self.state.commit()
