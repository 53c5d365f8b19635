"""The Latent explorer's right-hand column: the decoded image with its caption, class and
seed controls, and the slider bank that moves the latent. Widgets only: the page connects
their signals and does the work."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QPushButton, QScrollArea, QSizePolicy, QSpinBox,
                               QVBoxLayout, QWidget)

from .cards import card, label, make_opaque
from .image_view import ImageView
from .latent_sliders import SliderBank


class DecodedPane(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = ImageView("The decoded image appears here")
        self.view.setMinimumSize(160, 160)
        self.caption = label("", "muted")
        self.caption.setAlignment(Qt.AlignCenter)
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)  # new text never relayouts the page
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
        self.reset_button.setToolTip("The mean latent: every slider at 0")
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
        self.basis_combo.addItem("Principal directions", "pca")
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
