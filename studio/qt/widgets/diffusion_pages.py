"""The three views of the diffusion viewer: stepping through one trajectory, two trajectories
side by side (a branch beside its original, or two samplers compared), and the forward process
q(x_t | x_0)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from .cards import card, label
from .diffusion_views import FilmStrip, FrameView, SchedulePlot, Timeline, boxed

SLIDER_RESOLUTION = 1000
SIDE_WIDTH = 340  # the column beside the pictures: noise schedule, branch form
SCHEDULE_HEIGHT = 180  # the forward page's schedule card at most: the pictures get the rest


class StepView(QWidget):
    """Step through one trajectory: x_t, x̂₀ and ε of the step on screen, the noise schedule
    with a cursor, the branch form, the timeline and the filmstrip of every step."""

    def __init__(self, play_seconds: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.xt_view = FrameView("x_t", "the noisy image", "Press Run: the noisy image at each step")
        self.x0_view = FrameView("x̂₀", "predicted clean image", "the model's guess of the final image")
        self.eps_view = FrameView("ε", "predicted noise", "the noise the model sees in x_t")
        self.schedule = SchedulePlot()
        self.branch_sampler = QComboBox()
        self.branch_seed = QSpinBox(minimum=0, maximum=2 ** 31 - 1, value=1)
        self.branch_eta = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, value=1.0, decimals=2)
        self.branch_button = QPushButton("Branch from this step")
        self.branch_button.setToolTip("Continue from the x_t on screen with these settings; the branch is "
                                      "shown beside the original (Side by side)")
        branch_form = QVBoxLayout()
        for pairs in ((("sampler", self.branch_sampler),), (("seed", self.branch_seed), ("η", self.branch_eta))):
            row = QHBoxLayout()  # seed and η share a row: the column stays short enough for 768 px
            for text, widget in pairs:
                row.addWidget(label(text, "muted"))
                row.addWidget(widget, 1)
            branch_form.addLayout(row)
        branch_form.addWidget(self.branch_button)
        side = QVBoxLayout()
        side.addWidget(card("Noise schedule", self.schedule, self.schedule.legend, self.schedule.readout, spacing=4), 1)
        side.addWidget(card("", boxed(branch_form)))  # its button says "Branch from step N": the plot gets the line
        side_box = boxed(side)
        side_box.setFixedWidth(SIDE_WIDTH)
        views = QHBoxLayout()
        views.setSpacing(10)
        for view in (self.xt_view, self.x0_view, self.eps_view):
            views.addWidget(view, 1)
        views.addWidget(side_box)
        self.timeline = Timeline(play_seconds)
        self.filmstrip = FilmStrip()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(views, 1)
        layout.addWidget(self.timeline)
        layout.addWidget(card("", self.filmstrip, margins=6))

    def set_model(self, model, meta: dict) -> None:
        from ...engine.sampling import schedule_curves
        from .diffusion_settings import fill_samplers

        fill_samplers(self.branch_sampler, model.capabilities.samplers)
        self.schedule.set_schedule(schedule_curves(model.noise_schedule))

    def show_state(self, state, what: str) -> None:
        """Draw ``state`` (an ``engine.viewer.ViewerState``) after its change ``what``."""
        traj, slider = state.trajectory, self.timeline.slider
        refusal = state.branch_refusal(state.step)
        if refusal and traj is not None and traj.done:  # (the edit page words the others)
            self.branch_button.setToolTip(refusal)
        if traj is None:
            if what in ("model", "cleared"):  # another model (or picture edited): the previous frames go
                self.clear()
            return
        if what == "trajectory":
            self.timeline.length = traj.n
            self.filmstrip.reset(lambda i: traj.frame(i, "x_t", state.image or 0),
                                 lambda i: f"t={traj.timestep(i) + 1}")
            self.schedule.set_marks([t + 1 for t in traj.timesteps])
            slider.setRange(0, 0)
        elif what == "image":
            self.filmstrip.reset(lambda i: traj.frame(i, "x_t", state.image or 0), self.filmstrip._labels)
        if what in ("stored", "image"):
            self.filmstrip.set_count(state.announced)
            slider.blockSignals(True)  # the state already knows: no echo back into it
            slider.setRange(0, max(0, state.announced - 1))
            slider.blockSignals(False)
        if what in ("step", "image", "shown"):
            slider.blockSignals(True)
            slider.setValue(state.step)
            slider.blockSignals(False)
            self.show_step(state)

    def clear(self) -> None:
        """No trajectory: empty views, filmstrip and timeline."""
        for view in (self.xt_view, self.x0_view, self.eps_view):
            view.set_image(None)
        self.filmstrip.reset(lambda i: None, lambda i: "")
        self.timeline.slider.setRange(0, 0)
        self.timeline.step_label.setText("")
        self.schedule.set_cursor(None)

    def show_step(self, state) -> None:
        traj, step, image = state.trajectory, state.step, state.image
        if traj is None or not 0 <= step < traj.done:
            return
        t = traj.timestep(step) + 1
        self.xt_view.set_image(traj.frame(step, "x_t", image), f"t = {t}")
        self.x0_view.set_image(traj.frame(step, "x0", image), "x̂₀ = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t")
        self.eps_view.set_image(traj.frame(step, "eps", image), "black −3σ · gray 0 · white +3σ")
        self.timeline.step_label.setText(state.step_caption())
        self.filmstrip.set_current(step)
        self.schedule.set_cursor(t)


class PairView(QWidget):
    """Two trajectories A and B in two columns (x_t and x̂₀ each), one shared slider that
    walks both from noise to image (by fraction, so different step counts line up)."""

    compare_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.trajectories: list = [None, None]
        self.times: list[float | None] = [None, None]
        self.image: int | None = None
        self.titles = [label("", "title"), label("", "title")]
        self.details = [label("", "muted"), label("", "muted")]
        self.views = [[FrameView("x_t", "noisy image"), FrameView("x̂₀", "predicted clean image")] for _ in range(2)]
        grid = QGridLayout()
        grid.setSpacing(10)
        for col in range(2):
            head = QVBoxLayout()
            head.setSpacing(0)
            head.addWidget(self.titles[col])
            head.addWidget(self.details[col])
            grid.addLayout(head, 0, 2 * col, 1, 2)
            for j, view in enumerate(self.views[col]):
                view.title.setStyleSheet("font-size: 13pt;")
                grid.addWidget(view, 1, 2 * col + j)
        for c in range(4):
            grid.setColumnStretch(c, 1)
        grid.setRowStretch(1, 1)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, SLIDER_RESOLUTION)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.position = label("", "muted")
        self.position.setMinimumWidth(150)
        # compare: B's settings (A is the page's Run settings, with the same seed)
        self.sampler_b = QComboBox()
        self.steps_b = QSpinBox(minimum=1, maximum=1000, value=20)
        self.eta_b = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, value=0.0, decimals=2)
        self.compare_button = QPushButton("Compare A with B")
        self.compare_button.setToolTip("Sample the same seed with the Run settings (A) and these (B), one after "
                                       "the other, and time both")
        self.compare_button.clicked.connect(self.compare_requested)
        controls = QHBoxLayout()
        for text, widget in (("B: sampler", self.sampler_b), ("steps", self.steps_b), ("η", self.eta_b)):
            controls.addWidget(label(text, "muted"))
            controls.addWidget(widget)
        controls.addWidget(self.compare_button)
        controls.addStretch(1)
        timeline = QHBoxLayout()
        timeline.addWidget(label("noise", "muted"))
        timeline.addWidget(self.slider, 1)
        timeline.addWidget(label("image", "muted"))
        timeline.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(card("Compare two samplers on the same seed", boxed(controls)))
        layout.addLayout(grid, 1)
        layout.addLayout(timeline)
        self.set_pair(None, None, "", "")


    def set_model(self, model, meta: dict) -> None:
        from .diffusion_settings import fill_samplers

        from ...engine.sampling import option_ranges

        fill_samplers(self.sampler_b, model.capabilities.samplers, "dpmpp2m")
        self.steps_b.setRange(*(int(v) for v in option_ranges(model)["steps"]))
        self.steps_b.setValue(min(20, model.num_train_timesteps))
    def set_pair(self, a, b, title_a: str, title_b: str) -> None:
        """Show ``a`` and ``b``; a column whose trajectory is unchanged keeps its wall time."""
        for col, (traj, title) in enumerate(zip((a, b), (title_a, title_b))):
            if traj is not self.trajectories[col]:
                self.times[col] = None
            self.trajectories[col] = traj
            self.titles[col].setText(title or ("A" if col == 0 else "B"))
            self._describe(col)
        self.slider.setValue(SLIDER_RESOLUTION)
        self.refresh()

    def set_time(self, col: int, seconds: float) -> None:
        self.times[col] = seconds
        self._describe(col)

    def _describe(self, col: int) -> None:
        traj, seconds = self.trajectories[col], self.times[col]
        if traj is None:
            self.details[col].setText("Branch from a step, or compare two samplers")
        else:
            self.details[col].setText(traj.spec.describe() + (f"  ·  sampled in {seconds:.2f} s" if seconds else ""))

    def step_of(self, col: int) -> int | None:
        traj = self.trajectories[col]
        if traj is None or traj.done == 0:
            return None
        want = round(self.slider.value() / SLIDER_RESOLUTION * (traj.n - 1))
        return min(want, traj.done - 1)

    def refresh(self) -> None:
        for col, traj in enumerate(self.trajectories):
            step = self.step_of(col)
            for view, kind in zip(self.views[col], ("x_t", "x0")):
                if step is None:
                    view.set_image(None)
                    continue
                view.set_image(traj.frame(step, kind, self.image),
                               f"step {step + 1} of {traj.n}  ·  t = {traj.timestep(step) + 1}")
        self.position.setText(f"{self.slider.value() / SLIDER_RESOLUTION:.0%} of the way")

    @Slot(int)
    def _on_slider_value_changed(self, value: int) -> None:
        self.refresh()


class ForwardView(QWidget):
    """q(x_t | x_0): a dataset image, the same image noised to t, and the noise added."""

    image_requested = Signal(int)  # dataset index

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.process = None  # engine.sampling.ForwardProcess
        self.count = 0
        self.original = FrameView("x₀", "a dataset image", "Open a model: its dataset's images appear here")
        self.noisy = FrameView("x_t", "√ᾱ_t x₀ + √(1 − ᾱ_t) ε")
        self.added = FrameView("√(1 − ᾱ_t) ε", "the noise that was added")
        self.plot = SchedulePlot()
        self.index = QSpinBox(minimum=0, maximum=0)
        self.index.setToolTip("Which image of the dataset (test split)")
        self.index.valueChanged.connect(self._on_index_value_changed)
        self.random_button = QPushButton("Another image")
        self.random_button.clicked.connect(self._on_random_button_clicked)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.t_label = label("t = 0", "title")
        self.t_label.setMinimumWidth(120)
        views = QHBoxLayout()
        views.setSpacing(10)
        for view in (self.original, self.noisy, self.added):
            views.addWidget(view, 1)
        controls = QHBoxLayout()
        controls.addWidget(label("image", "muted"))
        controls.addWidget(self.index)
        controls.addWidget(self.random_button)
        controls.addSpacing(16)
        controls.addWidget(label("t", "muted"))
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.t_label)
        under = QHBoxLayout()
        under.addWidget(self.plot.legend)
        under.addSpacing(24)
        under.addWidget(self.plot.readout, 1)
        schedule = card("Noise schedule", self.plot, boxed(under), spacing=4)
        schedule.setMaximumHeight(SCHEDULE_HEIGHT)  # a strip under the pictures: they take the room
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(views, 4)
        layout.addLayout(controls)
        layout.addWidget(schedule, 1)
        self._rng = np.random.default_rng()

    def set_dataset_size(self, n: int) -> None:
        self.count = n
        self.index.setMaximum(max(0, n - 1))

    def set_process(self, process, curves) -> None:
        self.process = process
        T = process.x_t.shape[0] - 1
        self.plot.set_schedule(curves)
        if self.slider.maximum() != T:
            self.slider.setRange(0, T)
            self.slider.setValue(T // 4)
        self.refresh()

    def set_t(self, t: int) -> None:
        self.slider.setValue(t)
        self.refresh()

    def refresh(self) -> None:
        p, t = self.process, self.slider.value()
        if p is None:
            return
        self.original.set_image(p.x_t[0], "t = 0: the clean image")
        self.noisy.set_image(p.x_t[t], f"t = {t}")
        self.added.set_image(p.scaled_noise[t], "black −3σ · gray 0 · white +3σ")
        self.t_label.setText(f"t = {t}")
        self.plot.set_cursor(t)

    @Slot(int)
    def _on_slider_value_changed(self, value: int) -> None:
        self.refresh()

    @Slot(int)
    def _on_index_value_changed(self, value: int) -> None:
        self.image_requested.emit(value)

    @Slot()
    def _on_random_button_clicked(self) -> None:
        if self.count:
            self.index.setValue(int(self._rng.integers(self.count)))
