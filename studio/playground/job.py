"""The playground as a job of the project's protocol (``studio.engine.jobs``): ``job(reporter,
control)`` trains one family on the 2-D data and, about ``max_fps`` times a second, reports
``preview(step, Frame)`` (numpy layers, ``studio.playground.frame``) and ``metrics(step,
values)`` (the losses averaged since the last frame, the energy distance of samples to data and
the family's own numbers).

The page changes a running job through thread-safe setters: speed (steps per frame), the view
slider, the data (draw while it learns), live options (a sampler and its steps), and its own
pause / single step (the view keeps redrawing while paused, so sliders still work). ``Control``
stop/cancel end it; the result is a summary dict.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..engine.control import Control
from ..engine.reporting import Progress, Reporter
from ..errors import SpecError
from ..models.base import config_from_dict
from . import frame as fr
from .base import SAMPLES, VIEW_SEED, Model2D, build_family
from .datasets import EIGHT_MODES, PRESETS, check_points, make_dataset

DISTANCE_POINTS = 500  # data points the energy distance compares with
MAX_STEPS_PER_FRAME = 200


@dataclass
class PlaygroundSpec:
    """Everything a playground run needs. ``drawn`` (K, 2), when given, is the data itself (the
    page's edited point set; ``dataset`` then only names where it came from); otherwise the
    preset ``dataset`` is made with ``points`` and ``noise`` (None: the preset's own). ``lr``
    None takes the family's default; ``max_steps`` 0 trains until stopped. ``rest_s``: seconds
    the job waits after reporting each frame at least, so the thread that draws it has the GIL
    (and a core) to itself meanwhile (the page's lateness, ``studio bench playground``); the rest
    ends early when the page says it has drawn the frame (``PlaygroundJob.drawn``)."""

    family: str = "ddpm"
    options: dict[str, Any] = field(default_factory=dict)
    dataset: str = "two-moons"
    points: int = 1000
    noise: float | None = None
    drawn: np.ndarray | None = None
    batch_size: int = 128
    lr: float | None = None
    seed: int = 0
    steps_per_frame: int = 5
    max_fps: float = 30.0
    max_steps: int = 0
    rest_s: float = 0.0

    def data(self) -> np.ndarray:
        if self.drawn is not None or self.dataset == "drawn":
            return check_points(np.zeros((0, 2)) if self.drawn is None else self.drawn)
        return make_dataset(self.dataset, self.points, self.noise, self.seed)


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not lo <= value <= hi:
        raise SpecError(f"{name}={value!r} must be a whole number from {lo} to {hi}", name)
    return int(value)


def _set_mode(model: torch.nn.Module, training: bool) -> None:
    """``model.train(training)`` unless it is in that mode already (the call walks every
    submodule in Python: ~0.6 ms of each frame and again of each training call, measured)."""
    if model.training != training:
        model.train(training)


class PlaygroundJob:
    """One family learning one data set; call it as a job. Building it checks the spec (a
    ``SpecError`` names the bad field) and builds the data and the model, so errors show at once."""

    def __init__(self, spec: PlaygroundSpec):
        self.spec = spec
        self.batch_size = _check_int("batch_size", spec.batch_size, 1, 4096)
        _check_int("max_steps", spec.max_steps, 0, 10**9)
        self.model: Model2D = build_family(spec.family, spec.options, spec.seed)
        lr = self.model.default_lr if spec.lr is None else spec.lr
        if not (isinstance(lr, (int, float)) and 0 < lr <= 1):
            raise SpecError(f"lr={lr!r} must be a learning rate in (0, 1]", "lr")
        if not (isinstance(spec.max_fps, (int, float)) and spec.max_fps > 0):
            raise SpecError(f"max_fps={spec.max_fps!r} must be positive", "max_fps")
        if not (isinstance(spec.rest_s, (int, float)) and 0 <= spec.rest_s <= 1):
            raise SpecError(f"rest_s={spec.rest_s!r} must be from 0 to 1 second", "rest_s")
        self.optimizers = self.model.optimizers(float(lr))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._drawn = threading.Event()
        self._reported = 0  # the step of the last frame reported
        self._batch_gen = torch.Generator().manual_seed(spec.seed + 1)
        self._set_data_now(spec.data())
        self._speed = _check_int("steps_per_frame", spec.steps_per_frame, 0, MAX_STEPS_PER_FRAME)
        self._setting = self.model.slider.default if self.model.slider else None
        self._paused = False
        self._pending_steps = 0
        self._pending_data: np.ndarray | None = None
        self._dirty = True
        self.step = 0
        self.frames = 0  # frames reported so far (``studio bench playground`` compares them with those drawn)

    # --- thread-safe controls (called from the UI thread) -----------------------------------
    def set_speed(self, steps_per_frame: int) -> None:
        with self._lock:
            self._speed = _check_int("steps_per_frame", steps_per_frame, 0, MAX_STEPS_PER_FRAME)
        self._wake.set()

    def set_setting(self, value: float) -> None:
        """The view slider's value (t, coupling layer, x₁ …)."""
        with self._lock:
            self._setting, self._dirty = float(value), True
        self._wake.set()

    def set_data(self, points: np.ndarray) -> None:
        """New training data (N, 2) from now on; the model keeps what it learnt."""
        points = check_points(points)
        with self._lock:
            self._pending_data, self._dirty = points, True
        self._wake.set()

    def set_live_option(self, name: str, value: Any) -> None:
        """Change an option the family marks live (a sampler, its steps) without retraining."""
        live = getattr(self.model, "live_options", ())
        if name not in live:
            raise SpecError(f"{name} cannot change while {self.model.label} trains; live: {', '.join(live) or 'none'}",
                            f"options.{name}")
        values = {**vars(self.model.config), name: value}
        try:
            config = config_from_dict(type(self.model.config), values)
        except ValueError as exc:
            raise SpecError(str(exc), f"options.{name}") from None
        with self._lock:
            setattr(self.model.config, name, getattr(config, name))
            self._dirty = True
        self._wake.set()

    def drawn(self, step: int) -> None:
        """The page has drawn the frame of ``step``: when that is the last frame reported, the
        job's rest after it (``rest_s``) ends now rather than idling out (thread-safe)."""
        if step >= self._reported:
            self._drawn.set()

    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False
        self._wake.set()

    def step_once(self, steps: int = 1) -> None:
        """While paused: train ``steps`` more steps and draw one frame."""
        with self._lock:
            self._pending_steps += int(steps)
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    # --- the work -----------------------------------------------------------------------
    def _set_data_now(self, points: np.ndarray) -> None:
        self.data_np = points
        self.data = torch.from_numpy(points)
        pick = torch.randperm(len(points), generator=torch.Generator().manual_seed(0))[:DISTANCE_POINTS]
        self._reference = self.data[pick]
        self._reference_spread = fr.spread(self._reference)

    def train(self, steps: int, share_gil: bool = False) -> dict[str, float]:
        """``steps`` optimizer steps on random batches; the losses averaged over them.
        ``share_gil``: hand the GIL over after each step (a tiny model's step is mostly Python,
        and a UI thread waiting for the GIL would otherwise wait for the switch interval)."""
        totals: dict[str, float] = {}
        _set_mode(self.model, True)
        for _ in range(steps):
            if share_gil:
                time.sleep(0)
            idx = torch.randint(0, len(self.data), (self.model.batches_per_step, self.batch_size),
                                generator=self._batch_gen)
            for k, v in self.model.train_step(self.data[idx], self.optimizers).items():
                totals[k] = totals.get(k, 0.0) + v
            self.step += 1
        return {k: v / steps for k, v in totals.items()} if steps else {}

    @torch.inference_mode()
    def frame(self) -> fr.Frame:
        """The current picture: the family's view at the slider's setting, the data and samples."""
        _set_mode(self.model, False)
        view = self.model.view(self.data, self._setting)
        samples = view.samples if view.samples is not None else \
            self.model.sample(SAMPLES, torch.Generator().manual_seed(VIEW_SEED))
        distance = fr.energy_distance(samples, self._reference, self._reference_spread)
        stats = {"energy distance": distance, **view.stats}
        if self.spec.dataset == "8-gaussians":
            noise = PRESETS["8-gaussians"][1] if self.spec.noise is None else self.spec.noise
            stats["modes covered"] = fr.modes_covered(samples, EIGHT_MODES, max(3 * noise, 0.2))
        main = [*view.main, fr.Layer("points", "data", "data", {"xy": self.data_np}),
                fr.points("samples", "model", samples)]
        m = self.model
        return fr.Frame(self.step, main, view.side, m.side_title, m.side_axes, stats, m.side_equal, m.side_mirrored)

    def __call__(self, reporter: Reporter, control: Control) -> dict[str, Any]:
        last = fr.Frame(0, [], [], "", ("", ""), {})
        period = 1.0 / self.spec.max_fps
        while not control.wait_while_paused():
            started = time.perf_counter()
            with self._lock:
                n = self._pending_steps if self._paused else self._speed
                self._pending_steps = 0
                if self.spec.max_steps:
                    n = min(n, self.spec.max_steps - self.step)
                data, self._pending_data = self._pending_data, None
                dirty, self._dirty = self._dirty, False
            if data is not None:
                self._set_data_now(data)
            if n <= 0 and not dirty:
                if self.spec.max_steps and self.step >= self.spec.max_steps:
                    break
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            losses = self.train(n, share_gil=True)
            time.sleep(0)
            last = self.frame()
            self.frames += 1
            self._reported = last.step
            self._drawn.clear()
            reporter.progress(Progress(self.step, self.spec.max_steps or self.step, paused=self._paused))
            reporter.preview(self.step, last)
            if losses:
                reporter.metrics(self.step, {**losses, **last.stats})
            if self.spec.rest_s:
                self._drawn.wait(self.spec.rest_s)
            self._wake.wait(max(0.0, period - (time.perf_counter() - started)))
            self._wake.clear()
        return self.summary(last)

    def summary(self, last: Any) -> dict[str, Any]:
        """The job's result, from the last frame."""
        return {"family": self.model.name, "step": self.step, "stats": dict(last.stats)}
