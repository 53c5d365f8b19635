"""The Diffusion viewer's "Edit a picture" page: bring a picture in (drop a file on the page,
paste with Ctrl+V, open a file, or pick a dataset image), fit it to the model (crop or pad),
choose img2img (SDEdit), inpainting (RePaint, with a mask painted on the picture) or a class
swap, and watch x_t and x̂₀ of every step beside your picture (ε, the filmstrip and the exports:
Step through, which shows the same trajectory).

What it holds lives in a Qt-free ``EditSession`` (``studio.editing.session``); what the viewer
shows lives in its ``ViewerState``, which this page draws for edit trajectories. The panel
runs the job it gets from ``jobs()`` with the same runner and views as sampling."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QMenu, QScrollArea,
                               QSizePolicy, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ...editing.picture import MASK_NAMES
from ...editing.session import FIELD_NAMES, METHODS, EditSession, PictureSource, tint
from ...errors import SpecError
from .cards import card, label, tab_buttons
from .diffusion_views import FrameView, Timeline, boxed
from .edit_canvas import PictureCard
from .picture_intake import PictureIntake
METHOD_TEXTS = ("Img2img", "Inpaint", "Class swap")
METHOD_TIPS = ("SDEdit (Meng et al. 2022): noise your picture to t₀, then denoise it with the sampler",
               "RePaint (Lugmayr et al. 2022): regenerate the painted region, keep the rest",
               "Noise to t₀, then denoise towards another class with classifier-free guidance")
PLACEHOLDER = "Drop a picture here, paste one (Ctrl+V), open a file or pick a dataset image"


def _row(*items) -> QWidget:
    """A row of widgets (str: a muted caption), returned as one widget to show or hide."""
    row = QHBoxLayout()
    row.setSpacing(6)
    for item in items:
        row.addWidget(label(item, "muted") if isinstance(item, str) else item, 1 if isinstance(item, QSlider) else 0)
    row.addStretch(0)
    return boxed(row)


class EditPage(QWidget):
    """Owns the picture, method and mask controls; the panel calls ``set_model``,
    ``set_dataset``, ``jobs`` and ``branch_job``. ``settings`` is the viewer's
    ``SamplingSettings`` (sampler, steps, images; its message line says what happens);
    ``branch_button`` the Step-through page's, whose tooltip says why an edit cannot be branched."""

    edit_dropped = Signal()  # a new picture replaced the one of the edit running: cancel it

    def __init__(self, state, settings, branch_button, play_seconds: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.settings, self.session = state, settings, EditSession()
        self.say = settings.say
        self._run_text = (settings.run_button.text(), settings.run_button.toolTip())
        self._branch_button, self._branch_tip = branch_button, branch_button.toolTip()
        # the picture comes in as on every page that takes one (widgets/picture_intake.py)
        self.intake = PictureIntake(self, lambda: self.session.image_shape, self.say, "a diffusion model")
        self.intake.fitted.connect(self._on_intake_fitted)
        self.intake.failed.connect(self._on_intake_failed)
        self.intake.fit_changed.connect(self._on_intake_fit_changed)
        intake = self.intake
        self.open_button, self.paste_button, self.fit_combo = intake.open_button, intake.paste_button, intake.fit_combo
        self.dataset_button, self.dataset_index = intake.dataset_button, intake.dataset_index

        self.picture = PictureCard(self.session, PLACEHOLDER)
        self.canvas = self.picture.canvas
        self.xt_view = FrameView("x_t", "the noisy image", "Press ▶ Edit: your picture noised to t₀, then denoised")
        self.x0_view = FrameView("x̂₀", "what the model makes of it", "The model's picture appears here")
        for view in (self.picture, self.xt_view, self.x0_view):  # long texts clip: the cards stay equal
            for text in (view.subtitle, view.caption):
                text.setMinimumWidth(40)
                text.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.timeline = Timeline(play_seconds)
        self.timeline.slider.valueChanged.connect(self._on_timeline_value_changed)


        methods = QHBoxLayout()
        methods.setSpacing(4)
        self.method_buttons = tab_buttons(self, METHOD_TEXTS, methods)
        for button, tip in zip(self.method_buttons.buttons(), METHOD_TIPS):
            button.setToolTip(tip)
        self.method_buttons.idClicked.connect(self._on_method_buttons_id_clicked)
        self.strength = QSlider(Qt.Horizontal, minimum=0, maximum=100, value=60)
        self.strength.setToolTip("t₀: 0 gives your picture back, 1 ignores it (plain sampling)")
        self.strength_value = label("0.60")
        self.strength_value.setMinimumWidth(self.strength_value.fontMetrics().horizontalAdvance("0.00 "))
        self.target = QComboBox(toolTip="The class to turn the picture into")
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5, value=2.0, decimals=1,
                                       toolTip="Classifier-free guidance scale: higher follows the class harder")
        self.jump = QSpinBox(minimum=1, maximum=1000, value=self.session.jump_length,
                             toolTip="RePaint's jump length j: how many steps the chain jumps back up")
        self.resample = QSpinBox(minimum=1, maximum=100, value=self.session.resample,
                                 toolTip="RePaint's resampling count r: 1 = no jumps; more harmonises the edges")
        self.cost = label("", "muted", wrap=True)
        self.rows = {"strength": _row("Strength t₀", self.strength, self.strength_value),
                     "target": _row("Target class", self.target), "guidance": _row("Guidance", self.guidance),
                     "jump": _row("Jump length", self.jump), "resample": _row("Resample", self.resample)}
        self.strength.valueChanged.connect(self._on_setting_changed)
        self.target.currentIndexChanged.connect(self._on_setting_changed)
        for spin in (self.guidance, self.jump, self.resample):
            spin.valueChanged.connect(self._on_setting_changed)
        settings.steps.valueChanged.connect(self._show_cost)
        settings.batch.valueChanged.connect(self._show_cost)

        self.brush = QSpinBox(minimum=1, maximum=16, value=4, suffix=" px", toolTip="Brush diameter in model pixels")
        self.erase = QToolButton(text="Erase", checkable=True, toolTip="Paint with the left button to keep pixels "
                                                                       "(the right button always erases)")
        self.invert_button = QToolButton(text="Invert", toolTip="Regenerate what is kept and keep what is regenerated")
        self.clear_button = QToolButton(text="Clear", toolTip="Keep every pixel (an empty mask)")
        self.preset_button = QToolButton(text="Half", toolTip="Regenerate one half, or the centre square")
        self.preset_button.setPopupMode(QToolButton.InstantPopup)
        presets = QMenu(self.preset_button)
        for name in MASK_NAMES:
            presets.addAction(name).setData(name)
        presets.triggered.connect(lambda action: self.session.set_named_mask(action.data()))
        self.preset_button.setMenu(presets)
        self.tint_box = QCheckBox("Tint the regenerated region", checked=True,
                                  toolTip="Show which pixels the model made (tinted) and which were kept")
        self.brush.valueChanged.connect(self._on_brush_value_changed)
        self.erase.toggled.connect(self._on_erase_toggled)
        self.invert_button.clicked.connect(self.session.invert_mask)
        self.clear_button.clicked.connect(self.session.clear_mask)
        self.tint_box.toggled.connect(self._draw)

        picture_card = card("Picture", *intake.rows(), spacing=6, margins=10)
        edit_card = card("Edit", boxed(methods), *self.rows.values(), self.cost, spacing=6, margins=10)
        self.mask_card = card("Mask (paint on your picture)", _row("Brush", self.brush, self.erase),
                              _row(self.invert_button, self.clear_button, self.preset_button), self.tint_box,
                              spacing=6, margins=10)
        column = QVBoxLayout()
        column.setSpacing(8)
        for widget in (picture_card, edit_card, self.mask_card):
            column.addWidget(widget)
        column.addStretch(1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(boxed(column))
        scroll.setFixedWidth(scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        views = QHBoxLayout()
        views.setSpacing(10)
        views.addWidget(scroll)
        for view, stretch in ((self.picture, 2), (self.xt_view, 1), (self.x0_view, 2)):  # before / after large
            views.addWidget(view, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(views, 1)
        layout.addWidget(self.timeline)
        self.session.connect(self._on_session_changed)
        state.connect(self._on_state_changed)
        self._show_method()
        self._draw()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)  # on this page the viewer's Run edits the picture
        self.settings.run_button.setText("▶  Edit")
        self.settings.run_button.setToolTip("Edit your picture with these settings, step by step (Ctrl+Enter)")
        self._lend_class()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.settings.run_button.setText(self._run_text[0])
        self.settings.run_button.setToolTip(self._run_text[1])
        self.settings.lend_class("")

    def _lend_class(self) -> None:
        """A class swap sets the class and guidance here (Target class, Guidance): the top bar's
        are off meanwhile; img2img and inpainting use the top bar's."""
        swap = self.isVisible() and self.session.method == "swap"
        self.settings.lend_class("Class swap uses the Edit panel's Target class and Guidance" if swap else "")

    # --- the model and the dataset ----------------------------------------------------------------
    def set_model(self, model, meta: dict) -> None:
        session = self.session
        session.set_model(model)
        self.intake.set_images(None)  # the new run's dataset follows (set_dataset)
        names = meta.get("label_names") or [str(i) for i in range(session.num_classes)]
        self.target.blockSignals(True)
        self.target.clear()
        for i in range(session.num_classes):
            self.target.addItem(names[i] if i < len(names) else str(i), i)
        self.target.blockSignals(False)
        self.guidance.setValue(session.guidance_default)
        swap = self.method_buttons.button(METHODS.index("swap"))
        swap.setEnabled(bool(session.num_classes))
        swap.setToolTip(METHOD_TIPS[2] if session.num_classes else
                        "Class swap needs a class-conditional model (e.g. the ddpm-cfg-fashion-mnist demo)")
        self.jump.setMaximum(model.num_train_timesteps)
        self.brush.setMaximum(max(1, model.image_shape[-1] // 2))
        self.brush.setValue(max(1, round(model.image_shape[-1] / 7)))
        self.method_buttons.button(METHODS.index(session.method)).setChecked(True)
        self._show_method()
        if session.needs_fit:
            self.bring(session.source)

    def set_dataset(self, images) -> None:
        self.intake.set_images(images)

    @property
    def _images(self):
        return self.intake.images

    # --- bringing a picture in -------------------------------------------------------------------------
    def bring(self, source: PictureSource | None) -> None:
        """Fit ``source`` to the model off the UI thread; it appears when fitted."""
        self.intake.bring(source, self.session.fit)

    @Slot()
    def open_file(self) -> None:
        self.intake.open_file()

    @Slot()
    def paste(self) -> None:
        self.intake.paste()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.intake.drag_enter(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.intake.drop(event)

    @Slot(object, object)
    def _on_intake_fitted(self, source, picture) -> None:
        session, state = self.session, self.state
        if session.image_shape is None or tuple(picture.shape[1:]) != session.image_shape:
            return
        old, running = session.source, state.busy and state.mode == "edit"
        dropped = session.set_picture(source, picture)  # the old picture's edit and painted mask go
        state.forget_edit(dropped)
        c, h, w = session.image_shape
        line = f"Fitted {source.name} to {w}×{h} ({session.fit})"  # a name is never recased: not first
        if running and dropped is not None:
            self.edit_dropped.emit()  # the panel cancels it
            line += f"; the edit of {old.name} was cancelled"
        self.say(f"{line}: press ▶ Edit (Ctrl+Enter).", "muted")

    @Slot(str)
    def _on_intake_failed(self, message: str) -> None:
        self.say(message, "error")

    @Slot(str)
    def _on_intake_fit_changed(self, fit: str) -> None:
        if self.session.set_fit(fit):
            self.bring(self.session.source)

    # --- the method and its settings ----------------------------------------------------------------
    @Slot(int)
    def _on_method_buttons_id_clicked(self, index: int) -> None:
        self.session.set_method(METHODS[index])

    @Slot()
    def _on_setting_changed(self, *_) -> None:
        self.strength_value.setText(f"{self.strength.value() / 100:.2f}")
        self.session.set(strength=self.strength.value() / 100, target=max(0, self.target.currentIndex()),
                         guidance=self.guidance.value(), jump_length=self.jump.value(), resample=self.resample.value())

    @Slot(int)
    def _on_brush_value_changed(self, value: int) -> None:
        self.canvas.diameter = float(value)

    @Slot(bool)
    def _on_erase_toggled(self, on: bool) -> None:
        self.canvas.erase = on

    def _show_method(self) -> None:
        method = self.session.method
        visible = {"strength": method != "inpaint", "target": method == "swap", "guidance": method == "swap",
                   "jump": method == "inpaint", "resample": method == "inpaint"}
        for name, row in self.rows.items():
            row.setVisible(visible[name])
        self.mask_card.setVisible(method == "inpaint")
        self.canvas.set_painting(method == "inpaint")
        self._lend_class()
        self._show_cost()

    @Slot()
    def _show_cost(self, *_) -> None:
        steps, batch = self.settings.steps.value(), self.settings.batch.value()
        n = self.session.evaluations(steps)
        images = f" × {batch} images" if batch > 1 else ""
        if self.session.method == "inpaint":
            text = f"{n} denoising steps{images} ({steps} sampler steps and the jumps back)" if n else \
                f"The jump length must be at most the {steps} steps"
        else:
            text = f"{n} of {steps} denoising steps{images}" + ("; 0: your picture, unchanged" if not n else "")
        self.cost.setText(text)

    # --- jobs -------------------------------------------------------------------------------------------
    def jobs(self, model, spec) -> list | None:
        """[the edit's job] with the viewer's sampling ``spec``, or None after saying why not."""
        try:
            return [self.session.job(model, spec)]
        except SpecError as exc:
            self.say(exc.worded(FIELD_NAMES), "error")
            return None

    def branch_job(self, model, spec, parent, step: int):
        return self.session.branch_job(model, spec, parent, step)

    # --- drawing --------------------------------------------------------------------------------------
    def _on_session_changed(self, what: str) -> None:
        if what == "method":
            self._show_method()
        elif what == "settings":
            self._show_cost()
        if what in ("model", "picture", "mask", "method"):
            self.canvas.set_image(self.session.picture_pixels(tinted=self.session.method == "inpaint"))
            c = self.session.image_shape
            self.picture.caption.setText(f"{c[2]}×{c[1]}, {self.session.fit}" if c and self.session.picture is not None
                                         else "")

    def _on_state_changed(self, what: str) -> None:
        self._branch_button.setToolTip(self.state.branch_note or self._branch_tip)
        if what in ("trajectory", "stored", "step", "image", "busy", "model", "cleared"):
            self._draw()

    @Slot()
    def _draw(self, *_) -> None:
        state, session = self.state, self.session
        traj, image = state.trajectory, state.image
        views = (self.xt_view, self.x0_view)
        if not session.is_edit(traj) or (traj.done == 0 and not traj.finished):
            for view in views:
                view.set_image(None)
            self.timeline.slider.blockSignals(True)  # no steps of another picture's edit on the timeline
            self.timeline.slider.setRange(0, 0)
            self.timeline.slider.blockSignals(False)
            self.timeline.set_enabled(False)
            self.timeline.step_label.setText("")
            return
        if traj.done == 0:  # strength 0: nothing to denoise
            self.xt_view.set_image(None)
            self.x0_view.set_image(traj.final_frame(image), "strength 0: your picture, unchanged")
            return
        step = min(state.step, traj.done - 1)
        final = traj.finished and step == traj.n - 1
        result = traj.final_frame(image) if final else traj.frame(step, "x0", image)
        if session.edit_mask is not None and self.tint_box.isChecked():
            result = tint(result, session.edit_mask, traj.spec.batch)  # the known region stays as it is
        t = traj.timestep(step) + 1
        self.xt_view.set_image(traj.frame(step, "x_t", image), f"t = {t}")
        tinted = session.edit_mask is not None and self.tint_box.isChecked()
        self.x0_view.set_image(result, ("the result · tinted: regenerated" if tinted else "the result") if final
                               else "x̂₀ = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t")
        slider = self.timeline.slider
        slider.blockSignals(True)  # the state already knows: no echo back into it
        self.timeline.length = traj.n
        slider.setRange(0, max(0, state.announced - 1))
        slider.setValue(step)
        slider.blockSignals(False)
        self.timeline.set_enabled(True)
        self.timeline.step_label.setText(state.step_caption())

    @Slot(int)
    def _on_timeline_value_changed(self, value: int) -> None:
        self.state.set_step(value)
