"""The Latent explorer's "Your picture" tool: bring a picture in (the shared intake,
widgets/picture_intake.py: drop it on the page, Ctrl+V, Open…, a dataset image), and it
becomes a latent: encoded by a model with an encoder, or, for a GAN, found by optimising z
(``studio.latent.pictures.InvertPictureJob`` through the runner, with a progress bar, the
falling reconstruction error drawn live, the picture G(z) forming, and Cancel). The result is
kept in the ``ExplorerState`` (marked on the map, shown with the sliders at its latent) and
drawn here beside its reconstruction. A view of the state like the other tools."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from ...editing.picture import to_pixels
from ...editing.session import PictureSource
from ...errors import SpecError
from ...latent.pictures import InvertPictureJob, dataset_images, encode_user_picture, neighbours_text
from ..runner import Latest, runner
from .cards import label, set_role
from .image_view import to_qimage
from .plain_text import tip
from .latent_tools import thumb
from .plot_axis import ReadableAxis

PICTURE_COLOR = "#ff5fa2"  # your pictures on the map and in this tool


def encode_for(space, picture, source, label: int | None):
    """(space, UserPicture): the encoding channel's job (``source`` a PictureSource, kept on it)."""
    result = encode_user_picture(space, picture, source.name, label)
    result.source = source
    return space, result


def source_of_picture(picture) -> PictureSource:
    """Where ``picture`` (a UserPicture) came from, to bring it into another model: its
    original source, or its fitted pixels."""
    return picture.source if picture.source is not None else PictureSource("pixels", picture.image, picture.name)


def images_of(space):
    """(space, the run's held-out images uint8 (N, C, H, W)): the dataset channel's job."""
    return space, dataset_images(space.run_path)


class PictureTool(QWidget):
    """Your pictures in the open latent space. The page gives it the ``PictureIntake`` it
    serves (``take_intake``): the page is the drop and paste target, the buttons live here."""

    HINT = "Drop a picture on the page, paste one (Ctrl+V), open a file or pick a dataset image."

    def __init__(self, state):
        super().__init__()
        self.state = state
        self.intake = None
        self.handle = None  # the running inversion's JobHandle
        self._space = None  # the space the inversion runs in
        self._source = None  # the PictureSource being encoded or searched for
        self._carry: list = []  # sources to bring into the model being opened
        self._changing = False  # another model is being opened: pictures wait for it
        self.errors: list[float] = []
        self.input_view, self.output_view = thumb("your picture", 112), thumb("reconstruction", 112)
        self.output_caption = label("reconstruction", "muted")
        self.detail = label("", "muted", wrap=True)
        self.detail.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.message = label(self.HINT, "muted", wrap=True)
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.steps = QSpinBox(minimum=10, maximum=100_000, value=300, singleStep=50, suffix=" iterations",
                              toolTip="Adam steps on z when a GAN's picture is searched for (more: a closer match, "
                                      "slower)")
        self.shelf = QListWidget(viewMode=QListWidget.IconMode, movement=QListWidget.Static,
                                 resizeMode=QListWidget.Adjust, spacing=4, iconSize=QSize(56, 56))
        self.shelf.setToolTip("Your pictures in this model's latent space: click one to show it; the sliders start "
                              "from its latent")
        # one row of pictures with their names under them (64 px showed the pictures only)
        self.shelf.setMinimumHeight(56 + self.shelf.fontMetrics().height() + 24)
        self.shelf.itemClicked.connect(self._on_shelf_item_clicked)
        self.remove_button = QPushButton("Remove", toolTip="Take the picture shown off the map")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.progress = QProgressBar(format="%v / %m")
        self.cancel_button = QPushButton("Cancel", toolTip="Stop searching: nothing is added")
        self.cancel_button.clicked.connect(self.cancel)
        # labelled on any range (a fixed 40 px axis dropped "1.23450"-wide labels: none were left)
        self.curve = pg.PlotWidget(axisItems={"left": ReadableAxis("left")})
        self.curve.setMinimumHeight(70)
        self.curve.setMenuEnabled(False)
        self.curve.setMouseEnabled(False, False)
        self.curve.getPlotItem().hideButtons()
        self.curve.getPlotItem().hideAxis("bottom")  # the iterations are in words beside the pictures
        self.line = self.curve.plot([], [], pen=pg.mkPen(PICTURE_COLOR, width=2))
        self.curve.setToolTip("Reconstruction error ‖G(z) − x‖² per pixel (pixels in [−1, 1]), each iteration")
        self.invert_row = QWidget()
        row = QHBoxLayout(self.invert_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.set_inverting(False)

        self.controls = QVBoxLayout()
        self.controls.setSpacing(6)
        self.controls.setContentsMargins(0, 0, 0, 0)
        pair = QGridLayout()
        pair.setVerticalSpacing(2)
        pair.addWidget(self.input_view, 0, 0)
        pair.addWidget(self.output_view, 0, 1)
        pair.addWidget(label("your picture", "muted"), 1, 0, Qt.AlignCenter)
        pair.addWidget(self.output_caption, 1, 1, Qt.AlignCenter)
        pair.addWidget(self.detail, 2, 0, 1, 2)
        pair.setRowStretch(3, 1)
        right = QVBoxLayout()
        right.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(label("YOUR PICTURES", "section"))
        head.addStretch(1)
        head.addWidget(self.remove_button)
        right.addLayout(head)
        right.addWidget(self.shelf, 1)
        right.addWidget(self.invert_row)
        right.addWidget(self.curve, 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(self.controls)
        layout.addSpacing(12)
        layout.addLayout(pair)
        layout.addSpacing(12)
        layout.addLayout(right, 1)

        self.encoding = Latest(self, "latent-encode")
        self.encoding.succeeded.connect(self._on_encoding_succeeded)
        self.encoding.failed.connect(self._on_encoding_failed)
        self.loading = Latest(self, "latent-picture-data")
        self.loading.succeeded.connect(self._on_loading_succeeded)
        self.loading.failed.connect(self._on_loading_failed)
        state.events.space.connect(self.set_space)
        state.events.pictures.connect(self._fill_shelf)
        state.events.latent.connect(self._on_state_latent)

    # --- the intake --------------------------------------------------------------------------------
    def image_shape(self):
        """The open model's (C, H, W), or None: what the intake fits pictures to."""
        space = self.state.space
        return tuple(int(v) for v in space.model.image_shape) if space is not None else None

    def take_intake(self, intake) -> None:
        self.intake = intake
        for widget in intake.rows():
            self.controls.addWidget(widget)
        self.controls.addWidget(self.steps)
        self.controls.addWidget(self.message, 1)
        intake.fitted.connect(self._on_intake_fitted)
        intake.failed.connect(self._on_failed)

    def say(self, text: str, role: str = "muted") -> None:
        self.message.setText(text)
        self.message.setToolTip(tip(text))
        set_role(self.message, role)

    # --- the state's events ------------------------------------------------------------------------
    def model_changing(self) -> None:
        """Another model is being opened: the search or encoding in progress stops at once (its
        result would belong to the old model) and its picture, with the pictures waiting, is
        brought into the new model once it is open (``set_space``) or back to this one
        (``model_kept``)."""
        if self._changing:
            return
        self._changing = True
        busy, iterations = self.inverting or self.encoding.busy, len(self.errors)
        self.encoding.cancel()
        self._stop()
        if busy and self._source is not None:
            self._carry.append(self._source)
            done = f" after {iterations} iterations" if self._space is not None and not self._space.encoded else ""
            self.say(f"Stopped{done}: another model is opening; {self._source.name} is brought into it.")
        if self.intake is not None:
            self._carry += [source for source, _ in self.intake.waiting]
            self.intake.waiting.clear()
            self.intake.hold()  # nothing is fitted to the old model meanwhile

    def model_kept(self) -> None:
        """The other model did not open: the pictures set aside come back into this one."""
        if self._changing:
            self._changing = False
            self._bring_carried(self._carry, "")

    def _bring_carried(self, sources: list, words: str) -> None:
        self._carry = []
        if self.intake is None:
            return
        for source in sources:
            self.intake.waiting.append((source, None))
        self._release()
        if words:  # after the intake's "Fitting …": what happens to the pictures
            self.say(words)

    def set_space(self, space) -> None:
        self.encoding.cancel()
        self._stop()
        self._changing = False
        carried = [source_of_picture(p) for p in self.state.carried] + self._carry
        for view in (self.input_view, self.output_view):
            view.set_image(None)
        self.detail.setText("")
        self.line.setData([], [])
        self.steps.setVisible(not space.encoded)
        self.curve.setVisible(not space.encoded)
        self.output_caption.setText("reconstruction" if space.encoded else "G(z) found")
        if self.intake is not None:
            self.intake.set_images(None)
        self.loading.submit(images_of, space)
        if carried:
            how = "encoded" if space.encoded else "searched for again (a GAN has no encoder)"
            words = (f"Your {len(carried)} picture{'s' if len(carried) > 1 else ''} from the previous model "
                     f"{'are' if len(carried) > 1 else 'is'} {how} in this {space.family}, one by one.")
        else:
            words = self.HINT
        self._bring_carried(carried, words)

    @Slot(object)
    def _on_loading_succeeded(self, result) -> None:
        space, images = result
        if space is self.state.space and self.intake is not None:
            self.intake.set_images(images)

    @Slot(str)
    def _on_loading_failed(self, message: str) -> None:
        text = f"The model's dataset could not be loaded ({message}): drop, paste or open a picture instead."
        if self.intake is not None:
            self.intake.set_images(None, text)
        self.say(text, "error")

    def _fill_shelf(self, pictures) -> None:
        self.shelf.clear()
        for i, picture in enumerate(pictures):
            name = picture.name if len(picture.name) <= 10 else picture.name[:9] + "…"
            pixmap = QPixmap.fromImage(to_qimage(picture.image)).scaled(self.shelf.iconSize(), Qt.KeepAspectRatio,
                                                                         Qt.FastTransformation)  # crisp pixels
            item = QListWidgetItem(QIcon(pixmap), name)
            item.setToolTip(tip(f"{picture.name} ({picture.how}, PSNR {picture.psnr:.1f} dB)"))
            item.setData(Qt.UserRole, i)
            self.shelf.addItem(item)
        self.remove_button.setEnabled(self.state.picture >= 0)

    def _on_state_latent(self, change) -> None:
        i = self.state.picture
        self.remove_button.setEnabled(i >= 0)
        if change.base and i >= 0:
            self.show_picture(self.state.pictures[i])
            self.shelf.setCurrentRow(i)

    def show_picture(self, picture) -> None:
        """``picture`` (a UserPicture) beside its reconstruction, with the error in words."""
        self.input_view.set_image(picture.image)
        self.output_view.set_image(picture.recon)
        near = neighbours_text(self.state.space, picture.z) if self.state.space is not None else ""
        how = f"found in {len(picture.errors)} iterations" if picture.how == "inverted" else "encoded"
        if picture.label is not None:  # a class-conditional model: the class it was encoded / found for
            how += f" as {self.state.space.label_name(picture.label)}"
        self.detail.setText(f"{picture.name} · {how} · difference {picture.error:.4f} per pixel "
                            f"({picture.psnr:.1f} dB)" + (f" · {near}" if near else ""))
        self.detail.setToolTip("Difference: the mean squared error per pixel between your picture and its "
                               "reconstruction, pixels in [−1, 1]; dB: the PSNR, 10·log₁₀(2² / MSE). Nearest: "
                               "the classes of the map's codes nearest to its latent")
        if picture.errors:
            self.line.setData(np.arange(1, len(picture.errors) + 1), np.asarray(picture.errors))

    # --- a picture came in ------------------------------------------------------------------------------
    @Slot(object, object)
    def _on_intake_fitted(self, source, picture) -> None:
        space = self.state.space
        if self._changing:  # fitted for the model being left: it goes into the next one
            self._carry.append(source)
            return
        if space is None or tuple(picture.shape[1:]) != self.image_shape():
            if space is not None:
                self.intake.bring(source)  # fitted for a model no longer open: fit it to this one
            return
        self._source = source
        self.state.set_tool("picture")
        self.input_view.set_image(to_pixels(picture)[0])
        self.output_view.set_image(None)
        self.intake.hold()  # a picture pasted meanwhile waits for this one (released when it ends)
        if space.encoded:
            self.say(f"Encoding {source.name}…")
            self.encoding.submit(encode_for, space, picture, source, self.state.label)
        else:
            self.invert(space, picture, source.name)

    def invert(self, space, picture, name: str) -> None:
        """Search the GAN's z for ``picture`` through the runner (a newer picture cancels it)."""
        self.cancel()
        try:
            job = InvertPictureJob(space, picture, name, self.state.label, steps=self.steps.value())
        except SpecError as exc:
            self._on_failed(exc.worded({"label": "The class", "image": "The picture", "steps": "Iterations"}))
            self._release()
            return
        self.errors, self._space = [], space
        self.line.setData([], [])
        self.progress.setRange(0, self.steps.value())
        self.progress.setValue(0)
        self.set_inverting(True)
        self.say(f"Searching the GAN's latent space for {name}: the error should fall…")
        handle = self.handle = runner().start(job, "latent-invert")
        handle.progressed.connect(self._on_handle_progressed)
        handle.metrics_reported.connect(self._on_handle_metrics)
        handle.preview_ready.connect(self._on_handle_preview)
        handle.finished.connect(self._on_handle_finished)

    @property
    def inverting(self) -> bool:
        return self.handle is not None

    def set_inverting(self, on: bool) -> None:
        self.invert_row.setVisible(on)
        self.steps.setEnabled(not on)

    @Slot()
    def cancel(self) -> None:
        """Stop the inversion (its thread ends at the next iteration; nothing is added)."""
        if self._stop():
            self.say(f"Stopped after {len(self.errors)} iterations: nothing was added.")
            self._release()

    def _stop(self) -> bool:
        """End the inversion without a word; True when one ran."""
        handle, self.handle = self.handle, None
        if handle is None:
            return False
        handle.muted = True  # nothing more of it reaches the page
        handle.cancel()
        self.set_inverting(False)
        return True

    def _release(self) -> None:
        """This picture is done with: the intake fits the next one waiting, if any."""
        if self.intake is not None:
            self.intake.release()

    @Slot(object)
    def _on_handle_progressed(self, progress) -> None:
        if self.sender() is self.handle:
            self.progress.setValue(progress.step)

    @Slot(list)
    def _on_handle_metrics(self, records) -> None:
        if self.sender() is not self.handle:
            return
        self.errors.extend(values["mse"] for _, _, values in records)
        self.line.setData(np.arange(1, len(self.errors) + 1), np.asarray(self.errors))
        self.detail.setText(f"iteration {len(self.errors):,}: difference {self.errors[-1]:.4f} per pixel "
                            f"(from {self.errors[0]:.4f})")

    @Slot(int, object)
    def _on_handle_preview(self, step: int, image) -> None:
        if self.sender() is self.handle:
            self.output_view.set_image(image)

    @Slot(object)
    def _on_handle_finished(self, outcome) -> None:
        if self.sender() is not self.handle:
            return
        self.handle, space = None, self._space
        self.set_inverting(False)
        if outcome.ok:
            outcome.result.source = self._source
            self._add(space, outcome.result)
        elif outcome.status != "cancelled":
            self._on_failed(outcome.error or "the search failed")
        self._release()

    @Slot(object)
    def _on_encoding_succeeded(self, result) -> None:
        self._add(*result)
        self._release()

    def _add(self, space, picture) -> None:
        if self.state.add_picture(space, picture) >= 0:
            self.say(f"{picture.name} is on the map (pink ◆). Sliders, directions and A/B ← current start "
                     "from it.")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.say(message, "error")

    @Slot(str)
    def _on_encoding_failed(self, message: str) -> None:
        self._on_failed(message)
        self._release()

    @Slot(QListWidgetItem)
    def _on_shelf_item_clicked(self, item: QListWidgetItem) -> None:
        self.state.show_picture(int(item.data(Qt.UserRole)))

    @Slot()
    def _on_remove_clicked(self) -> None:
        if self.state.picture >= 0:
            self.state.remove_picture(self.state.picture)
            for view in (self.input_view, self.output_view):
                view.set_image(None)
            self.detail.setText("")

