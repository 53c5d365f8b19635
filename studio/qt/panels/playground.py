"""The Playground page: every family learning a 2-D point set you pick or draw, live.

The state (data, family, options, speed, view slider) is a Qt-free ``PlaygroundState``; the
training is a ``PlaygroundJob`` on the shared runner at one torch thread. This panel only lays
out the widgets, forwards the user's actions and draws the frames the job reports."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSlider, QVBoxLayout,
                               QWidget)

from ...errors import SpecError
from ...playground import PlaygroundJob, build_family, get_family
from ...playground.frame import Layer
from ...playground.job import MAX_STEPS_PER_FRAME
from ...playground.state import PlaygroundState
from .. import theme
from ..runner import JobHandle, runner
from ..widgets.playground_controls import PlaygroundControls
from ..widgets.playground_view import LayerPlot

SLIDER_TICKS = 1000


class PlaygroundPanel(QWidget):
    frame_drawn = Signal(int)  # the step of the frame just drawn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = PlaygroundState()
        self.job: PlaygroundJob | None = None
        self.handle: JobHandle | None = None
        self.frames_drawn = 0
        self._loss: tuple[list[int], list[float]] = ([], [])

        self.controls = PlaygroundControls(self.state)
        scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.NoFrame)
        scroll.setWidget(self.controls)
        scroll.setFixedWidth(310)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        self.play = QPushButton("▶ Play", objectName="primary", toolTip="train and watch (Space)")
        self.play.setShortcut(Qt.Key_Space)
        self.step_button = QPushButton("Step", toolTip="pause after one frame's worth of steps")
        self.reset = QPushButton("Reset", toolTip="a fresh, untrained model on the same data")
        self.speed = QSlider(Qt.Horizontal, minimum=1, maximum=MAX_STEPS_PER_FRAME // 4, value=self.state.speed)
        self.speed.setFixedWidth(110)
        self.speed_label = QLabel()
        self.step_label = QLabel("step 0", objectName="stepCounter")
        self.export = QPushButton("Export PNG", toolTip="save the plots as a picture")
        bar = QHBoxLayout()
        for w in (self.play, self.step_button, self.reset, QLabel("Speed"), self.speed, self.speed_label):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.step_label)
        bar.addWidget(self.export)

        self.main = LayerPlot(drawable=True)
        self.setting_label = QLabel()
        self.setting = QSlider(Qt.Horizontal, minimum=0, maximum=SLIDER_TICKS)
        setting_row = QHBoxLayout()
        setting_row.addWidget(self.setting_label)
        setting_row.addWidget(self.setting, 1)
        left = QVBoxLayout()
        left.addWidget(self.main, 1)
        left.addLayout(setting_row)

        self.side = LayerPlot(equal=True, lim=3.5)
        self.loss = pg.PlotWidget(background=theme.SURFACE)
        self.loss.setMenuEnabled(False)
        self.loss.hideButtons()
        self.loss.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.loss_curve = self.loss.plot(pen=pg.mkPen(theme.ACCENT, width=1.2))
        self.loss_curve.setDownsampling(auto=True, method="peak")
        self.loss_curve.setClipToView(True)
        self.stats = QLabel(objectName="muted", wordWrap=True)
        self.stats.setMinimumHeight(40)
        right = QVBoxLayout()
        right.addWidget(self.side, 3)
        right.addWidget(self.loss, 2)
        right.addWidget(self.stats)

        self.views = QWidget()  # what Export PNG saves
        views = QHBoxLayout(self.views)
        views.setContentsMargins(0, 0, 0, 0)
        views.addLayout(left, 5)
        views.addLayout(right, 3)
        page = QVBoxLayout()
        page.addLayout(bar)
        page.addWidget(self.views, 1)
        self.message = QLabel(objectName="muted")
        page.addWidget(self.message)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 6)
        outer.addWidget(scroll)
        outer.addLayout(page, 1)

        self.play.clicked.connect(self._on_play_clicked)
        self.step_button.clicked.connect(self._on_step_button_clicked)
        self.reset.clicked.connect(self._on_reset_clicked)
        self.speed.valueChanged.connect(self._on_speed_value_changed)
        self.setting.valueChanged.connect(self._on_setting_value_changed)
        self.export.clicked.connect(self._on_export_clicked)
        self.main.stroke.connect(self._on_main_stroke)
        self.controls.tool_changed.connect(self._on_controls_tool_changed)
        self.controls.options_edited.connect(self._on_controls_options_edited)
        self.state.events.connect("data", self._on_state_data)
        self.state.events.connect("family", self._on_state_family)
        self.state.events.connect("speed", self._on_state_speed)
        self._on_state_family(self.state.family)
        self._on_state_speed(self.state.speed)

    # --- running ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.handle is not None and self.handle.running

    def start(self, paused: bool = False) -> bool:
        try:
            self.job = PlaygroundJob(self.state.spec())
        except SpecError as exc:
            self.message.setText(str(exc))
            return False
        if paused:
            self.job.pause()
        if self.state.setting is not None:
            self.job.set_setting(self.state.setting)
        self.message.setText("")
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
        self._loss = ([], [])
        self.loss_curve.setData([], [])
        self.step_label.setText("step 0")
        self._show_play(False)
        self.main.clear_layers()
        self.side.clear_layers()
        self.stats.setText("")
        self._draw_data()

    def _show_play(self, playing: bool) -> None:
        self.play.setText("❚❚ Pause" if playing else "▶ Play")

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

    @Slot()
    def _on_reset_clicked(self) -> None:
        self.stop()

    @Slot(int, object)
    def _on_handle_preview_ready(self, step: int, frame) -> None:
        self.main.show_layers(frame.main)
        self.side.set_titles(frame.side_title, frame.side_axes)
        if frame.side_equal != self.side.equal:
            self.side.set_equal(frame.side_equal)
        self.side.show_layers(frame.side)
        self.step_label.setText(f"step {step:,}")
        self.stats.setText("   ".join(f"{k}: {_number(v)}" for k, v in frame.stats.items()))
        self.frames_drawn += 1
        self.frame_drawn.emit(step)

    @Slot(list)
    def _on_handle_metrics_reported(self, records: list) -> None:
        steps, values = self._loss
        for step, _seconds, metrics in records:
            steps.append(step)
            values.append(next(iter(metrics.values())))
        self.loss_curve.setData(np.asarray(steps), np.asarray(values))

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
        self.speed.blockSignals(True)
        self.speed.setValue(speed)
        self.speed.blockSignals(False)
        self.speed_label.setText(f"{speed} steps/frame")
        if self.job is not None:
            self.job.set_speed(speed)

    @Slot(int)
    def _on_setting_value_changed(self, tick: int) -> None:
        slider = get_family(self.state.family).slider if self.job is None else self.job.model.slider
        if slider is None:
            return
        value = slider.minimum + (slider.maximum - slider.minimum) * tick / SLIDER_TICKS
        value = round(value) if slider.integer else value
        self.state.set_setting(value)
        self.setting_label.setText(f"{slider.label}: {value:g}")
        if self.job is not None:
            self.job.set_setting(value)

    def _on_state_family(self, family: str) -> None:
        self.stop()
        model = get_family(family)
        built = None
        try:  # the slider's range and the loss's name may depend on the options (T, couplings, the GAN loss)
            built = build_family(family, self.state.options)
        except SpecError as exc:
            self.message.setText(str(exc))
        slider = built.slider if built is not None else model.slider
        self.side.set_titles(model.side_title, model.side_axes)
        self.loss.setTitle((built or model).loss_label, size="9pt", color=theme.MUTED)
        self.setting.setVisible(slider is not None)
        self.setting_label.setVisible(slider is not None)
        if slider is not None:
            self.setting.blockSignals(True)
            self.setting.setValue(round((slider.default - slider.minimum) / (slider.maximum - slider.minimum)
                                        * SLIDER_TICKS))
            self.setting.blockSignals(False)
            self.setting_label.setText(f"{slider.label}: {slider.default:g}")

    @Slot(str, object)
    def _on_controls_options_edited(self, name: str, value) -> None:
        if self.job is not None:
            try:
                self.job.set_live_option(name, value)
            except SpecError as exc:
                self.message.setText(str(exc))

    # --- data and drawing ---------------------------------------------------------------
    def _on_state_data(self, points: np.ndarray) -> None:
        if self.job is not None and len(points) >= 3:
            self.job.set_data(points)
        self._draw_data()

    def _draw_data(self) -> None:
        if self.job is None or not self.running:  # while training, the frames carry the data
            self.main.show_layers([Layer("points", "data", "data", {"xy": self.state.points})])

    @Slot(str)
    def _on_controls_tool_changed(self, tool: str) -> None:
        self.main.tool = tool or None

    @Slot(float, float, bool)
    def _on_main_stroke(self, x: float, y: float, erase: bool) -> None:
        (self.state.erase if erase else self.state.brush)(x, y)

    # --- export -------------------------------------------------------------------------
    @Slot()
    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the playground as PNG", "playground.png", "PNG (*.png)")
        if path:
            self.export_png(path)

    def export_png(self, path: str) -> bool:
        ok = self.views.grab().save(path, "PNG")
        self.message.setText(f"saved {path}" if ok else f"could not write {path}")
        return ok

    def shutdown(self) -> None:
        if self.handle is not None:
            self.handle.cancel()


def _number(value: float) -> str:
    return f"{value:d}" if isinstance(value, int) else f"{value:.3g}"
