"""The Latent explorer's reconstruction check: an image beside its reconstruction with the
error, and the dataset ranked by reconstruction error (the autoencoder anomaly view).
A view of the page's ``ExplorerState`` like the tools in latent_tools.py; the errors are
measured by the page after opening (``state.events.errors``), one reconstruction here.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QListWidget, QListWidgetItem, QSizePolicy,
                               QVBoxLayout, QWidget)

from ..runner import Latest
from .cards import label
from .plain_text import tip
from .image_view import to_qimage
from .latent_tools import thumb


def reconstruct(space, i: int) -> tuple[int, np.ndarray]:
    """(i, decode(code of image i)) as uint8 (H, W, C)."""
    label = None if space.labels is None or not space.class_conditional else int(space.labels[i])
    return i, space.decode(space.codes[i], label)[0]


class ReconstructionTool(QWidget):
    """Input and reconstruction side by side with the error; the dataset ranked by error."""

    ANOMALIES = 60

    def __init__(self, state):
        super().__init__()
        self.state = state
        self.index = -1
        self.input_view, self.output_view = thumb("input", 150), thumb("reconstruction", 150)
        self.error = label("Click a point on the map (or an image on the right) to compare it with its "
                           "reconstruction.", "muted", wrap=True)
        self.error.setMaximumWidth(310)
        self.error.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.ranking = QListWidget()
        self.ranking.setViewMode(QListWidget.IconMode)
        self.ranking.setIconSize(QSize(56, 56))
        self.ranking.setResizeMode(QListWidget.Adjust)
        self.ranking.setMovement(QListWidget.Static)
        self.ranking.setSpacing(4)
        self.ranking.itemClicked.connect(self._on_ranking_item_clicked)
        self.order = QComboBox()
        self.order.addItem("Worst first (anomalies)", "worst")
        self.order.addItem("Best first", "best")
        self.order.currentIndexChanged.connect(self._fill_ranking)
        self.status = label("", "muted")
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.decoding = Latest(self, "reconstruction")
        self.decoding.succeeded.connect(self._on_decoding_succeeded)
        pair = QGridLayout()
        pair.addWidget(self.input_view, 0, 0)
        pair.addWidget(self.output_view, 0, 1)
        pair.addWidget(label("input", "muted"), 1, 0, Qt.AlignCenter)
        pair.addWidget(label("reconstruction", "muted"), 1, 1, Qt.AlignCenter)
        pair.addWidget(self.error, 2, 0, 1, 2)
        pair.setRowStretch(3, 1)
        right = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.order)
        head.addWidget(self.status, 1)
        right.addLayout(head)
        right.addWidget(self.ranking, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(pair)
        layout.addSpacing(12)
        layout.addLayout(right, 1)
        state.events.space.connect(self.set_space)
        state.events.latent.connect(self._on_state_latent)
        state.events.errors.connect(self.set_errors)

    def _on_state_latent(self, change) -> None:
        if change.base and self.state.point >= 0:
            self.show_point(self.state.point)

    def set_space(self, space) -> None:
        self.decoding.cancel()
        self.index = -1
        self.input_view.set_image(None)
        self.output_view.set_image(None)
        self.ranking.clear()
        self.status.setText("measuring how well each image is rebuilt…" if space.encoded else "")

    def set_errors(self, errors: np.ndarray) -> None:
        self.status.setText(f"average difference {float(errors.mean()):.4f}")
        self.status.setToolTip("Reconstruction error: the mean squared error per pixel between each image and "
                               "its reconstruction decode(encode(x)), pixels in [−1, 1]; the list ranks the "
                               "dataset by it (the worst rebuilt are the most unusual to the model)")
        self._fill_ranking()
        if self.index >= 0:
            self.show_point(self.index)

    @Slot()
    def _fill_ranking(self) -> None:
        space = self.state.space
        self.ranking.clear()
        if space is None or space.errors is None:
            return
        order = np.argsort(space.errors)
        order = order[::-1] if self.order.currentData() == "worst" else order
        for i in order[:self.ANOMALIES]:
            name = space.label_name(int(space.labels[i])) if space.labels is not None else ""
            item = QListWidgetItem(QIcon(QPixmap.fromImage(to_qimage(space.images[i]))), f"{space.errors[i]:.3f}")
            item.setData(Qt.UserRole, int(i))
            item.setToolTip(tip(f"#{i} {name}: error {space.errors[i]:.4f}"))
            self.ranking.addItem(item)

    def show_point(self, i: int) -> None:
        space = self.state.space
        if space is None or not space.encoded:
            return
        self.index = i
        self.input_view.set_image(space.images[i])
        self.decoding.submit(reconstruct, space, i)

    @Slot(object)
    def _on_decoding_succeeded(self, result) -> None:
        i, image = result
        space = self.state.space
        self.output_view.set_image(image)
        name = space.label_name(int(space.labels[i])) if space.labels is not None else "image"
        if space.errors is not None:
            rank = int((space.errors > space.errors[i]).sum()) + 1
            self.error.setText(f"#{i} {name}: difference {space.errors[i]:.4f} per pixel — rank {rank:,} of "
                               f"{len(space.errors):,} (1 = the worst rebuilt)")
            self.error.setToolTip("Reconstruction error: mean squared error per pixel, pixels in [−1, 1]")
        else:
            self.error.setText(f"#{i} {name}")

    @Slot(QListWidgetItem)
    def _on_ranking_item_clicked(self, item: QListWidgetItem) -> None:
        self.state.select_point(int(item.data(Qt.UserRole)))
