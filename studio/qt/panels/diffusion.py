"""The Diffusion viewer page: step through a diffusion model's sampling.

Run streams every step (x_t, x̂₀ and ε, large, plus a filmstrip); the timeline scrubs the
stored frames (never recomputed); Branch continues from the step on screen with another
sampler / seed / η and shows the branch beside the original; Compare samples one seed with
two samplers and times both; Forward process shows q(x_t | x_0) for a dataset image.
Sampling runs in a ``SamplingSession`` (QThread); models, datasets and exports load in
``BackgroundTask``s: the UI thread only turns uint8 frames into pictures.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout,
                               QMenu, QProgressBar, QPushButton, QSizePolicy, QSpinBox, QStackedWidget, QToolButton,
                               QVBoxLayout, QWidget)

from ...engine.sampling import (SamplingJob, SamplingSpec, export_step, export_trajectory, forward_for_image,
                                open_model, run_images, schedule_curves)
from ..tasks import BackgroundTask
from ..widgets.cards import card, label, set_role, tab_buttons
from ..widgets.diffusion_pages import ForwardView, PairView, StepView
from ..widgets.diffusion_views import boxed
from ..widgets.diffusion_worker import SamplingSession
from ..widgets.run_picker import RunPicker

PLAY_SECONDS = 6  # a whole trajectory plays in about this long, whatever its step count


class DiffusionPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = None
        self.meta: dict = {}
        self.trajectory = None  # the main run, shown on "Step through"
        self.session: SamplingSession | None = None
        self._mode = "run"  # what the running session makes: run | branch | compare
        self._follow = True  # the views follow the newest step while sampling
        self._images = None  # the dataset, for the forward process
        self._opened_first = False
        self._failed = False
        self._run_seconds = 0.0

        self.picker = RunPicker(lambda caps: caps.denoise_step)
        self.picker.run_chosen.connect(self._on_picker_run_chosen)
        self.picker.listed.connect(self._on_picker_listed)
        self.model_info = label("", "muted")
        self.model_info.setMinimumWidth(40)  # a long description is clipped, never widens the window
        self.model_info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._load_task = BackgroundTask(self)
        self._load_task.succeeded.connect(self._on_load_task_succeeded)
        self._load_task.failed.connect(self._on_task_failed)
        self._data_task = BackgroundTask(self)
        self._data_task.succeeded.connect(self._on_data_task_succeeded)
        self._data_task.failed.connect(self._on_task_failed)
        self._forward_task = BackgroundTask(self)
        self._forward_task.succeeded.connect(self._on_forward_task_succeeded)
        self._forward_task.failed.connect(self._on_task_failed)
        self._export_task = BackgroundTask(self)
        self._export_task.succeeded.connect(self._on_export_task_succeeded)
        self._export_task.failed.connect(self._on_task_failed)

        # --- settings and run ----------------------------------------------------------------
        self.sampler = QComboBox()
        self.sampler.currentIndexChanged.connect(self._on_sampler_current_index_changed)
        self.steps = QSpinBox(minimum=1, maximum=1000, value=50)
        self.eta = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, value=0.0, decimals=2)
        self.eta.setToolTip("η: 0 deterministic DDIM, 1 as much noise as DDPM")
        self.seed = QSpinBox(minimum=0, maximum=2 ** 31 - 1, value=0)
        self.batch = QSpinBox(minimum=1, maximum=16, value=16)
        self.batch.setToolTip("Images sampled together (1–16)")
        self.label_combo = QComboBox()
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5, value=2.0, decimals=1)
        self.guidance.setToolTip("Classifier-free guidance s: 0 unconditional, 1 conditional, >1 stronger")
        self.run_button = QPushButton("▶  Run")
        self.run_button.setProperty("primary", True)
        self.run_button.setToolTip("Sample with these settings, step by step (Ctrl+Enter)")
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop sampling; the steps so far stay viewable (Esc)")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(160)
        self.message = label("Choose a trained diffusion model.", "muted")
        self._class_widgets = []
        settings = QHBoxLayout()
        settings.setSpacing(8)
        for text, widget in (("Sampler", self.sampler), ("Steps", self.steps), ("η", self.eta), ("Seed", self.seed),
                             ("Images", self.batch), ("Class", self.label_combo), ("Guidance", self.guidance)):
            caption = label(text, "muted")
            settings.addWidget(caption)
            settings.addWidget(widget)
            if widget in (self.label_combo, self.guidance):  # shown for class-conditional models only
                self._class_widgets += [caption, widget]
                caption.hide()
                widget.hide()
        settings.addStretch(1)
        settings.addWidget(self.run_button)
        settings.addWidget(self.cancel_button)
        top = QHBoxLayout()
        top.addWidget(label("Model", "muted"))
        top.addWidget(self.picker, 2)
        top.addWidget(self.model_info, 1)
        top.addWidget(self.progress)
        top_box = QVBoxLayout()
        top_box.addLayout(top)
        top_box.addLayout(settings)
        top_box.addWidget(self.message)

        # --- mode switch and export ------------------------------------------------------------
        modes = QHBoxLayout()
        self.mode_buttons = tab_buttons(self, ("Step through", "Side by side", "Forward process"), modes, 130)
        self.mode_buttons.idClicked.connect(self._on_mode_buttons_id_clicked)
        modes.addStretch(1)
        self.show_combo = QComboBox()
        self.show_combo.setToolTip("Show every image as a grid, or one image large")
        self.show_combo.setMinimumWidth(130)
        self.show_combo.currentIndexChanged.connect(self._on_show_combo_current_index_changed)
        modes.addWidget(label("Show", "muted"))
        modes.addWidget(self.show_combo)
        self.export_button = QToolButton(text="Export")
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        for text, what in (("This step as PNG…", "step"), ("Whole trajectory as a grid (PNG)…", "grid"),
                           ("Denoising animation (GIF)…", "gif"), ("Denoising animation (MP4)…", "mp4")):
            menu.addAction(text).setData(what)
        menu.triggered.connect(self._on_export_menu_triggered)
        self.export_button.setMenu(menu)
        modes.addWidget(self.export_button)

        # --- step through ---------------------------------------------------------------------
        step_page = StepView(PLAY_SECONDS)
        self.xt_view, self.x0_view, self.eps_view = step_page.xt_view, step_page.x0_view, step_page.eps_view
        self.schedule, self.timeline, self.filmstrip = step_page.schedule, step_page.timeline, step_page.filmstrip
        self.branch_sampler, self.branch_seed = step_page.branch_sampler, step_page.branch_seed
        self.branch_eta, self.branch_button = step_page.branch_eta, step_page.branch_button
        self.slider, self.play_button = self.timeline.slider, self.timeline.play_button
        self.back_button, self.forward_button = self.timeline.back_button, self.timeline.forward_button
        self.step_label = self.timeline.step_label
        self.branch_sampler.currentIndexChanged.connect(self._on_sampler_current_index_changed)
        self.branch_button.clicked.connect(self._on_branch_button_clicked)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.filmstrip.frame_clicked.connect(self._on_filmstrip_frame_clicked)
        self.pair = PairView()
        self.pair.compare_requested.connect(self._on_pair_compare_requested)
        self.pair.sampler_b.currentIndexChanged.connect(self._on_sampler_current_index_changed)
        self.forward = ForwardView()
        self.forward.image_requested.connect(self._on_forward_image_requested)
        self.stack = QStackedWidget()
        for page in (step_page, self.pair, self.forward):
            self.stack.addWidget(page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 10)
        layout.setSpacing(10)
        layout.addWidget(card("", boxed(top_box), margins=12))
        layout.addLayout(modes)
        layout.addWidget(self.stack, 1)

        for key, slot in (("Left", self.timeline.step_back), ("Right", self.timeline.step_forward),
                          ("Space", self.timeline.toggle_play), ("Ctrl+Return", self._on_run_button_clicked),
                          ("Escape", self._on_cancel_button_clicked)):
            QShortcut(QKeySequence(key), self, context=Qt.WidgetWithChildrenShortcut).activated.connect(slot)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.mode_buttons.button(0).setChecked(True)
        self._sync()

    # --- opening a model ----------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self.picker.combo.count() == 0 and not self.picker.loading:
            self.picker.refresh()

    def open_run(self, path: str) -> None:
        self.picker.select(path)

    def open_example(self, path: str | None = None) -> bool:
        """Open ``path`` or the bundled DDPM demo (for screenshots); False if there is none."""
        from ...runs import demo_runs_root

        path = path or str(demo_runs_root() / "ddpm-fashion-mnist")
        if not Path(path, "run.json").is_file():
            return False
        self.open_run(path)
        return True

    def start_example(self) -> None:
        """DDIM, 50 steps, η = 1, 16 images: a run that reads well in a screenshot."""
        self.sampler.setCurrentIndex(self.sampler.findData("ddim"))
        self.steps.setValue(min(50, self.steps.maximum()))
        self.eta.setValue(1.0)
        self.batch.setValue(16)
        self.run()

    @Slot(list)
    def _on_picker_listed(self, rows: list) -> None:
        """First launch: open the first usable run (the newest of yours, else a bundled demo)."""
        if not self._opened_first and rows and self.model is None and not self._load_task.busy:
            self._opened_first = True
            self.picker.select(rows[0][0])

    @Slot(str)
    def _on_picker_run_chosen(self, path: str) -> None:
        if self.busy:
            self.cancel()
        self._opened_first = True
        self._say(f"Opening {Path(path).name}…")
        self._load_task.submit(open_model, path)

    @Slot(object)
    def _on_load_task_succeeded(self, result) -> None:
        from ...schedulers import SCHEDULERS

        self.model, self.meta = result
        model, cfg = self.model, self.model.config
        T = model.num_train_timesteps
        self.model_info.setText(f"{model.family} on {self.meta.get('data', '?')}  ·  trained {self.meta.get('step', 0):,}"
                                f" steps  ·  T = {T}, {cfg.schedule} β")
        for combo in (self.sampler, self.branch_sampler, self.pair.sampler_b):
            combo.blockSignals(True)
            combo.clear()
            for name in model.capabilities.samplers:
                combo.addItem(getattr(SCHEDULERS.get(name), "label", "") or name, name)
            combo.blockSignals(False)
        self.sampler.setCurrentIndex(max(0, self.sampler.findData(cfg.sampler)))
        self.pair.sampler_b.setCurrentIndex(max(0, self.pair.sampler_b.findData("dpmpp2m")))
        for spin in (self.steps, self.pair.steps_b):
            spin.setMaximum(T)
        self.steps.setValue(min(cfg.sample_steps, T))
        self.pair.steps_b.setValue(min(20, T))
        self.eta.setValue(cfg.eta)
        self.label_combo.clear()
        conditional = bool(getattr(model.capabilities, "class_conditional", False))
        if conditional:
            names = self.meta.get("label_names") or [str(i) for i in range(model.num_classes)]
            self.label_combo.addItem("One of each class", -1)
            for i, name in enumerate(names[:model.num_classes]):
                self.label_combo.addItem(name, i)
            self.label_combo.addItem("Unconditional", None)
            self.guidance.setValue(getattr(cfg, "guidance_scale", 2.0))  # the model's own default
        for widget in self._class_widgets:
            widget.setVisible(conditional)
        self.schedule.set_schedule(schedule_curves(model.noise_schedule))
        self._say("Ready: press Run to watch the model turn noise into images, step by step.")
        self._images = None
        self._data_task.submit(run_images, self.meta)
        self._sync()

    @Slot(object)
    def _on_data_task_succeeded(self, images) -> None:
        self._images = images
        self.forward.set_dataset_size(len(images))
        self._on_forward_image_requested(self.forward.index.value())

    @Slot(int)
    def _on_forward_image_requested(self, index: int) -> None:
        if self.model is not None and self._images is not None and index < len(self._images):
            self._forward_task.submit(forward_for_image, self.model, self._images, index)

    @Slot(object)
    def _on_forward_task_succeeded(self, result) -> None:
        self.forward.set_process(*result)

    # --- running ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.session is not None

    def spec(self) -> SamplingSpec:
        label_value = self.label_combo.currentData() if self.label_combo.count() else None
        return SamplingSpec(sampler=self.sampler.currentData() or "ddim", steps=self.steps.value(),
                            eta=self.eta.value(), seed=self.seed.value(), batch=self.batch.value(),
                            label=label_value, guidance=self.guidance.value())

    def run(self) -> None:
        """Sample with the settings on screen (Run)."""
        if self.model is None or self.busy:
            return
        model, spec = self.model, self.spec()
        self._start("run", lambda: [SamplingJob(model, spec)])

    def branch(self, step: int | None = None) -> None:
        """Continue the current trajectory from ``step`` (default: the one on screen)."""
        traj = self.trajectory
        if self.model is None or self.busy or traj is None or traj.done == 0:
            return
        k = self.slider.value() if step is None else step
        model = self.model
        spec = SamplingSpec(sampler=self.branch_sampler.currentData(), steps=traj.n, eta=self.branch_eta.value(),
                            seed=self.branch_seed.value(), batch=traj.spec.batch, label=traj.spec.label,
                            guidance=traj.spec.guidance)
        self._start("branch", lambda: [SamplingJob(model, spec, parent=traj, branch_step=k)])

    def compare(self) -> None:
        """The Run settings (A) and the B settings of the Side-by-side page, same seed."""
        if self.model is None or self.busy:
            return
        from dataclasses import replace

        model, a = self.model, self.spec()
        b = replace(a, sampler=self.pair.sampler_b.currentData(), steps=self.pair.steps_b.value(),
                    eta=self.pair.eta_b.value())
        self._start("compare", lambda: [SamplingJob(model, a), SamplingJob(model, b)])

    def cancel(self) -> None:
        if self.session is not None:
            self.session.cancel()

    def shutdown(self) -> None:
        """Stop sampling and wait for the thread (the window is closing)."""
        self.timeline.stop()
        if self.session is not None:
            self.session.cancel()
            self.session.wait()

    def _start(self, mode: str, make_jobs) -> None:
        self._mode = mode
        self.timeline.stop()
        self.session = SamplingSession(make_jobs, self)
        worker = self.session.worker
        worker.job_started.connect(self._on_worker_job_started)
        worker.progressed.connect(self._on_worker_progressed)
        worker.job_finished.connect(self._on_worker_job_finished)
        worker.errored.connect(self._on_worker_errored)
        worker.finished.connect(self._on_worker_finished)
        self._failed = False
        self.progress.setValue(0)
        self._say({"run": "Sampling…", "branch": "Branching…", "compare": "Sampling A, then B…"}[mode])
        if mode != "run":
            self.mode_buttons.button(1).setChecked(True)
            self.stack.setCurrentIndex(1)
        self.session.start()
        self._sync()

    @Slot(int, object)
    def _on_worker_job_started(self, index: int, traj) -> None:
        self.progress.setMaximum(traj.n - traj.branch_step)
        if self._mode == "run":
            self.trajectory = traj
            self._follow = True
            self.timeline.length = traj.n
            self.filmstrip.reset(self._thumbnail, lambda i: f"t={traj.timestep(i) + 1}")
            self.slider.setRange(0, 0)
            self.schedule.set_marks([t + 1 for t in traj.timesteps])
            self._fill_show_combo(traj.spec.batch)
        elif self._mode == "branch":
            self.pair.set_pair(traj.parent, traj, "Original", f"Branch from step {traj.branch_step + 1}")
        else:
            a = traj if index == 0 else self.pair.trajectories[0]
            self.pair.set_pair(a, traj if index == 1 else None, "A", "B")

    @Slot(int, int)
    def _on_worker_progressed(self, index: int, done: int) -> None:
        if self._mode == "run":
            traj = self.trajectory
            self.progress.setValue(done)
            self.filmstrip.set_count(done)
            self.slider.setRange(0, done - 1)
            if self._follow:
                self.slider.setValue(done - 1)
        else:
            traj = self.pair.trajectories[1 if self._mode == "branch" else index]
            self.progress.setValue(done - traj.branch_step)
            self.pair.refresh()

    @Slot(int, float)
    def _on_worker_job_finished(self, index: int, seconds: float) -> None:
        if self._mode == "compare":
            self.pair.set_time(index, seconds)
        elif self._mode == "branch":
            self.pair.set_time(1, seconds)
        self.pair.refresh()
        if self._mode == "run":
            self._show_step(self.slider.value())
            self._run_seconds = seconds

    @Slot(str)
    def _on_worker_errored(self, message: str) -> None:
        self._failed = True
        self._say(message, "error")

    @Slot(str)
    def _on_worker_finished(self, status: str) -> None:
        session, self.session = self.session, None
        session.wait()
        session.deleteLater()
        if not self._failed:
            word = {"finished": "Done", "cancelled": "Cancelled"}.get(status, status)
            extra = f" in {self._run_seconds:.1f} s" if self._mode == "run" and status == "finished" else ""
            self._say(f"{word}{extra}. Scrub the timeline (← →), play it (Space), branch from any step, or export.")
        self._sync()

    # --- the timeline ---------------------------------------------------------------------------
    def _thumbnail(self, i: int):
        image = self._image_index()
        return self.trajectory.frame(i, "x_t", 0 if image is None else image)

    def _image_index(self) -> int | None:
        return self.show_combo.currentData() if self.show_combo.count() else None

    def _fill_show_combo(self, batch: int) -> None:
        current = self.show_combo.currentData()
        self.show_combo.blockSignals(True)
        self.show_combo.clear()
        self.show_combo.addItem("All images", None)
        for i in range(batch):
            self.show_combo.addItem(f"Image {i + 1}", i)
        self.show_combo.setCurrentIndex(max(0, self.show_combo.findData(current)))
        self.show_combo.blockSignals(False)

    def _show_step(self, step: int) -> None:
        traj = self.trajectory
        if traj is None or not 0 <= step < traj.done:
            return
        image, t = self._image_index(), traj.timestep(step) + 1
        self.xt_view.set_image(traj.frame(step, "x_t", image), f"t = {t}")
        self.x0_view.set_image(traj.frame(step, "x0", image), "x̂₀ = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t")
        self.eps_view.set_image(traj.frame(step, "eps", image), "black −3σ · gray 0 · white +3σ")
        last = " (final)" if step == traj.n - 1 and traj.finished else ""
        self.step_label.setText(f"step {step + 1} / {traj.n}{last}  ·  t = {t}")
        self.filmstrip.set_current(step)
        self.schedule.set_cursor(t)

    @Slot(int)
    def _on_slider_value_changed(self, value: int) -> None:
        # follow the newest step while the slider is at the end of what has been announced
        # (not traj.done: the worker may already be further)
        self._follow = value >= self.slider.maximum()
        self._show_step(value)
        self._sync_buttons()

    @Slot(int)
    def _on_filmstrip_frame_clicked(self, index: int) -> None:
        self.slider.setValue(index)

    @Slot(int)
    def _on_show_combo_current_index_changed(self, index: int) -> None:
        self.pair.image = self._image_index()
        if self.trajectory is not None:
            self.filmstrip.reset(self._thumbnail, self.filmstrip._labels)
            self.filmstrip.set_count(self.trajectory.done)
            self._show_step(self.slider.value())
        self.pair.refresh()

    @Slot(int)
    def _on_mode_buttons_id_clicked(self, index: int) -> None:
        self.stack.setCurrentIndex(index)

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.run()

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel()

    @Slot()
    def _on_branch_button_clicked(self) -> None:
        self.branch()

    @Slot()
    def _on_pair_compare_requested(self) -> None:
        self.compare()

    # --- export ---------------------------------------------------------------------------------
    @Slot(object)
    def _on_export_menu_triggered(self, action) -> None:
        what, traj = action.data(), self.trajectory
        if traj is None or traj.done == 0:
            return
        step = self.slider.value()
        names = {"step": (f"diffusion-step-{step + 1}.png", "PNG image (*.png)"),
                 "grid": ("diffusion-trajectory.png", "PNG image (*.png)"),
                 "gif": ("diffusion.gif", "GIF animation (*.gif)"), "mp4": ("diffusion.mp4", "MP4 video (*.mp4)")}
        name, kinds = names[what]
        path, _ = QFileDialog.getSaveFileName(self, "Export", name, kinds)
        if path:
            self.export(what, path)

    def export(self, what: str, path: str) -> None:
        traj, image, step = self.trajectory, self._image_index(), self.slider.value()
        if what == "step":
            self._export_task.submit(export_step, traj, step, path, image)
        else:
            self._export_task.submit(export_trajectory, traj, path, "x_t", image)

    @Slot(object)
    def _on_export_task_succeeded(self, path) -> None:
        self._say(f"Saved {path}")

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self._say(message, "error")

    # --- state ----------------------------------------------------------------------------------
    def _say(self, text: str, role: str = "muted") -> None:
        self.message.setText(text)
        set_role(self.message, role)

    def _sync(self) -> None:
        ready, busy = self.model is not None, self.busy
        self.run_button.setEnabled(ready and not busy)
        self.cancel_button.setEnabled(busy)
        self.pair.compare_button.setEnabled(ready and not busy)
        for widget in (self.sampler, self.steps, self.seed, self.batch, self.label_combo, self.guidance):
            widget.setEnabled(ready and not busy)
        self._update_eta()
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        traj = self.trajectory
        has = traj is not None and traj.done > 0
        self.branch_button.setEnabled(has and not self.busy and self.model is not None)
        self.export_button.setEnabled(has)
        self.timeline.set_enabled(has)
        if has:
            self.branch_button.setText(f"Branch from step {self.slider.value() + 1}")

    @Slot(int)
    def _on_sampler_current_index_changed(self, index: int) -> None:
        self._update_eta()

    def _update_eta(self) -> None:
        from ...schedulers import SCHEDULERS

        for combo, spin in ((self.sampler, self.eta), (self.branch_sampler, self.branch_eta),
                            (self.pair.sampler_b, self.pair.eta_b)):
            cls = SCHEDULERS.get(combo.currentData())
            spin.setEnabled(bool(getattr(cls, "has_eta", False)) and self.model is not None and not self.busy)
