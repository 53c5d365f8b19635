"""The Latent explorer page: a run's dataset as a map of latent codes; click, drag sliders,
interpolate, build attribute directions, record walks, check reconstructions, export, and
bring your own picture in (drop it on the page, Ctrl+V, Open…, a dataset image: encoded, or
for a GAN found by optimising z, then marked on the map; widgets/latent_picture.py).

The page holds an ``ExplorerState`` (``studio.latent.state``: Qt-free, with change events) and
lays out its views (bar, map, decoded image and sliders, tools), which read and write that
state, never the page. Its background work goes through the runner (``studio.qt.runner``):
opening a run (encoding its dataset), t-SNE and the reconstruction errors on ``Latest``
channels (a newer request cancels the older), the image on screen on a decoder channel that
finishes the running decode and keeps only the newest pending one, so a dragged slider never
queues stale frames. Closing the window cancels and joins them all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ...latent import ExplorerState, open_space, tsne, warm_tsne
from ...latent.state import TOOLS
from ..runner import Latest
from ..widgets.cards import card, tab_buttons
from ..widgets.latent_bar import ExplorerBar
from ..widgets.latent_directions import DirectionsTool
from ..widgets.latent_image import DecodedPane
from ..widgets.latent_map import MapCard
from ..widgets.latent_marks import PictureMarks
from ..widgets.latent_picture import PictureTool
from ..widgets.latent_recon import ReconstructionTool
from ..widgets.latent_tools import InterpolationTool, ToolPages, WalkTool
from ..widgets.picture_intake import PictureIntake
from ..widgets.run_picker import RunPicker


def _can_explore(caps) -> bool:
    return bool(caps.decode)


def decode_latent(space, generation: int, z: np.ndarray, label: int | None) -> tuple[int, np.ndarray]:
    """The decoder channel's job: (generation, uint8 image (H, W, C))."""
    return generation, space.decode(z, label)[0]


def map_tsne(space, progress) -> tuple[object, np.ndarray]:
    return space, tsne(space.codes, progress)


def measure_errors(space, progress) -> tuple[object, np.ndarray | None]:
    """After opening: the reconstruction errors (encoders only), then openTSNE's import, so a
    later click on t-SNE starts computing at once."""
    errors = space.reconstruction_errors(progress) if space.encoded else None
    warm_tsne()
    return space, errors


class LatentPanel(QWidget):
    space_opened = Signal()  # the map is on screen
    projection_ready = Signal(str)  # "pca" | "tsne"
    image_shown = Signal()  # a decoded image reached the screen

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state = ExplorerState()
        self.frames_shown = self.decodes_requested = 0
        self._listed_once = False

        self.picker = RunPicker(_can_explore)
        self.bar = ExplorerBar(state, self.picker)
        self.map_card = MapCard(state)
        self.map = self.map_card.map
        self.pane = DecodedPane(state)
        self.sliders = self.pane.sliders
        self.interpolation, self.directions = InterpolationTool(state), DirectionsTool(state)
        self.walk, self.reconstruction = WalkTool(state), ReconstructionTool(state)
        self.picture = PictureTool(state)  # the page takes the drops and Ctrl+V; its buttons are in the tool
        self.intake = PictureIntake(self, self.picture.image_shape, self.picture.say)
        self.picture.take_intake(self.intake)
        self.marks = PictureMarks(self.map, state)
        self.tools = ToolPages()
        for tool in (self.interpolation, self.directions, self.walk, self.reconstruction, self.picture):
            self.tools.addWidget(tool)
        tabs = QHBoxLayout()
        tabs.setSpacing(4)
        self.tool_buttons = tab_buttons(self, ("Interpolate", "Attribute directions", "Latent walk",
                                               "Reconstruction", "Your picture"), tabs)
        tabs.addStretch(1)
        tools_card = card("", margins=10)
        tools_card.layout().addLayout(tabs)
        tools_card.layout().addWidget(self.tools, 1)
        tools_card.setMinimumHeight(236)
        self.left = left = QVBoxLayout()  # the map over the tools; the image and sliders take the full height
        left.setSpacing(12)
        left.addWidget(self.map_card, 5)
        left.addWidget(tools_card, 3)
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addLayout(left, 5)
        body.addWidget(self.pane, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(12)
        layout.addWidget(self.bar)
        layout.addLayout(body, 1)

        # background work, all through the runner
        self.opening = Latest(self, "latent-open")
        self.mapping = Latest(self, "latent-tsne")
        self.measuring = Latest(self, "latent-errors")
        self.decoder = Latest(self, "latent-decode", supersede=False, threads=1)
        self.opening.succeeded.connect(self._on_opening_succeeded)
        self.opening.failed.connect(self._on_opening_failed)
        self.opening.cancelled.connect(self._on_opening_cancelled)
        self.mapping.succeeded.connect(self._on_mapping_succeeded)
        self.mapping.failed.connect(self._on_mapping_failed)
        self.mapping.cancelled.connect(self._on_mapping_cancelled)
        for channel in (self.opening, self.mapping):
            channel.progressed.connect(self.bar.progressed)
        self.measuring.succeeded.connect(self._on_measuring_succeeded)
        self.decoder.succeeded.connect(self._on_decoder_succeeded)
        self.decoder.failed.connect(self._on_decoder_failed)

        self.picker.run_chosen.connect(self.open_run)
        self.picker.listed.connect(self._on_picker_listed)  # first launch: open a demo
        self.bar.projection_chosen.connect(self._on_bar_projection_chosen)
        self.bar.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.bar.thumbs.toggled.connect(self.map.set_thumbnails)
        self.map_card.said.connect(self.bar.say)
        self.tool_buttons.idClicked.connect(self._on_tool_buttons_id_clicked)
        state.events.space.connect(self._on_state_space)
        state.events.latent.connect(self._on_state_latent)
        state.events.projection.connect(self.projection_ready.emit)
        state.events.image.connect(self._on_state_image)
        state.events.tool.connect(self._on_state_tool)
        self.tools.setEnabled(False)

    @property
    def space(self):
        return self.state.space

    # --- opening a run ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self._listed_once:
            self._listed_once = True
            self.picker.refresh()

    @Slot(object)
    def _on_picker_listed(self, rows) -> None:
        """At first launch, with no runs of the user's own, open a bundled demo (a VAE if any)."""
        if self.state.space is not None or self.opening.busy or not rows:
            return
        if all(text.startswith("Demo") for _, text in rows):
            path = next((p for p, t in rows if " vae " in t), rows[0][0])
            self.picker.select(path)

    @Slot(str)
    def open_run(self, path: str) -> None:
        """Load the run's model and map its dataset in the background (latest request wins); the
        Model box shows the run however it was opened (its menu, Open folder…, another page)."""
        if self.picker.current_path != str(Path(path)):
            self.picker.show_current(path)
        self.mapping.cancel()
        self.measuring.cancel()
        self.picture.model_changing()  # a picture search in the old model stops now
        self.map.set_message("Encoding the dataset…")
        self.bar.busy("encoding")
        self.opening.submit(open_space, path, with_progress=True)

    @Slot(object)
    def _on_opening_succeeded(self, space) -> None:
        self.bar.idle()
        self.decoder.cancel()  # an image of the previous model is no use
        self.bar.show_projection("pca")
        self.state.open(space)
        self.bar.say(f"{space.family} · latent size {space.latent_dim}")
        self.space_opened.emit()
        self.measuring.submit(measure_errors, space, with_progress=True)

    def _on_state_space(self, space) -> None:
        reconstruct = self.tool_buttons.button(TOOLS.index("reconstruction"))
        reconstruct.setEnabled(space.encoded)
        reconstruct.setToolTip("" if space.encoded else "A GAN has no encoder: nothing to reconstruct")
        self.bar.set_enabled(True)
        self.tools.setEnabled(True)

    @Slot(str)
    def _on_opening_failed(self, message: str) -> None:
        self.bar.idle()
        self.picture.model_kept()
        if self.state.space is None:
            self.map.set_message(f"Could not open this run: {message}")
        self.bar.say(f"could not open: {message}", "error")

    @Slot()
    def _on_opening_cancelled(self) -> None:
        self.bar.idle()
        self.picture.model_kept()
        if self.state.space is None:
            self.map.set_message("Opening cancelled: choose a model above.")
        self.bar.say("opening cancelled")

    # --- projections ---------------------------------------------------------------------------------
    @Slot(str)
    def _on_bar_projection_chosen(self, kind: str) -> None:
        space = self.state.space
        if space is None:
            return
        if kind in self.state.embeddings:
            self.mapping.cancel()
            self.bar.idle()
            self.state.set_projection(kind)
        else:
            self.bar.busy("t-SNE")
            self.mapping.submit(map_tsne, space, with_progress=True)

    @Slot(object)
    def _on_mapping_succeeded(self, result) -> None:
        space, xy = result
        self.bar.idle()
        if self.state.add_embedding("tsne", xy, space):
            self.bar.say(f"{space.family} · latent size {space.latent_dim} · t-SNE ready")
            if self.bar.projection_combo.currentData() == "tsne":
                self.state.set_projection("tsne")

    @Slot(str)
    def _on_mapping_failed(self, message: str) -> None:
        self._on_mapping_cancelled()
        self.bar.say(f"t-SNE failed: {message}", "error")

    @Slot()
    def _on_mapping_cancelled(self) -> None:
        self.bar.idle()
        self.bar.show_projection(self.state.projection)
        self.bar.say("t-SNE cancelled")

    @Slot()
    def _on_cancel_clicked(self) -> None:
        """Stop the opening or the t-SNE in progress (each stops at its next progress report)."""
        if self.opening.busy:
            self.opening.cancel()
            self._on_opening_cancelled()
        if self.mapping.busy:
            self.mapping.cancel()
            self._on_mapping_cancelled()

    @Slot(object)
    def _on_measuring_succeeded(self, result) -> None:
        self.state.set_errors(*result)

    # --- the image on screen ------------------------------------------------------------------------
    def _on_state_latent(self, change) -> None:
        self.decodes_requested += 1
        self.decoder.submit(decode_latent, self.state.space, *self.state.decode_request())

    @Slot(object)
    def _on_decoder_succeeded(self, result) -> None:
        self.state.show_image(*result)

    def _on_state_image(self, image) -> None:
        self.frames_shown += 1
        self.image_shown.emit()

    @Slot(str)
    def _on_decoder_failed(self, message: str) -> None:
        self.bar.say(f"could not decode: {message}", "error")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.intake.drag_enter(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.intake.drop(event)

    # --- tools -------------------------------------------------------------------------------------------
    @Slot(int)
    def _on_tool_buttons_id_clicked(self, index: int) -> None:
        self.state.set_tool(TOOLS[index])

    def _on_state_tool(self, tool: str) -> None:
        index = TOOLS.index(tool)
        self.tool_buttons.button(index).setChecked(True)
        self.tools.setCurrentIndex(index)
        self.left.setStretch(1, 5 if tool == "picture" else 3)  # your picture's controls, pictures and chart

    def show_example(self) -> None:
        """A point picked and an interpolation between two labels (for screenshots and demos)."""
        space = self.state.space
        labels = space.labels if space.labels is not None else np.zeros(len(space.codes), np.int64)
        first, last = int(labels.min()), int(labels.max())
        a = int(np.flatnonzero(labels == first)[0])
        b = int(np.flatnonzero(labels == last)[-1])
        self.interpolation.set_ends(space.codes[a], space.codes[b])
        self.state.select_point(int(np.flatnonzero(labels == (first + last) // 2)[0]))
