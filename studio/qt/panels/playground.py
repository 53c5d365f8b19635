"""The Playground page: every family learning a 2-D point set you pick or draw, live.

The state (data, family, options, speed, view slider, the family compared) is a Qt-free
``PlaygroundState``; the training is a ``PlaygroundJob`` (or, comparing two families, one
``PlaygroundPair``) on the shared runner at one torch thread, held by a ``PlaygroundRun`` (start,
stop, pause, step, the recorder Export GIF draws from, a model kept across Compare). It lays out
the left column (``PlaygroundControls``), the top row (``PlaygroundToolbar``) and the views
(``PlaygroundViews``, whose ``FrameDrawer`` draws only the newest frame, at most 30 a second, one
plot per event-loop turn), forwards the user's actions, and says in its status line why a change
dropped the run (``studio.playground.restarts``)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from ...errors import SpecError
from ...playground import PlaygroundJob
from ...playground.restarts import COMPARE, LESSON, Dropped, Restarts, compare_change, family_change
from ...playground.compare import PlaygroundPair
from ...playground.state import MIN_TRAIN_POINTS, PlaygroundState
from ..widgets.playground_controls import PlaygroundControls
from ..widgets.playground_export import GifExport, StatusLine, export_png
from ..widgets.playground_toolbar import PlaygroundToolbar
from ..widgets.playground_run import PlaygroundRun, carried_notice
from ..widgets.playground_views import PlaygroundViews

JOB_REST_S = 0.008  # the job rests this long after each frame while the UI draws it


class PlaygroundPanel(QWidget):
    frame_drawn = Signal(int)  # the step of the frame just drawn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = PlaygroundState()
        self.run = PlaygroundRun(self)
        self.restarts = Restarts()  # why a change that needs a new model ended the run (``_drop_run``)
        self._shown = (self.state.family, dict(self.state.options))  # the first view's family and options

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
        self.message = StatusLine()  # one line: a long one elides, the tooltip says it all; errors in red
        self.message.setObjectName("muted")
        page = QVBoxLayout()
        page.addWidget(self.toolbar)
        page.addWidget(self.views, 1)
        page.addWidget(self.message)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 6)
        outer.addLayout(page, 1)  # first in the Tab order: Play, Step, Reset before the left column
        outer.insertWidget(0, scroll)
        self.gif = GifExport(self, self.export_gif)  # Export GIF is disabled while a GIF is made
        self.drawer.drawn.connect(self.frame_drawn)
        self.drawer.drawn.connect(self.run.drawn)
        self.run.frame.connect(self.drawer.offer)
        self.run.losses.connect(self.views.add_losses)
        self.run.ended.connect(self._on_run_ended)

        self.play.clicked.connect(self._on_play_clicked)
        self.step_button.clicked.connect(self._on_step_button_clicked)
        self.reset.clicked.connect(self._on_reset_clicked)
        self.speed.valueChanged.connect(self._on_speed_value_changed)
        self.compare.toggled.connect(self._on_compare_toggled)
        self.export.clicked.connect(self._on_export_clicked)
        self.export_gif.clicked.connect(self._on_export_gif_clicked)
        self.gif.said.connect(self.message.say)
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
    job, handle = property(lambda self: self.run.job), property(lambda self: self.run.handle)
    recorder = property(lambda self: self.run.recorder)
    running = property(lambda self: self.run.running)

    def start(self, paused: bool = False, kept: PlaygroundJob | None = None) -> bool:
        """A new run (``kept``: the left model goes on from that run's job); False, said, on a bad spec."""
        try:
            other = self.state.compare_spec()
            spec = replace(self.state.spec(), rest_s=JOB_REST_S)
            job = PlaygroundJob(spec) if other is None else PlaygroundPair(spec, other)
        except SpecError as exc:
            self.message.setText(exc.worded({"data": "The data"}))
            return False
        for lane, pane in enumerate(self.panes[:2 if other else 1]):
            value = pane.setting_value(pane.setting.value())
            if value is not None:
                job.set_setting(value, *((lane,) if other else ()))
        self.run.carry(job, kept)
        self.views.b_behind = job.step - job.other.step if other else 0
        self.message.setText("")
        self.run.start(job, paused)
        return True

    def stop(self) -> None:
        """End the current run (its model is dropped): the next Play starts afresh."""
        self.run.stop()
        self.views.reset()
        self.toolbar.show_playing(False)
        self.views.show_data(self.state.points)

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
            self.toolbar.show_playing(True)
        error = self.message.text()  # the new options' error, if any
        text = dropped.notice(restarted=dropped.playing)
        self.message.setText(f"{error}  ({text})" if error else text)

    @Slot()
    def _on_reset_clicked(self) -> None:
        """A fresh model on the same data; a run that was playing keeps playing, and says so."""
        self.restarts.take()  # a restart a change had asked for is off too
        job, playing = self.job, self.running and self.job is not None and not self.job.paused
        self.message.setText("")
        self.stop()
        if job is not None and (not playing or self.start()):
            self.toolbar.show_playing(playing)
            self.message.setText(Dropped(job.step, playing, "Reset").notice(restarted=playing))

    @Slot()
    def _on_play_clicked(self) -> None:
        self.toolbar.show_playing(self.run.toggle() if self.running else self.start())

    @Slot()
    def _on_step_button_clicked(self) -> None:
        if self.running or self.start(paused=True):
            self.toolbar.show_playing(False)
            self.run.step(self.state.speed)

    @Slot(str)
    def _on_run_ended(self, error: str) -> None:
        if error:
            self.message.setText(error)
        self.toolbar.show_playing(False)

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
        """Compare on, off or another right-hand family: a run of the left model shown goes on with it."""
        why = compare_change(self.state.family, self.state.options, family, self.state.compare_options)
        kept = self.run.hand_over(self.state.spec()) if self.state.trainable else None
        if kept is None:
            self._drop_run(why, COMPARE)
        error = self.views.show_compare(family, self.state.compare_options)
        self.toolbar.show_compare(family is not None)
        if kept is not None:
            self.views.reset(keep_left=True)
            if not self.start(paused=not kept[1], kept=kept[0]):
                return  # start() has said why
            self.toolbar.show_playing(kept[1])
            error = carried_notice(why, kept[0].step, family is not None, error)
        self.message.setText(error)

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
        if not self.running:  # while training, the frames carry the data
            self.views.show_data(points)

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
        self.message.say(*export_png(self, self.views, f"playground-{self._name()}.png"))

    @Slot()
    def _on_export_gif_clicked(self) -> None:
        self.gif.ask_and_save(self.recorder.frames, self.panes, f"playground-{self._name()}.gif")

    # --- a page nobody sees ---------------------------------------------------------------
    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Another page (or a minimised window): nobody watches, so the run pauses instead of
        taking a core from, say, a training on the Train page; it resumes when the page is back."""
        super().hideEvent(event)
        if self.run.pause_hidden():
            self.drawer.clear()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.run.resume_shown()

    def shutdown(self) -> None:
        self.gif.cancel()
        self.run.shutdown()

