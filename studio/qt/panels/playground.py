"""The Playground page: every family learning a 2-D point set you pick or draw, live.

The state (data, family, options, speed, view slider, the family compared) is a Qt-free
``PlaygroundState``; the training is a ``PlaygroundJob`` (or, comparing two families, one
``PlaygroundPair``) on the shared runner at one torch thread. This panel lays out the widgets,
forwards the user's actions and hands the frames the job reports to a ``FrameDrawer``, which
draws only the newest, at most 30 a second, one plot per event-loop turn (a UI thread that
falls behind skips frames instead of queueing them), and to the recorder Export GIF draws from."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from ...errors import SpecError
from ...playground import PlaygroundJob
from ...playground.restarts import COMPARE, LESSON, Restarts, compare_change, family_change
from ...playground.compare import PlaygroundPair
from ...playground.recording import FrameRecorder
from ...playground.state import MIN_TRAIN_POINTS, PlaygroundState
from ..runner import JobHandle, runner
from ..widgets.playground_controls import PlaygroundControls
from ..widgets.playground_export import GifExport, export_png
from ..widgets.cards import ElidedLabel
from ..widgets.playground_toolbar import PlaygroundToolbar
from ..widgets.playground_views import PlaygroundViews

JOB_REST_S = 0.008  # the job rests this long after each frame while the UI draws it


class PlaygroundPanel(QWidget):
    frame_drawn = Signal(int)  # the step of the frame just drawn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = PlaygroundState()
        self.job: PlaygroundJob | None = None
        self.handle: JobHandle | None = None
        self.recorder = FrameRecorder()
        self.restarts = Restarts()  # why a change that needs a new model ended the run (``_drop_run``)
        self._shown = (self.state.family, dict(self.state.options))  # the first view's family and options
        self._paused_hidden: PlaygroundJob | None = None  # the run the page paused when it was hidden

        self.controls = PlaygroundControls(self.state)
        scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.NoFrame)
        scroll.setWidget(self.controls)
        scroll.setFixedWidth(310)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        self.toolbar = PlaygroundToolbar(self.state.speed)
        bar = self.toolbar
        self.play, self.step_button, self.reset, self.speed, self.speed_label, self.compare, self.export, \
            self.export_gif = (bar.play, bar.step_button, bar.reset, bar.speed, bar.speed_label, bar.compare,
                               bar.export, bar.export_gif)

        self.views = PlaygroundViews()  # what Export PNG saves
        self.pane, self.pane_b, self.panes, self.drawer = (self.views.pane, self.views.pane_b, self.views.panes,
                                                           self.views.drawer)
        self.message = ElidedLabel(role="muted")  # one line: a long one elides, the tooltip says it all
        self.message.setObjectName("muted")
        page = QVBoxLayout()
        page.addWidget(self.toolbar)
        page.addWidget(self.views, 1)
        page.addWidget(self.message)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 6)
        outer.addWidget(scroll)
        outer.addLayout(page, 1)
        self.gif = GifExport(self)
        self.drawer.drawn.connect(self.frame_drawn)
        self.drawer.drawn.connect(self._on_drawer_drawn)

        self.play.clicked.connect(self._on_play_clicked)
        self.step_button.clicked.connect(self._on_step_button_clicked)
        self.reset.clicked.connect(self._on_reset_clicked)
        self.speed.valueChanged.connect(self._on_speed_value_changed)
        self.compare.toggled.connect(self._on_compare_toggled)
        self.export.clicked.connect(self._on_export_clicked)
        self.export_gif.clicked.connect(self._on_export_gif_clicked)
        self.gif.said.connect(self.message.setText)
        self.pane.setting_changed.connect(self._on_pane_setting_changed)
        self.pane_b.setting_changed.connect(self._on_pane_b_setting_changed)
        self.pane.family_picked.connect(self._on_pane_family_picked)
        self.pane_b.family_picked.connect(self._on_pane_b_family_picked)
        self.pane.main.stroke.connect(self._on_main_stroke)
        self.controls.tool_changed.connect(self._on_controls_tool_changed)
        self.controls.options_edited.connect(self._on_controls_options_edited)
        for name, slot in (("data", self._on_state_data), ("family", self._on_state_family),
                           ("compare", self._on_state_compare), ("speed", self._on_state_speed),
                           ("lesson", self._on_state_lesson)):
            self.state.events.connect(name, slot)
        self._on_state_family(self.state.family)
        self._on_state_speed(self.state.speed)

    # --- running ------------------------------------------------------------------------
    frames_drawn = property(lambda self: self.drawer.frames_drawn)

    @property
    def running(self) -> bool:
        return self.handle is not None and self.handle.running

    def start(self, paused: bool = False) -> bool:
        try:
            other = self.state.compare_spec()
            spec = replace(self.state.spec(), rest_s=JOB_REST_S)
            self.job = PlaygroundJob(spec) if other is None else PlaygroundPair(spec, other)
        except SpecError as exc:
            self.message.setText(exc.worded({"data": "The data"}))
            return False
        if paused:
            self.job.pause()
        for lane, pane in enumerate(self.panes[:2 if other else 1]):
            value = pane.setting_value(pane.setting.value())
            if value is not None:
                self.job.set_setting(value, *((lane,) if other else ()))
        self.message.setText("")
        self.recorder.clear()
        self.handle = runner().start(self.job, name="playground", threads=1)
        self.handle.preview_ready.connect(self._on_handle_preview_ready)
        self.handle.metrics_reported.connect(self._on_handle_metrics_reported)
        self.handle.finished.connect(self._on_handle_finished)
        return True

    def stop(self) -> None:
        """End the current run (its model is dropped): the next Play starts afresh."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle.muted = True
        self.handle = self.job = None
        self.views.reset()
        self.recorder.clear()  # Export GIF must not show the run just dropped
        self._show_play(False)
        self._draw_data()

    def _drop_run(self, why: str, rank: int) -> None:
        """A change that needs a new model ends the run; ``studio.playground.restarts`` says why,
        once per user action, and a run that was playing restarts with the new model at once."""
        job = self.job
        if job is not None and self.restarts.ended(job.step, self.running and not job.paused):
            QTimer.singleShot(0, self, self._after_drop)
        self.restarts.because(why, rank)
        self.stop()

    @Slot()
    def _after_drop(self) -> None:
        dropped = self.restarts.take()
        if dropped is None or self.job is not None:  # a run started meanwhile (Play in the same turn) stays
            return
        if dropped.playing:
            if not self.start():
                return  # start() has said why
            self._show_play(True)
        error = self.message.text()  # the new options' error, if any
        text = dropped.notice(restarted=dropped.playing)
        self.message.setText(f"{error}  ({text})" if error else text)

    @Slot()
    def _on_reset_clicked(self) -> None:
        self.restarts.take()  # a restart a change had asked for is off too
        self.message.setText("")
        self.stop()

    def _show_play(self, playing: bool) -> None:
        self.toolbar.show_playing(playing)

    @Slot()
    def _on_play_clicked(self) -> None:
        if self.job is None or not self.running:
            self._show_play(self.start())
        elif self.job.paused:
            self.job.resume()
            self._show_play(True)
        else:
            self.job.pause()
            self._show_play(False)

    @Slot()
    def _on_step_button_clicked(self) -> None:
        if self.job is None or not self.running:
            if not self.start(paused=True):
                return
        self.job.pause()
        self._show_play(False)
        self.job.step_once(self.state.speed)


    @Slot(int, object)
    def _on_handle_preview_ready(self, _step: int, frame) -> None:
        self.recorder.offer(frame)
        self.drawer.offer(frame)

    @Slot(int)
    def _on_drawer_drawn(self, step: int) -> None:
        if self.job is not None:
            self.job.drawn(step)  # the job's rest after the frame ends: the UI has done its part

    @Slot(list)
    def _on_handle_metrics_reported(self, records: list) -> None:
        self.views.add_losses(records, isinstance(self.job, PlaygroundPair))

    @Slot(object)
    def _on_handle_finished(self, outcome) -> None:
        if outcome.status == "failed":
            self.message.setText(outcome.error)
        self._show_play(False)

    # --- settings -----------------------------------------------------------------------
    @Slot(int)
    def _on_speed_value_changed(self, value: int) -> None:
        self.state.set_speed(value)

    def _on_state_speed(self, speed: int) -> None:
        with QSignalBlocker(self.speed):
            self.speed.setValue(speed)
        self.toolbar.show_speed(speed)
        if self.job is not None:
            self.job.set_speed(speed)

    @Slot(float)
    def _on_pane_setting_changed(self, value: float) -> None:
        self.state.set_setting(value)
        if self.job is not None:
            self.job.set_setting(value)

    @Slot(float)
    def _on_pane_b_setting_changed(self, value: float) -> None:
        if isinstance(self.job, PlaygroundPair):
            self.job.set_setting(value, lane=1)

    def _on_state_family(self, family: str) -> None:
        options = dict(self.state.options)
        why, rank = family_change(self._shown, family, options)
        self._shown = (family, options)
        self._drop_run(why, rank)
        self.message.setText(self.pane.configure(family, options))

    def _on_state_lesson(self, lesson) -> None:
        self.restarts.because(f"Lesson “{lesson.title}”", LESSON)

    def _on_state_compare(self, family: str | None) -> None:
        on = family is not None
        self._drop_run(compare_change(self.state.family, self.state.options, family, self.state.compare_options),
                       COMPARE)
        self.message.setText(self.views.show_compare(family, self.state.compare_options))
        self.toolbar.show_compare(on)

    @Slot(bool)
    def _on_compare_toggled(self, on: bool) -> None:
        if on != (self.state.compare is not None):
            self.state.set_compare(*(self.state.default_compare() if on else (None,)))

    @Slot(str)
    def _on_pane_family_picked(self, family: str) -> None:
        self.state.set_family(family, {})

    @Slot(str)
    def _on_pane_b_family_picked(self, family: str) -> None:
        self.state.set_compare(family, chosen=True)

    @Slot(str, object)
    def _on_controls_options_edited(self, name: str, value) -> None:
        if self.job is not None:
            try:
                self.job.set_live_option(name, value)
            except SpecError as exc:
                self.message.setText(str(exc))

    # --- data and drawing ---------------------------------------------------------------
    def _on_state_data(self, points) -> None:
        """New data feeds the running model; too few points to train (Clear, the eraser) end the
        run at once, and Play and Step wait until there are enough."""
        trainable = self.state.trainable
        why = f"draw at least {MIN_TRAIN_POINTS} points, or pick a data set"
        self.toolbar.allow_training(trainable, why)
        if self.job is not None and trainable:
            self.job.set_data(points)
        elif self.job is not None:
            step = self.job.step
            self.restarts.take()  # nothing to restart on
            self.stop()
            self.message.setText(f"Training stopped at step {step:,}: the data has {len(points)} points — {why}")
        self._draw_data()

    def _draw_data(self) -> None:
        if self.job is None or not self.running:  # while training, the frames carry the data
            self.views.show_data(self.state.points)

    @Slot(str)
    def _on_controls_tool_changed(self, tool: str) -> None:
        self.pane.main.tool = tool or None

    @Slot(float, float, bool)
    def _on_main_stroke(self, x: float, y: float, erase: bool) -> None:
        (self.state.erase if erase else self.state.brush)(x, y)

    # --- export -------------------------------------------------------------------------
    def _name(self) -> str:
        return "-vs-".join(filter(None, (self.state.family, self.state.compare)))

    @Slot()
    def _on_export_clicked(self) -> None:
        self.message.setText(export_png(self, self.views, f"playground-{self._name()}.png"))

    @Slot()
    def _on_export_gif_clicked(self) -> None:
        self.gif.ask_and_save(self.recorder.frames, self.panes, f"playground-{self._name()}.gif")

    # --- a page nobody sees ---------------------------------------------------------------
    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Another page (or a minimised window): nobody watches, so the run pauses instead of
        taking a core from, say, a training on the Train page; it resumes when the page is back."""
        super().hideEvent(event)
        if self.running and not self.job.paused:
            self.job.pause()
            self._paused_hidden = self.job
            self.drawer.clear()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        job, self._paused_hidden = self._paused_hidden, None
        if job is not None and job is self.job and self.running and job.paused:
            job.resume()

    def shutdown(self) -> None:
        self.gif.cancel()
        if self.handle is not None:
            self.handle.cancel()

