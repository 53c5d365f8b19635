"""The Train page: set up a run on the left, watch it learn on the right.

The training job runs through the window's runner (``studio.qt.runner``); its handle's
signals arrive here, in ``@Slot`` methods on the GUI thread, and each does a few cheap widget
updates.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from ...engine.jobs import Outcome
from ...imaging import display_pixels
from ...engine.reporting import Progress
from ...runs import default_runs_root
from ...specs import TrainSpec
from ...specs import new_run_dir as shared_run_dir
from .. import preload
from ..run_history import RunHistory, preview_note, read_run_history
from ..runner import JobHandle, Latest, runner
from ..widgets.cards import card
from ..widgets.export_config import add_export_button
from ..widgets.image_view import PreviewStrip
from ..widgets.train_controls import TrainControls
from .train_setup import TrainSetup


REPORT_HZ = 10  # the training job's progress and metrics deliveries per second (the runner's limit)


def new_run_dir(spec: TrainSpec) -> Path:
    """RUNS_ROOT/<family>-<data>-<date-time>, never an existing folder: the CLI's rule."""
    return shared_run_dir(default_runs_root(), spec.family, spec.data)


class TrainPanel(QWidget):
    run_started = Signal(str)  # run folder
    run_ended = Signal(str, str)  # run folder, final status
    status_posted = Signal(str)  # a line for the status bar

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.handle: JobHandle | None = None  # the running job
        self.run_path = ""  # its run folder
        self._resume_job = None  # a resume waits for its history to be read first
        self.threads: int | None = None  # None: adapted while training (engine.threads); bench ui fixes it
        self._history_task = Latest(self, "run-history")
        self._history_task.succeeded.connect(self._on_history_task_succeeded)
        self._history_task.failed.connect(self._on_history_task_failed)
        self._failed = False

        self.setup = TrainSetup()
        self.export_button = add_export_button(self.setup, self.status_posted)  # Export run config…
        self.controls = TrainControls()
        self.plot = None  # a MetricsPlot once the core has loaded (pyqtgraph is imported with it, off this thread)
        self._plot_holder = QLabel("Loading…", alignment=Qt.AlignCenter)
        self._plot_holder.setProperty("role", "muted")
        self._plot_holder.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)  # the plot's place
        self._plot_options: tuple | None = None  # restored before the plot existed
        self.previews = PreviewStrip("Samples from the model appear here while it learns.")

        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.setup)
        scroll.setFixedWidth(372)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        views = QSplitter(Qt.Horizontal)
        self._plot_card = card("Learning curves", self._plot_holder)
        views.addWidget(self._plot_card)
        views.addWidget(card("Samples", self.previews))
        views.setSizes([560, 560])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(12)
        right_layout.addWidget(card("", self.controls, margins=16))
        right_layout.addWidget(views, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(16)
        layout.addWidget(scroll)
        layout.addWidget(right, 1)
        self.splitter, self.setup_area = views, scroll

        self.controls.start_button.clicked.connect(self._on_start_clicked)
        self.controls.pause_button.clicked.connect(self._on_pause_clicked)
        self.controls.stop_button.clicked.connect(self._on_stop_clicked)
        self.controls.settings_button.toggled.connect(self._on_settings_toggled)
        self.setup.changed.connect(self._on_setup_changed)
        self._shortcuts = {}
        for keys, slot in ((("Ctrl+Return", "Ctrl+Enter"), self._on_start_clicked),
                           (("Space",), self._on_pause_clicked), (("Esc", "Ctrl+."), self._on_stop_clicked)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self, context=Qt.WindowShortcut)
                shortcut.activated.connect(slot)
                self._shortcuts[key] = shortcut
        self._set_state("idle")
        if not preload.loaded():  # not "Ready" yet; the message line says what a Start waits for
            self.controls.headline.setText("")
        preload.when_loaded(self._on_core_loaded)

    def _on_core_loaded(self) -> None:
        from ..widgets.metrics_plot import MetricsPlot

        self.plot = MetricsPlot()
        self._plot_card.layout().replaceWidget(self._plot_holder, self.plot)
        self._plot_holder.deleteLater()
        if self._plot_options is not None:
            self.plot.set_options(*self._plot_options)
        if self.state == "idle":
            self.controls.headline.setText("Ready")

    # --- state ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.handle is not None or self._resume_job is not None or self.state == "preparing"

    def _set_state(self, state: str) -> None:
        self.state = state
        self.controls.set_state(state if state != "idle" or not self.setup.reason else "blocked")
        self.setup.setEnabled(state == "idle")
        for key in ("Space", "Esc", "Ctrl+."):
            self._shortcuts[key].setEnabled(state in ("running", "paused") or key != "Space" and state == "preparing")
        if state == "idle":
            self._show_reason()

    def _show_reason(self) -> None:
        reason = self.setup.reason
        if reason and not self._failed:
            self.controls.set_message(reason, "warning")
        elif self.setup.pending and not self._failed:
            self.controls.set_message(f"{self.setup.pending} Start now, and the run begins once that is done.")
        elif not self._failed and not self.controls.message.text():
            self.controls.set_message("Ready. Press Start (Ctrl+Enter) to train a new run.")

    # --- actions ----------------------------------------------------------------------------
    def start(self) -> bool:
        """Start a new run from the form; False when Start is not possible now. While PyTorch or
        the dataset's summary is still loading (``setup.pending``) the run waits for them
        ("Preparing…"; Stop cancels), and begins then if the form is still valid: the UI thread
        never waits for an import that the preload job holds."""
        if self.busy or self.setup.validate():
            return False
        if self.setup.pending:
            self._set_state("preparing")
            self.controls.set_message(f"{self.setup.pending} The run begins once that is done.")
            return True
        from ...engine.trainer import TrainJob, train_job

        spec = self.setup.spec()
        path = new_run_dir(spec)
        self.plot.clear()
        self.previews.clear()
        self.previews.set_note(preview_note(spec.family))
        self._launch(train_job(functools.partial(TrainJob.create, spec, path, command=["studio", "(window)"]),
                               self.threads), str(path))
        return True

    def resume_run(self, path: str, extra_steps: int, lr: float | None = None) -> bool:
        """Continue a run for ``extra_steps`` more steps, its history shown first; ``lr``: a new
        learning rate from here on (None: the run's own), recorded in run.json as `studio resume
        --lr` does."""
        from ...engine.trainer import TrainJob, train_job

        if self.busy:
            return False
        resume = functools.partial(TrainJob.resume, path, extra_steps, overrides={"lr": lr})
        self._resume_job = (train_job(resume, self.threads), path)
        self._set_state("opening")
        self.controls.set_message(f"Opening {Path(path).name}…")
        self._history_task.submit(functools.partial(read_run_history, up_to_checkpoint=True), path)
        return True

    def toggle_pause(self) -> None:
        if self.state == "running":
            self.handle.control.pause()
            self._set_state("paused")
            self.controls.set_message("Pausing after this step…")
        elif self.state == "paused":
            self.handle.control.resume()
            self._set_state("running")
            self.controls.set_message("Training…")

    def stop(self) -> None:
        if self.state == "preparing":  # a Start still waiting for PyTorch or the images
            self._set_state("idle")
            self.controls.set_message("Start cancelled.")
            return
        if self.handle is None:
            if self._resume_job is not None:  # a resume still reading its history
                self._history_task.cancel()
                self.run_path = self._resume_job[1]
                self._resume_job = None
                self._end("stopped")
            return
        self.handle.control.stop()
        self._set_state("stopping")
        self.controls.set_message("Stopping after this step and saving a checkpoint…")

    def _launch(self, job, path: str) -> None:
        self._failed = False
        self.run_path = path
        # 10 deliveries a second are plenty for labels paced at 5 Hz and curves drawn at 4 Hz;
        # previews are made display-ready in the job's thread
        self.handle = handle = runner().start(job, "training", self.threads, interval_s=1 / REPORT_HZ,
                                              prepare=display_pixels)
        handle.progressed.connect(self._on_handle_progressed)
        handle.metrics_reported.connect(self._on_handle_metrics_reported)
        handle.preview_ready.connect(self._on_handle_preview_ready)
        handle.status_changed.connect(self._on_handle_status_changed)
        handle.finished.connect(self._on_handle_finished)
        self._announced = False
        self._set_state("running")
        self.controls.set_message("Preparing the images and the model…")
        self.controls.headline.setText("Starting…")
        self.controls.detail.setText("")
        self.controls.bar.setValue(0)
        self.controls.last = None
        self.controls.settings_button.setChecked(False)

    def _end(self, status: str) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.deleteLater()
        self.controls.settings_button.setChecked(True)
        self._set_state("idle")
        self.run_ended.emit(self.run_path, status)

    # --- job signals (GUI thread) ------------------------------------------------------------------
    def _announce(self) -> None:
        """The run folder exists once the job reports anything: tell the window, once."""
        if not self._announced:
            self._announced = True
            self.run_started.emit(self.run_path)

    @Slot(object)
    def _on_handle_progressed(self, progress: Progress) -> None:
        self._announce()
        self.controls.show_progress(progress)
        self.plot.last_step = progress.total

    @Slot(list)
    def _on_handle_metrics_reported(self, records: list) -> None:
        self.plot.add_records(records)

    @Slot(int, object)
    def _on_handle_preview_ready(self, step: int, grid: np.ndarray) -> None:
        self.previews.add(step, grid)

    @Slot(str)
    def _on_handle_status_changed(self, message: str) -> None:
        self._announce()
        if not self._failed:
            self.controls.set_message(message[:1].upper() + message[1:])
        self.status_posted.emit(message)

    @Slot(object)
    def _on_handle_finished(self, outcome: Outcome) -> None:
        status = outcome.status
        if status == "failed":
            self._failed = True
            message = self.setup.mark_field(outcome.field, outcome.error or "training failed")
            self.controls.set_message(message[:1].upper() + message[1:], "error")
            self.status_posted.emit(message)
        self.controls.show_outcome(status)
        if status == "diverged":  # the engine's last status line says what to do, in the window's words
            from ..widgets.run_resume import window_advice

            advice = window_advice(self.controls.message.text(), " on the Runs page")
            self.controls.set_message(advice, "warning")
            self.status_posted.emit(advice)
        self.plot.redraw()
        self._end(status)

    # --- history for a resume ----------------------------------------------------------------------
    @Slot(object)
    def _on_history_task_succeeded(self, history: RunHistory) -> None:
        self.setup.show_spec(history.run.meta.get("spec", {}) | {"family": history.run.family})
        self.plot.set_history(history.columns)  # made with the history, off this thread
        self.previews.set_history(history.previews)
        self.previews.set_note(preview_note(history.run.family))
        self._launch_resume()

    @Slot(str)
    def _on_history_task_failed(self, message: str) -> None:
        self.plot.clear()
        self.previews.clear()
        self._launch_resume()

    def _launch_resume(self) -> None:
        if self._resume_job is not None:
            (job, path), self._resume_job = self._resume_job, None
            self._launch(job, path)

    # --- buttons and shortcuts ------------------------------------------------------------------------
    @Slot()
    def _on_start_clicked(self) -> None:
        if self.isVisible() or self.sender() is self.controls.start_button:
            self.start()

    @Slot()
    def _on_pause_clicked(self) -> None:
        self.toggle_pause()

    @Slot()
    def _on_stop_clicked(self) -> None:
        self.stop()

    @Slot(bool)
    def _on_settings_toggled(self, shown: bool) -> None:
        self.setup_area.setVisible(shown)

    @Slot()
    def _on_setup_changed(self) -> None:
        if self.state == "preparing" and not self.setup.pending:  # what the Start waited for is in
            self._set_state("idle")
            if self.setup.reason:  # e.g. the images can't be used: said, and nothing starts
                self.controls.set_message(self.setup.reason, "warning")
            else:
                self.start()
            return
        if self.state == "idle":
            self._failed = False
            self.controls.set_message("")
            self._set_state("idle")

    # --- settings ---------------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        self.setup.save_settings(settings)
        if self.plot is not None:  # else closed before torch had loaded: the saved options stay
            smoothing, log_y, wall_time = self.plot.options()
            settings.setValue("plot/smoothing", smoothing)
            settings.setValue("plot/log_y", log_y)
            settings.setValue("plot/wall_time", wall_time)
        settings.setValue("train/splitter", self.splitter.saveState())

    def restore_settings(self, settings: QSettings) -> None:
        self.setup.restore_settings(settings)
        self._plot_options = (float(settings.value("plot/smoothing", 0.6)),
                              settings.value("plot/log_y", False, type=bool),
                              settings.value("plot/wall_time", False, type=bool))
        if self.plot is not None:
            self.plot.set_options(*self._plot_options)
        state = settings.value("train/splitter")
        if state is not None:
            self.splitter.restoreState(state)
