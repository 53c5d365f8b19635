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
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QSplitter, QVBoxLayout, QWidget

from ...engine.jobs import Outcome
from ...imaging import display_pixels
from ...engine.reporting import Progress
from ...runs import default_runs_root
from ...specs import TrainSpec
from ...specs import new_run_dir as shared_run_dir
from ...train_words import CANCELLED_MESSAGE, idle_line
from .. import preload
from ..run_history import preview_note
from ..runner import JobHandle, runner
from ..widgets.cards import card
from ..widgets.export_config import add_export_button
from ..widgets.image_view import PreviewStrip
from ..widgets.learning_curves import LearningCurves
from ..widgets.resume_history import ResumeHistory
from ..widgets.train_controls import TrainControls
from ..widgets.train_status import TrainStatus
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
        self.threads: int | None = None  # None: adapted while training (engine.threads); bench ui fixes it
        self._failed = False

        self.setup = TrainSetup()
        self.export_button = add_export_button(self.setup, self.status_posted)  # Export run config…
        self.controls = TrainControls()
        self.words = TrainStatus(self.controls, self.status_posted.emit)  # the message line and the status bar
        self.curves = LearningCurves()  # its plot: a MetricsPlot once the core has loaded (pyqtgraph with it)
        self.previews = PreviewStrip("Samples from the model appear here while it learns.")
        self.resuming = ResumeHistory(self.setup, self.curves, self.previews, self)  # a resume shows it first
        self.resuming.ready.connect(self._on_resuming_ready)

        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.setup)
        scroll.setFixedWidth(372)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        views = QSplitter(Qt.Horizontal)
        views.addWidget(self.curves)
        views.addWidget(card("Samples", self.previews))
        views.setSizes([560, 560])
        # the controls span the page above the settings column: hiding the column on Start (or
        # Settings) never moves Start / Pause / Stop from under the mouse, and the headline has room
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(scroll)
        body.addWidget(views, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(12)
        layout.addWidget(card("", self.controls, margins=16))
        layout.addLayout(body, 1)
        self.splitter, self.setup_area = views, scroll

        self.controls.start_requested.connect(self.start)  # the buttons or their keys
        self.controls.pause_requested.connect(self.toggle_pause)
        self.controls.stop_requested.connect(self.stop)
        self.controls.settings_button.toggled.connect(self._on_settings_toggled)
        self.setup.changed.connect(self._on_setup_changed)
        self._set_state("idle")
        if not preload.loaded():  # not "Ready" yet; the message line says what a Start waits for
            self.controls.headline.setText("")
        preload.when_loaded(self._on_core_loaded)

    plot = property(lambda self: self.curves.plot)  # None while the core loads

    def _on_core_loaded(self) -> None:
        if self.state == "idle":
            self.controls.headline.setText("Ready")

    # --- state ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.handle is not None or self.resuming.pending or self.state == "preparing"

    def _set_state(self, state: str) -> None:
        self.state = state
        self.controls.set_state(state if state != "idle" or not self.setup.reason else "blocked")
        self.setup.setEnabled(state == "idle")
        if state == "idle":
            self._show_reason()

    def _show_reason(self) -> None:
        """Why Start is refused, what it would do (a warning: it works), what it waits for, or how
        to start; a failure's words stay until the setup changes."""
        line = idle_line(self.setup.reason, self.setup.warning, self.setup.pending, self.controls.message.text())
        if line and not self._failed:
            self.controls.set_message(*line)

    # --- actions ----------------------------------------------------------------------------
    @Slot()
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
        self.resuming.open(train_job(resume, self.threads), path)
        self._set_state("opening")
        self.controls.set_message(f"Opening {Path(path).name}…")
        return True

    @Slot()
    def toggle_pause(self) -> None:
        if self.state == "running":
            self.handle.control.pause()
            self._set_state("paused")
            self.controls.set_message("Pausing after this step…")
        elif self.state == "paused":
            self.handle.control.resume()
            self._set_state("running")
            self.controls.set_message("Training…")

    @Slot()
    def stop(self) -> None:
        if self.state == "preparing":  # a Start still waiting for PyTorch or the images
            self._set_state("idle")
            self.controls.set_message(CANCELLED_MESSAGE)
            return
        if self.handle is None:
            if self.resuming.pending:  # a resume still reading its history
                self.run_path = self.resuming.cancel()
                self._end("stopped")
            return
        self.handle.control.stop()
        self._set_state("stopping")
        self.words.stopping(self._announced)  # not announced: a cancelled start, no run folder written

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
        self.words.starting()
        self.controls.settings_button.setChecked(False)

    def _end(self, status: str) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.deleteLater()
        self.controls.settings_button.setChecked(True)
        self._set_state("idle")
        if status != "cancelled" or self._announced:  # a cancelled Start has no run to tell of
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
        if self.state == "stopping":  # "Stopping…" stays on show until the job has ended
            self.words.held = message
            return
        self._announce()
        self.words.say(message, show=not self._failed)

    @Slot(object)
    def _on_handle_finished(self, outcome: Outcome) -> None:
        status = outcome.status
        if status == "cancelled":  # stopped before the run folder was written (TrainJob.create)
            self.words.cancelled()
            self._end(status)
            return
        if self.words.held and status != "failed":  # the run folder exists: the line held tells of it
            self._announce()
        self._failed = status == "failed"  # (False since _launch) its words stay until the setup changes
        failure = self.setup.mark_field(outcome.field, outcome.error or "training failed") if self._failed else None
        self.words.ended(status, failure)  # and after a divergence the engine's advice, in the window's words
        self.plot.redraw()
        self._end(status)

    @Slot(object, str)
    def _on_resuming_ready(self, job, path: str) -> None:
        self._launch(job, path)  # the run's history is on show

    # --- the setup -----------------------------------------------------------------------------------
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
        self.curves.save_settings(settings)
        settings.setValue("train/splitter", self.splitter.saveState())

    def restore_settings(self, settings: QSettings) -> None:
        self.setup.restore_settings(settings)
        self.curves.restore_settings(settings)
        state = settings.value("train/splitter")
        if state is not None:
            self.splitter.restoreState(state)
