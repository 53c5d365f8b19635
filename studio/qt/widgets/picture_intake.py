"""Bringing a picture in, for every page that takes one (the Diffusion viewer's "Edit a picture",
the Latent explorer's "Your picture"): Open…, Paste (Ctrl+V), a dataset image, a file or
picture dropped on the page, and the crop / pad choice. The picture is fitted to the model
(``studio.editing.session.fit_source``: resolution, channels, RGBA on white) off the UI thread,
one at a time and in the order they came: two quick pastes are two pictures (a newer one used
to replace one still being fitted, silently). The page gets ``fitted(source, picture)`` or one
line saying what was wrong; a page that works on a picture for a while (the Latent explorer's
encoding or GAN search) ``hold()``s the next one until it calls ``release()``."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QSpinBox, QWidget

from ...editing.picture import FITS
from ...editing.session import PictureSource, file_source, fit_source
from ...errors import SpecError
from ..runner import Latest
from .edit_canvas import source_of
from .save_dialog import ask_open_path

PICTURE_FILES = "Pictures (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
FIT_TEXTS = {"crop": "Crop to square", "pad": "Pad to square"}


def fitted(source: PictureSource, image_shape, fit: str):
    """(source, its fitted picture float (1, C, H, W) in [−1, 1]): the picture channel's work,
    run off the UI thread. Its errors name the file, not its whole path (one line a window can
    hold)."""
    try:
        return source, fit_source(source, image_shape, fit)
    except SpecError as exc:
        problem = exc.problem.replace(str(source.value), source.name) if source.kind == "file" else exc.problem
        raise SpecError(problem) from None


def row(*widgets: QWidget) -> QWidget:
    """Widgets side by side in one plain widget (to show, hide or lay out as one)."""
    from .diffusion_views import boxed

    layout = QHBoxLayout()
    layout.setSpacing(6)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(0)
    return boxed(layout)


class PictureIntake(QObject):
    """The buttons that bring a picture in and the work that fits it. ``image_shape()`` gives
    the open model's (C, H, W) or None; ``say(text, role)`` shows a line on the page. The host
    page forwards its drag and drop events (``drag_enter``, ``drop``) and gets Ctrl+V; the page
    lays out ``open_button``, ``paste_button``, ``dataset_button``, ``dataset_index`` and
    ``fit_combo`` (``rows()`` gives them in three rows)."""

    fitted = Signal(object, object)  # PictureSource, float (1, C, H, W) in [−1, 1]
    failed = Signal(str)  # one line: what was wrong with the picture
    fit_changed = Signal(str)  # "crop" | "pad"

    def __init__(self, host: QWidget, image_shape: Callable[[], tuple | None], say: Callable[[str, str], None],
                 what: str = "a model"):
        super().__init__(host)
        self.host, self._image_shape, self.say, self.what = host, image_shape, say, what
        self.images = None  # the model's dataset to pick from, uint8 (N, C, H, W)
        self.missing = ""  # why there are none, when known
        self.open_button = QPushButton("Open…", toolTip="Open a picture file (any format Pillow reads)")
        self.paste_button = QPushButton("Paste", toolTip="Paste a picture or picture file (Ctrl+V)")
        self.dataset_button = QPushButton("Dataset image",
                                          toolTip="Use this image of the model's dataset (test split)")
        self.dataset_index = QSpinBox(minimum=0, maximum=0, toolTip="Which dataset image")
        self.fit_combo = QComboBox(toolTip="A picture that is not square: crop its centre square, or pad the "
                                           "whole picture with its border's colour")
        for fit in FITS:
            self.fit_combo.addItem(FIT_TEXTS[fit], fit)
        self.open_button.clicked.connect(self.open_file)
        self.paste_button.clicked.connect(self.paste)
        self.dataset_button.clicked.connect(self._on_dataset_button_clicked)
        self.fit_combo.currentIndexChanged.connect(self._on_fit_combo_current_index_changed)
        QShortcut(QKeySequence.Paste, host, context=Qt.WidgetWithChildrenShortcut).activated.connect(self.paste)
        host.setAcceptDrops(True)
        self.waiting: list[tuple[PictureSource, str | None]] = []  # (source, fit) to fit next, in order
        self.held = False  # the page is still working on the last picture fitted
        self.pasted = 0  # pictures pasted so far, to name each
        self.task = Latest(self, "picture")
        self.task.succeeded.connect(self._on_task_succeeded)
        self.task.failed.connect(self._on_task_failed)

    @property
    def fit(self) -> str:
        return self.fit_combo.currentData()

    def rows(self) -> list[QWidget]:
        return [row(self.open_button, self.paste_button), row(self.dataset_button, self.dataset_index),
                row(self.fit_combo)]

    def set_images(self, images, missing: str = "") -> None:
        """The dataset images to pick from: uint8 (N, C, H, W) (None: still loading, or
        ``missing`` says why there are none)."""
        self.images, self.missing = images, missing
        if images is not None:  # while the next model's dataset loads, the number stays (the picture's)
            self.dataset_index.setMaximum(max(0, len(images) - 1))

    # --- bringing a picture in --------------------------------------------------------------------
    def bring(self, source: PictureSource | None, fit: str | None = None) -> None:
        """Fit ``source`` to the model off the UI thread, after the pictures before it;
        ``fitted`` follows (or ``failed``)."""
        if source is None:
            return
        if self._image_shape() is None:
            self.say(f"Open {self.what} first: the picture is fitted to it.", "error")
            return
        self.waiting.append((source, fit))
        if self.busy:
            self.say(f"{source.name} is next in line ({len(self.waiting)} waiting).", "muted")
        self._next()

    @property
    def busy(self) -> bool:
        """A picture is being fitted, or the page is still working on the last one."""
        return self.task.busy or self.held

    def hold(self) -> None:
        """The page is working on the picture just fitted: the next waits for ``release``."""
        self.held = True

    def release(self) -> None:
        """The page is done with its picture (used, failed or cancelled): fit the next."""
        self.held = False
        self._next()

    def _next(self) -> None:
        if self.busy or not self.waiting:
            return
        source, fit = self.waiting.pop(0)
        shape = self._image_shape()
        if shape is None:  # the model was closed meanwhile
            self.waiting.clear()
            return
        self.say(f"Fitting {source.name} to the model…", "muted")
        self.task.submit(fitted, source, tuple(shape), fit or self.fit)

    @Slot()
    def open_file(self) -> None:
        path = ask_open_path(self.host, "Open a picture", PICTURE_FILES, "picture")
        if path:
            self.bring(file_source(path))

    @Slot()
    def paste(self) -> None:
        source = source_of(QGuiApplication.clipboard().mimeData())
        if source is None:
            self.say("The clipboard holds no picture: copy a picture or a picture file first.", "error")
        elif source.kind == "pixels":  # each paste its own name: "pasted #2 (300×240)"
            self.pasted += 1
            size = source.name.removeprefix("a pasted ").removesuffix(" picture")
            source = replace(source, name=f"pasted #{self.pasted} ({size})")
        self.bring(source)

    def dataset_source(self, i: int) -> PictureSource | None:
        if self.images is None or not len(self.images):
            self.say(self.missing or "The model's dataset is still loading (or has no images).", "error")
            return None
        return PictureSource("dataset", self.images[i].permute(1, 2, 0).numpy(), f"dataset image {i}")

    @Slot()
    def _on_dataset_button_clicked(self) -> None:
        self.bring(self.dataset_source(self.dataset_index.value()))

    def drag_enter(self, event) -> None:
        """The host's ``dragEnterEvent``: accepted when it carries a picture or picture file."""
        if source_of(event.mimeData()) is not None:
            event.acceptProposedAction()

    def drop(self, event) -> None:
        """The host's ``dropEvent``: the dropped picture is brought in."""
        source = source_of(event.mimeData())
        if source is not None:
            event.acceptProposedAction()
            self.bring(source)

    @Slot(object)
    def _on_task_succeeded(self, result) -> None:
        self.fitted.emit(*result)  # the page may hold() the next meanwhile
        self._next()

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self.failed.emit(message)
        self._next()

    @Slot(int)
    def _on_fit_combo_current_index_changed(self, index: int) -> None:
        self.fit_changed.emit(self.fit)
