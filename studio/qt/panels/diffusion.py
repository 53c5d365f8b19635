"""The Diffusion viewer page: step through a diffusion model's sampling.

Run streams every step (x_t, x̂₀, ε and a filmstrip); the timeline scrubs the stored frames (never recomputed);
Branch continues from the step on screen with another sampler / seed / η, beside the original; Compare samples one
seed with two samplers and times both; Forward process shows q(x_t | x_0) for a dataset image; Edit a picture runs
img2img, inpainting or a class swap on your picture (widgets/edit_page.py). What is shown lives in a Qt-free
``ViewerState`` (studio.engine.viewer); all background work (sampling, editing, loading, exports) runs through the
window's runner. This page lays out, draws the state and forwards user actions.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from ...engine.jobs import Outcome
from ...engine.sampling import SamplingJob, SamplingSpec, forward_for_image, open_model, run_images
from ...engine.viewer import ViewerState, sampling_job
from ..runner import JobHandle, Latest, runner
from ..widgets.cards import card, label, tab_buttons
from ..widgets.diffusion_pages import ForwardView, PairView, StepView
from ..widgets.diffusion_export import TrajectoryExport
from ..widgets.diffusion_settings import SamplingSettings, fill_images, has_eta
from ..widgets.edit_page import EditPage

PLAY_SECONDS = 6  # a whole trajectory plays in about this long, whatever its step count
STARTING = {"run": "Sampling…", "branch": "Branching…", "compare": "Sampling A, then B…", "edit": "Editing…"}
READY = ("Ready: press Run to watch the model turn noise into images, step by step.",  # per mode button
         "Ready: press Compare A with B to sample both settings from one seed, side by side.",
         "Ready: choose a dataset image and a step t to watch the forward process noise it.",
         "Ready: bring in a picture, then press ▶ Edit to noise it to t₀ and denoise it.")


class DiffusionPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = ViewerState()
        self.handle: JobHandle | None = None  # the running sampling job
        self._images = None  # the dataset, for the forward process
        self._opened_first = False
        self.top = top = SamplingSettings()
        self.picker, self.message, self.progress = top.picker, top.message, top.progress
        self.picker.run_chosen.connect(self._on_picker_run_chosen)
        self.picker.listed.connect(self._on_picker_listed)
        self._tasks = {}
        for name, slot in (("load", self._on_load_task_succeeded), ("data", self._on_data_task_succeeded),
                           ("forward", self._on_forward_task_succeeded)):
            self._tasks[name] = task = Latest(self, name)
            task.succeeded.connect(slot)
            task.failed.connect(self._on_task_failed)
        modes = QHBoxLayout()
        self.mode_buttons = tab_buttons(self, ("Step through", "Side by side", "Forward process", "Edit a picture"),
                                        modes, 130)
        self.mode_buttons.idClicked.connect(self._on_mode_buttons_id_clicked)
        modes.addStretch(1)
        self.show_combo = QComboBox(minimumWidth=130, toolTip="Show every image as a grid, or one image large")
        self.show_combo.currentIndexChanged.connect(self._on_show_combo_current_index_changed)
        self.show_label = label("Show", "muted")
        self.exports = TrajectoryExport(self, self.state, top.say)
        self.export_button, self._tasks["export"], self.export = self.exports.button, self.exports.task, self.exports.export
        for widget in (self.show_label, self.show_combo, self.export_button):
            modes.addWidget(widget)
        self.step_page = step_page = StepView(PLAY_SECONDS)
        self.timeline, self.slider = step_page.timeline, step_page.timeline.slider
        self.pair, self.forward, self.stack = PairView(), ForwardView(), QStackedWidget()
        self.edit = EditPage(self.state, top, step_page.branch_button, PLAY_SECONDS)
        self.edit.edit_dropped.connect(self.cancel)  # its picture was replaced
        for page in (step_page, self.pair, self.forward, self.edit):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 10)
        layout.setSpacing(10)
        layout.addWidget(card("", top, margins=12))
        layout.addLayout(modes)
        layout.addWidget(self.stack, 1)
        top.run_button.clicked.connect(self.run)
        top.cancel_button.clicked.connect(self.cancel)
        step_page.branch_sampler.currentIndexChanged.connect(self._on_sampler_current_index_changed)
        self.pair.sampler_b.currentIndexChanged.connect(self._on_sampler_current_index_changed)
        step_page.branch_button.clicked.connect(lambda: self.branch())  # not the "checked" flag as the step
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        step_page.filmstrip.frame_clicked.connect(self.slider.setValue)
        self.pair.compare_requested.connect(self.compare)
        self.forward.image_requested.connect(self._on_forward_image_requested)
        for key, slot in (("Left", self.timeline.step_back), ("Right", self.timeline.step_forward),
                          ("Space", self.timeline.toggle_play), ("Ctrl+Return", self.run),
                          ("Ctrl+Enter", self.run), ("Escape", self.cancel)):
            QShortcut(QKeySequence(key), self, context=Qt.WidgetWithChildrenShortcut).activated.connect(slot)
        self.state.connect(self._on_state_changed)
        self.mode_buttons.button(0).setChecked(True)
        self._sync()

    model = property(lambda self: self.state.model)
    trajectory = property(lambda self: self.state.trajectory)
    busy = property(lambda self: self.handle is not None)

    # --- opening a model ----------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self.picker.combo.count() == 0 and not self.picker.loading:
            self.picker.refresh()
        self.setFocus()  # Ctrl+Enter works at once after switching here from the sidebar

    def open_run(self, path: str) -> None:
        self.picker.select(path)

    @Slot(list)
    def _on_picker_listed(self, rows: list) -> None:
        """First launch: open the first usable run (the newest of yours, else a bundled demo)."""
        if not self._opened_first and rows and self.model is None and not self._tasks["load"].busy:
            self.picker.select(rows[0][0])

    @Slot(str)
    def _on_picker_run_chosen(self, path: str) -> None:
        self.cancel()  # a run of the model being left: cancelled, and its views cleared
        self._opened_first = True  # (the first launch's choice comes here too)
        self.state.set_model(None, {})
        self.top.say(f"Opening {Path(path).name}…")
        self._tasks["load"].submit(open_model, path)

    @Slot(object)
    def _on_load_task_succeeded(self, result) -> None:
        model, meta = result
        for widget in (self.top, self.step_page, self.pair, self.edit):
            widget.set_model(model, meta)
        self._images = None
        self.state.set_model(model, meta)
        self.top.say(READY[self.stack.currentIndex()])
        self._tasks["data"].submit(run_images, meta)

    @Slot(object)
    def _on_data_task_succeeded(self, images) -> None:
        self._images = images
        self.forward.set_dataset_size(len(images))
        self.edit.set_dataset(images)
        self._on_forward_image_requested(self.forward.index.value())

    @Slot(int)
    def _on_forward_image_requested(self, index: int) -> None:
        if self.model is not None and self._images is not None and index < len(self._images):
            self._tasks["forward"].submit(forward_for_image, self.model, self._images, index)

    @Slot(object)
    def _on_forward_task_succeeded(self, result) -> None:
        self.forward.set_process(*result)

    # --- running ------------------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Sample with the settings on screen (Run); on the Edit page, edit the picture."""
        if self.model is not None and not self.busy:
            model, spec, editing = self.model, self.top.spec(), self.stack.currentWidget() is self.edit
            jobs = self.edit.jobs(model, spec) if editing else None  # made here: a bad setting is said at once
            if jobs or not editing:
                self._start("edit" if editing else "run", lambda: jobs or [SamplingJob(model, spec)])

    @Slot()
    def branch(self, step: int | None = None) -> None:
        """Continue the current trajectory from ``step`` (default: the one on screen)."""
        traj = self.trajectory
        k, model = self.slider.value() if step is None else step, self.model
        if self.state.branch_refusal(k) or self.busy:
            return
        spec = SamplingSpec(sampler=self.step_page.branch_sampler.currentData(), steps=traj.n, eta=self.step_page.branch_eta.value(),
                            seed=self.step_page.branch_seed.value(), batch=traj.spec.batch, label=traj.spec.label,
                            guidance=traj.spec.guidance)
        self._start("branch", lambda: [self.edit.branch_job(model, spec, traj, k)])

    @Slot()
    def compare(self) -> None:
        """The Run settings (A) and the B settings of the Side-by-side page, same seed."""
        if self.model is not None and not self.busy:
            model, a = self.model, self.top.spec()
            b = replace(a, sampler=self.pair.sampler_b.currentData(), steps=self.pair.steps_b.value(),
                        eta=self.pair.eta_b.value())
            self._start("compare", lambda: [SamplingJob(model, a), SamplingJob(model, b)])

    @Slot()
    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def shutdown(self) -> None:
        """Stop sampling and wait for it (the page is going away)."""
        self.timeline.stop()
        if self.handle is not None:
            self.handle.cancel()
            self.handle.wait(5)

    def _start(self, mode: str, make_jobs) -> None:
        self.timeline.stop()
        self.state.begin(mode)
        self.handle = runner().start(sampling_job(make_jobs), "sampling")
        self.handle.partial_ready.connect(self._on_handle_partial_ready)
        self.handle.finished.connect(self._on_handle_finished)
        self.progress.setValue(0)
        self.top.say(STARTING[mode])
        if mode in ("branch", "compare"):
            self.mode_buttons.button(1).click()
        self._sync()

    @Slot(object)
    def _on_handle_partial_ready(self, report) -> None:
        index, traj = report
        if self.state.stale:  # a run of a model or picture no longer open
            return
        self.progress.setMaximum(traj.n - traj.branch_step)
        self.progress.setValue(traj.done - traj.branch_step)
        self.state.stored(index, traj)

    @Slot(object)
    def _on_handle_finished(self, outcome: Outcome) -> None:
        handle, self.handle = self.handle, None
        handle.deleteLater()
        for index, traj in enumerate(outcome.result or []):
            self.state.stored(index, traj)  # a job quicker than the report rate is seen whole here
        state = self.state
        state.end()
        if state.mode in ("branch", "compare"):
            for index, traj in enumerate(outcome.result or []):
                self.pair.set_time(index if state.mode == "compare" else 1, traj.seconds)
            self.pair.refresh()
        self.top.finished(state, outcome)
        self.step_page.show_state(state, "shown")
        self._sync()

    # --- drawing the state ----------------------------------------------------------------------
    def _on_state_changed(self, what: str) -> None:
        state = self.state
        if what == "trajectory":
            fill_images(self.show_combo, state.trajectory.spec.batch)
        elif what in ("pair", "image"):
            self.pair.image = state.image
            if what == "pair":
                self.pair.set_pair(state.pair[0], state.pair[1], *state.pair_titles)
            self.pair.refresh()
        self.step_page.show_state(state, what)
        self._sync() if what in ("model", "busy") else self._sync_buttons()

    # --- user actions ----------------------------------------------------------------------------
    @Slot(int)
    def _on_slider_value_changed(self, value: int) -> None:
        self.state.set_step(value)

    @Slot(int)
    def _on_show_combo_current_index_changed(self, index: int) -> None:
        self.state.set_image(self.show_combo.currentData() if self.show_combo.count() else None)

    @Slot(int)
    def _on_mode_buttons_id_clicked(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        if self.top.message.text() in READY:  # nothing else said yet: the mode's own
            self.top.say(READY[index])
        for widget in (self.show_label, self.show_combo, self.export_button):  # nothing to show on the forward page
            widget.setVisible(index != 2)

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self.top.say(message, "error")
        self._sync_buttons()

    def _sync(self) -> None:
        ready, busy = self.model is not None, self.busy
        self.top.set_busy(ready, busy)
        self.pair.compare_button.setEnabled(ready and not busy)
        self._on_sampler_current_index_changed()
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        traj = self.trajectory
        has = traj is not None and traj.done > 0
        self.step_page.branch_button.setEnabled(not self.state.branch_refusal(self.state.step) and not self.busy)
        self.exports.sync()
        self.timeline.set_enabled(has)
        if has:
            self.step_page.branch_button.setText(f"Branch from step {self.state.step + 1}")

    @Slot(int)
    def _on_sampler_current_index_changed(self, index: int = 0) -> None:
        page, pair, ready = self.step_page, self.pair, self.model is not None and not self.busy
        for combo, spin in ((page.branch_sampler, page.branch_eta), (pair.sampler_b, pair.eta_b)):
            spin.setEnabled(has_eta(combo.currentData()) and ready)
