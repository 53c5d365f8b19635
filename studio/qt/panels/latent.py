"""The Latent explorer page: a run's dataset as a map of latent codes; click, drag sliders,
interpolate, build attribute directions, record walks, check reconstructions, export.

Opening a run, t-SNE and reconstruction errors run as background tasks with progress; the
big image is decoded by a dedicated thread with a single latest-request slot, so a dragged
slider never queues stale frames (see ``studio.latent.decoding``). The UI thread only moves
numbers and shows uint8 images.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QProgressBar, QPushButton, QSizePolicy,
                               QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from ...latent import LatestDecoder, SliderBasis, open_space, tsne
from ..tasks import BackgroundTask
from ..widgets.cards import card, label, set_role, tab_buttons
from ..widgets.latent_directions import DirectionsTool
from ..widgets.latent_image import DecodedPane
from ..widgets.latent_map import LatentMap
from ..widgets.latent_recon import ReconstructionTool
from ..widgets.latent_tools import InterpolationTool, WalkTool
from ..widgets.run_picker import RunPicker

PC_SLIDERS = 8  # sliders along the top principal directions
RAW_LIMIT = 16  # latents this small also get one slider per dimension


def warm_tsne() -> None:
    try:
        import openTSNE  # noqa: F401
    except ImportError:  # reported when t-SNE is asked for
        pass


def _can_explore(caps) -> bool:
    return bool(caps.decode)


class LatentPanel(QWidget):
    space_opened = Signal()  # the map is on screen
    projection_ready = Signal(str)  # "pca" | "tsne"
    image_shown = Signal()  # a decoded image reached the screen
    _decoded = Signal(object, object)  # from the decoder thread: key, uint8 image
    _decode_failed = Signal(object, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.space = None
        self.z: np.ndarray | None = None
        self.label: int | None = None
        self.current_image: np.ndarray | None = None
        self.point = -1  # the map point whose latent is on screen, if any
        self.frames_shown = 0
        self.projection = "pca"
        self._tsne: dict[int, np.ndarray] = {}  # per space (id) the finished embedding
        self._generation = 0
        self._stop = threading.Event()
        self._listed_once = False

        # --- top bar -------------------------------------------------------------------------
        self.picker = RunPicker(_can_explore)
        self.picker.run_chosen.connect(self._on_picker_run_chosen)
        self.picker.listed.connect(self._on_picker_listed)  # first launch: open a demo
        self.projection_combo = QComboBox()
        self.projection_combo.addItem("PCA", "pca")
        self.projection_combo.addItem("t-SNE", "tsne")
        self.projection_combo.setToolTip("PCA: instant, and a click on empty space decodes that spot. "
                                         "t-SNE (openTSNE): neighbourhoods kept, computed in the background")
        self.projection_combo.currentIndexChanged.connect(self._on_projection_combo_changed)
        self.thumbs = QCheckBox("Thumbnails")
        self.thumbs.setToolTip("Draw a few hundred images in place of their dots")
        self.thumbs.toggled.connect(self._on_thumbs_toggled)
        self.select_button = QToolButton(text="⬚ Box select", checkable=True)
        self.select_button.setToolTip("Drag a box on the map to select points (for attribute directions); "
                                      "off: drag pans, wheel zooms")
        self.select_button.toggled.connect(self._on_select_button_toggled)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(110)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.status = label("", "muted")
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.status.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        top = QHBoxLayout()
        top.addWidget(label("Model", "muted"))
        top.addWidget(self.picker, 3)
        top.addSpacing(12)
        top.addWidget(label("Map", "muted"))
        top.addWidget(self.projection_combo)
        top.addWidget(self.thumbs)
        top.addWidget(self.select_button)
        top.addWidget(self.status, 1)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)

        # --- the map -------------------------------------------------------------------------
        self.map = LatentMap()
        self.map.set_message("Choose a trained model above: its dataset appears here as a map of latent codes.")
        self.map.point_clicked.connect(self._on_map_point_clicked)
        self.map.space_clicked.connect(self._on_map_space_clicked)
        self.map.selection_made.connect(self._on_map_selection_made)
        self.map_title = label("LATENT MAP", "section")
        self.map_hint = label("", "muted")
        self.map_hint.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.map_hint.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        map_card = card("", margins=10)
        head = QHBoxLayout()
        head.addWidget(self.map_title)
        head.addWidget(self.map_hint, 1)
        map_card.layout().addLayout(head)
        map_card.layout().addWidget(self.map, 1)

        # --- the decoded image, its controls and sliders -------------------------------------
        pane = DecodedPane()
        self.view, self.caption, self.class_combo, self.class_row = pane.view, pane.caption, pane.class_combo, \
            pane.class_row
        self.random_button, self.reset_button, self.seed = pane.random_button, pane.reset_button, pane.seed
        self.basis_combo, self.sliders = pane.basis_combo, pane.sliders
        self.class_combo.currentIndexChanged.connect(self._on_class_combo_changed)
        self.random_button.clicked.connect(self._on_random_clicked)
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self.seed.valueChanged.connect(self._on_seed_value_changed)
        self.basis_combo.currentIndexChanged.connect(self._on_basis_combo_changed)
        self.sliders.moved.connect(self._on_sliders_moved)
        self.sliders.released.connect(self._on_sliders_released)
        self._basis: SliderBasis | None = None

        # --- tools -----------------------------------------------------------------------------
        self.interpolation = InterpolationTool(self)
        self.directions = DirectionsTool(self)
        self.walk = WalkTool(self)
        self.reconstruction = ReconstructionTool(self)
        self.directions.selection_armed.connect(self._on_directions_selection_armed)
        self.tools = QStackedWidget()
        for tool in (self.interpolation, self.directions, self.walk, self.reconstruction):
            self.tools.addWidget(tool)
        tabs = QHBoxLayout()
        tabs.setSpacing(4)
        self.tool_buttons = tab_buttons(self, ("Interpolate", "Attribute directions", "Latent walk",
                                               "Reconstruction"), tabs)
        tabs.addStretch(1)
        self.tool_buttons.idClicked.connect(self.tools.setCurrentIndex)
        tools_card = card("", margins=10)
        tools_card.layout().addLayout(tabs)
        tools_card.layout().addWidget(self.tools, 1)
        tools_card.setMinimumHeight(236)

        left = QVBoxLayout()  # the map over the tools; the image and its sliders take the full height
        left.setSpacing(12)
        left.addWidget(map_card, 5)
        left.addWidget(tools_card, 3)
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addLayout(left, 5)
        body.addWidget(pane, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addLayout(body, 1)

        # --- background work -------------------------------------------------------------------
        self._open_task = BackgroundTask(self)
        self._open_task.succeeded.connect(self._on_open_task_succeeded)
        self._open_task.failed.connect(self._on_open_task_failed)
        self._open_task.progressed.connect(self._on_task_progressed)
        self._tsne_task = BackgroundTask(self)
        self._tsne_task.succeeded.connect(self._on_tsne_task_succeeded)
        self._tsne_task.failed.connect(self._on_tsne_task_failed)
        self._tsne_task.progressed.connect(self._on_task_progressed)
        self._errors_task = BackgroundTask(self)
        self._errors_task.succeeded.connect(self._on_errors_task_succeeded)
        self._marker_timer = QTimer(self, singleShot=True, interval=80)
        self._marker_timer.timeout.connect(self._update_marker)
        self._decoded.connect(self._on_self_decoded)
        self._decode_failed.connect(self._on_self_decode_failed)
        self.decoder = LatestDecoder(self._deliver, self._deliver_error)
        decoder = self.decoder
        self.destroyed.connect(lambda *_: decoder.close())  # the page's own thread ends with it
        self._set_enabled(False)

    # --- opening a run ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self._listed_once:
            self._listed_once = True
            self.picker.refresh()

    @Slot(object)
    def _on_picker_listed(self, rows) -> None:
        """At first launch, with no runs of the user's own, open a bundled demo (a VAE if any)."""
        if self.space is not None or self._open_task.busy or not rows:
            return
        if all(text.startswith("Demo") for _, text in rows):
            path = next((p for p, t in rows if " vae " in t), rows[0][0])
            self.picker.select(path)

    def open_run(self, path: str) -> None:
        """Load the run's model and map its dataset in the background (latest request wins)."""
        self._stop.set()  # an older load or t-SNE stops early
        self._stop = threading.Event()
        stop = self._stop
        self._tsne_task.cancel()
        self._errors_task.cancel()
        self.map.set_message("Encoding the dataset…")
        self._show_progress("encoding")
        self._open_task.submit(lambda progress: open_space(path, progress=progress, should_stop=stop.is_set),
                               with_progress=True)

    @Slot(str)
    def _on_picker_run_chosen(self, path: str) -> None:
        self.open_run(path)

    @Slot(object)
    def _on_open_task_succeeded(self, space) -> None:
        self._hide_progress()
        self._generation += 1
        self.space = space
        self.point = -1
        kind = "dataset codes" if space.encoded else "random z samples (no encoder: each dot is a generated image)"
        self.map_title.setText(f"LATENT MAP  ·  {len(space.codes):,} {kind}")
        self.map.set_points(space.pca.transform(space.codes), space.labels, space.label_names, space.images)
        self._fill_class_combo()
        self._fill_basis_combo()
        for tool in (self.interpolation, self.directions, self.walk, self.reconstruction):
            tool.set_space(space)
        self.tool_buttons.button(3).setEnabled(space.encoded)
        self.tool_buttons.button(3).setToolTip("" if space.encoded else "A GAN has no encoder: nothing to reconstruct")
        if not space.encoded and self.tools.currentIndex() == 3:
            self.tool_buttons.button(0).click()
        self._set_enabled(True)
        self.set_latent(space.pca.mean, record=False)
        self.status.setText(f"{space.family} · latent size {space.latent_dim}")
        self.projection = "pca"
        self._apply_projection(self.projection_combo.currentData())
        self.space_opened.emit()
        stop = self._stop
        # after the map: the reconstruction errors, then openTSNE's import (seconds of scipy and
        # scikit-learn), so a later click on t-SNE starts computing at once
        self._errors_task.submit(lambda: (space.reconstruction_errors(should_stop=stop.is_set) if space.encoded
                                          else None, warm_tsne())[0])

    @Slot(str)
    def _on_open_task_failed(self, message: str) -> None:
        self._hide_progress()
        cancelled = "cancelled" in message.lower()
        if self.space is None:
            self.map.set_message("Opening cancelled: choose a model above." if cancelled
                                 else f"Could not open this run: {message}")
        self.status.setText("opening cancelled" if cancelled else f"could not open: {message}")
        set_role(self.status, "muted" if cancelled else "error")

    def _set_enabled(self, on: bool) -> None:
        for w in (self.random_button, self.reset_button, self.seed, self.projection_combo, self.thumbs,
                  self.select_button, self.tools, self.basis_combo):
            w.setEnabled(on)

    def _fill_class_combo(self) -> None:
        space = self.space
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        if space.class_conditional:
            for k in range(space.num_classes):
                self.class_combo.addItem(space.label_name(k), k)
        self.class_combo.blockSignals(False)
        self.class_row.setVisible(space.class_conditional)
        self.label = 0 if space.class_conditional else None

    # --- projections ---------------------------------------------------------------------------------
    @Slot(int)
    def _on_projection_combo_changed(self, index: int) -> None:
        self._apply_projection(self.projection_combo.currentData())

    def _apply_projection(self, kind: str) -> None:
        space = self.space
        if space is None:
            return
        if kind == "pca":
            self._tsne_task.cancel()
            self._hide_progress()
            self._show_projection("pca", None if self.projection == "pca" else space.pca.transform(space.codes))
        elif id(space) in self._tsne:
            self._show_projection("tsne", self._tsne[id(space)])
        else:
            stop = self._stop
            self._show_progress("t-SNE")
            self._tsne_task.submit(lambda progress: (space, tsne(space.codes, progress, stop.is_set)),
                                   with_progress=True)

    def _show_projection(self, kind: str, xy: np.ndarray | None) -> None:
        """Move the map's points to ``xy`` (None: they are there already) and say what it shows."""
        self.projection = kind
        if xy is not None:
            self.map.set_positions(xy)
        if kind == "pca":
            ex = self.space.pca.explained
            self.map_hint.setText(f"PC1 {ex[0]:.0%} · PC2 {ex[1] if len(ex) > 1 else 0:.0%} of the variance  ·  "
                                  "click anywhere to decode")
        else:
            self.map_hint.setText("t-SNE: neighbours stay together; distances between clusters mean little")
        self._update_marker()
        self.projection_ready.emit(kind)

    @Slot(object)
    def _on_tsne_task_succeeded(self, result) -> None:
        space, xy = result
        self._hide_progress()
        self._tsne[id(space)] = xy
        self.status.setText(f"{space.family} · latent size {space.latent_dim} · t-SNE ready")
        if space is self.space and self.projection_combo.currentData() == "tsne":
            self._show_projection("tsne", xy)

    @Slot(str)
    def _on_tsne_task_failed(self, message: str) -> None:
        self._hide_progress()
        self.projection_combo.blockSignals(True)
        self.projection_combo.setCurrentIndex(0)
        self.projection_combo.blockSignals(False)
        self.status.setText("t-SNE cancelled" if "cancelled" in message.lower() else f"t-SNE failed: {message}")

    @Slot()
    def _on_cancel_clicked(self) -> None:
        """Stops the load or the t-SNE in progress (they check between batches / iterations)."""
        self._stop.set()
        self._stop = threading.Event()
        self._hide_progress()

    def _show_progress(self, what: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(what)
        self.progress.show()
        self.cancel_button.show()
        self.status.setText(f"{what}…")
        set_role(self.status, "muted")

    def _hide_progress(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    @Slot(int, int)
    def _on_task_progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"{self.progress.format()} {done / max(total, 1):.0%}")

    @Slot(object)
    def _on_errors_task_succeeded(self, errors) -> None:
        if errors is not None:
            self.reconstruction.set_errors(errors)

    # --- the current latent ----------------------------------------------------------------------------
    def set_latent(self, z: np.ndarray, record: bool = True, point: int = -1) -> None:
        """Show latent ``z`` (a new base: the direction sliders restart at 0)."""
        self.z = np.array(z, np.float32)
        self.point = point
        self.directions.reset_amounts()
        self._latent_moved(sliders=True)
        if record:
            self.walk.offer(self.z)

    def move_latent(self, delta: np.ndarray) -> None:
        """Nudge the latent (a direction slider): the other sliders follow."""
        if self.z is None:
            return
        self.z = self.z + delta
        self.point = -1
        self._latent_moved(sliders=True, dragging=True)

    def commit_position(self) -> None:
        """The end of a drag: a keyframe while recording."""
        if self.z is not None:
            self.walk.offer(self.z)

    def select_point(self, i: int) -> None:
        space = self.space
        if space.class_conditional and space.labels is not None:
            self.class_combo.blockSignals(True)
            self.class_combo.setCurrentIndex(int(space.labels[i]))
            self.class_combo.blockSignals(False)
            self.label = int(space.labels[i])
        self.set_latent(space.codes[i], point=i)
        self.reconstruction.show_point(i)

    def next_seed(self) -> int:
        self.seed.blockSignals(True)
        self.seed.setValue(self.seed.value() + 1)
        self.seed.blockSignals(False)
        return self.seed.value()

    def _latent_moved(self, sliders: bool, dragging: bool = False) -> None:
        if sliders and self._basis is not None:
            self.sliders.set_values(self._basis.values(self.z))
        if not dragging:
            self._update_marker()
        elif not self._marker_timer.isActive():  # a drag moves the star ~12 times a second: each move
            self._marker_timer.start()           # repaints part of a 5k-point map, the image must not wait
        self._update_caption()
        self.decoder.request(self.space.decode_one, (self.z.copy(), self.label), (self._generation, self.z))

    @Slot()
    def _update_marker(self) -> None:
        if self.z is None or self.space is None:
            self.map.set_marker(None)
        elif self.projection == "pca":
            self.map.set_marker(tuple(self.space.pca.transform(self.z)))
        else:  # t-SNE has no inverse: only a map point has a place
            self.map.set_marker(tuple(self.map.xy[self.point]) if self.point >= 0 else None)

    def _update_caption(self) -> None:
        space = self.space
        if self.point >= 0:
            name = space.label_name(int(space.labels[self.point])) if space.labels is not None else ""
            where = f"point #{self.point}" + (f" · {name}" if name else "")
        else:
            where = "a latent off the data"
        self.caption.setText(f"{where}  ·  |z| = {float(np.linalg.norm(self.z)):.2f}")

    def _deliver(self, key, image) -> None:  # in the decoder thread: hand over to the GUI thread
        try:
            self._decoded.emit(key, image)
        except RuntimeError:  # the page is gone
            pass

    def _deliver_error(self, key, message: str) -> None:
        try:
            self._decode_failed.emit(key, message)
        except RuntimeError:
            pass

    @Slot(object, object)
    def _on_self_decoded(self, key, image) -> None:
        if key[0] != self._generation:
            return  # from the model of a previous run
        self.current_image = image
        self.view.set_image(image)
        self.frames_shown += 1
        self.image_shown.emit()

    @Slot(object, str)
    def _on_self_decode_failed(self, key, message: str) -> None:
        self.status.setText(f"could not decode: {message}")
        set_role(self.status, "error")

    # --- sliders -------------------------------------------------------------------------------------------
    def _fill_basis_combo(self) -> None:
        self.basis_combo.blockSignals(True)
        while self.basis_combo.count() > 1:
            self.basis_combo.removeItem(1)
        if self.space.latent_dim <= RAW_LIMIT:
            self.basis_combo.addItem(f"Raw dimensions (z₁…z{self.space.latent_dim})", "raw")
        self.basis_combo.setCurrentIndex(0)
        self.basis_combo.blockSignals(False)
        self._set_basis("pca")

    def _set_basis(self, kind: str) -> None:
        space = self.space
        self._basis = SliderBasis.principal(space.pca, PC_SLIDERS) if kind == "pca" else SliderBasis.raw(space.codes)
        self.sliders.set_rows(self._basis.names, self._basis.tips)
        if self.z is not None:
            self._latent_moved(sliders=True)

    @Slot(int)
    def _on_basis_combo_changed(self, index: int) -> None:
        self._set_basis(self.basis_combo.currentData())

    @Slot(int, float)
    def _on_sliders_moved(self, row: int, value: float) -> None:
        if self.z is None:
            return
        self.z = self._basis.with_value(self.z, row, value)
        self.point = -1
        self._latent_moved(sliders=False, dragging=True)  # orthonormal basis: the other sliders keep their values

    @Slot(int)
    def _on_sliders_released(self, row: int) -> None:
        self.commit_position()

    def show_example(self) -> None:
        """A point picked and an interpolation between two labels (for screenshots and demos)."""
        space = self.space
        labels = space.labels if space.labels is not None else np.zeros(len(space.codes), np.int64)
        first, last = int(labels.min()), int(labels.max())
        a = int(np.flatnonzero(labels == first)[0])
        b = int(np.flatnonzero(labels == last)[-1])
        self.interpolation.set_ends(space.codes[a], space.codes[b])
        self.select_point(int(np.flatnonzero(labels == (first + last) // 2)[0]))

    # --- buttons and map --------------------------------------------------------------------------------------
    @Slot()
    def _on_random_clicked(self) -> None:
        self.set_latent(self.space.random_latent(self.next_seed()))

    @Slot(int)
    def _on_seed_value_changed(self, seed: int) -> None:
        if self.space is not None:
            self.set_latent(self.space.random_latent(seed))

    @Slot()
    def _on_reset_clicked(self) -> None:
        self.set_latent(self.space.pca.mean)

    @Slot(int)
    def _on_class_combo_changed(self, index: int) -> None:
        if self.space is not None and self.z is not None and index >= 0:
            self.label = int(self.class_combo.currentData())
            self._latent_moved(sliders=False)

    @Slot(bool)
    def _on_thumbs_toggled(self, on: bool) -> None:
        self.map.set_thumbnails(on)

    @Slot(bool)
    def _on_select_button_toggled(self, on: bool) -> None:
        self.map.set_select_mode(on)

    @Slot(bool)
    def _on_directions_selection_armed(self, on: bool) -> None:
        self.select_button.setChecked(on)

    @Slot(int)
    def _on_map_point_clicked(self, i: int) -> None:
        self.select_point(i)

    @Slot(float, float)
    def _on_map_space_clicked(self, x: float, y: float) -> None:
        if self.space is None:
            return
        if self.projection != "pca":
            self.status.setText("t-SNE has no inverse: click a point, or switch to PCA to decode empty space")
            return
        self.set_latent(self.space.pca.inverse(np.array([x, y], np.float32)))

    @Slot(object)
    def _on_map_selection_made(self, indices) -> None:
        self.status.setText(f"{len(indices):,} points selected")
        set_role(self.status, "muted")
        self.directions.take_selection(indices)
        if self.directions.armed is None and self.select_button.isChecked():
            self.select_button.setChecked(False)
