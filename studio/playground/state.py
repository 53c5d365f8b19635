"""The Playground page's state, without Qt (napari's ``Dims`` beside ``QtDims``): the point set
being learnt, the family and its options, speed and the view slider, with plain change events.

The data is an editable point set: a preset fills it (``set_preset``), the brush adds points
around the cursor, the eraser removes those near it, ``clear`` empties it to draw from nothing.
Listeners subscribe with ``state.events.connect(name, callback)``; events are "data",
"family", "compare", "speed", "setting" and "lesson", each emitted after the change.

"Compare" shows a second family beside the first. Until the user picks that family himself
(``set_compare(..., chosen=True)``) it follows the first: a lesson's own pairing
(``Lesson.compare``) or ``compare.partner``'s default, re-chosen whenever the lesson or the
first family changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..errors import SpecError
from .base import get_family
from .compare import partner
from .datasets import MAX_POINTS, PRESETS, VIEW, make_dataset
from .job import PlaygroundSpec
from .lessons import LESSONS, LESSONS_BY_KEY, Lesson

BRUSH_POINTS = 6  # points added per brush event
MIN_TRAIN_POINTS = 16


class Events:
    """Named plain-Python events: ``connect(name, fn)``, ``emit(name, *args)``."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Callable[..., Any]]] = defaultdict(list)

    def connect(self, name: str, callback: Callable[..., Any]) -> None:
        self._listeners[name].append(callback)

    def emit(self, name: str, *args: Any) -> None:
        for callback in list(self._listeners[name]):
            callback(*args)


class PlaygroundState:
    def __init__(self, lesson: str = LESSONS[0].key, seed: int = 0):
        self.events = Events()
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.points_count = 1000
        self.noise: float | None = None  # None: the preset's own
        self.brush_radius = 0.25
        self.dataset = "two-moons"
        self.points = np.zeros((0, 2), np.float32)
        self.family = "gan"
        self.options: dict[str, Any] = {}
        self.lr: float | None = None
        self.speed = 5
        self.setting: float | None = None
        self.lesson: Lesson | None = None
        self.compare: str | None = None  # the second family shown beside the first, if any
        self.compare_options: dict[str, Any] = {}
        self.compare_chosen = False  # the user picked the second family: it no longer follows the first
        self.apply_lesson(lesson)

    # --- lessons ------------------------------------------------------------------------
    def apply_lesson(self, key: str) -> None:
        if key not in LESSONS_BY_KEY:
            raise SpecError(f"unknown lesson {key!r}; choose one of {', '.join(LESSONS_BY_KEY)}", "lesson")
        lesson = self.lesson = LESSONS_BY_KEY[key]
        self.compare_chosen = False  # a new lesson brings its own pairing
        self.speed = lesson.steps_per_frame
        self.noise = None
        self.set_preset(lesson.dataset)
        self.set_family(lesson.family, dict(lesson.options), lesson.lr)
        self.events.emit("speed", self.speed)
        self.events.emit("lesson", lesson)

    @property
    def follows_lesson(self) -> bool:
        """The data set, family and options are still the lesson's (its text applies); False once
        the user picks another family, options or data ("your own setup")."""
        lesson = self.lesson
        return lesson is not None and (self.dataset, self.family, self.options) == \
            (lesson.dataset, lesson.family, dict(lesson.options))

    # --- data ---------------------------------------------------------------------------
    def set_preset(self, name: str, points: int | None = None, noise: float | None = ...) -> None:  # type: ignore[assignment]
        """Fill the data with a preset (``noise`` left out keeps the current choice)."""
        self.points_count = self.points_count if points is None else points
        self.noise = self.noise if noise is ... else noise
        self.points = make_dataset(name, self.points_count, self.noise, self.seed)
        self.dataset = name
        self.events.emit("data", self.points)

    def brush(self, x: float, y: float) -> None:
        """Add ``BRUSH_POINTS`` points scattered around (x, y) (σ = a third of the brush radius)."""
        if len(self.points) + BRUSH_POINTS > MAX_POINTS or not (abs(x) <= VIEW and abs(y) <= VIEW):
            return
        new = np.array([x, y]) + self._rng.normal(0, self.brush_radius / 3, (BRUSH_POINTS, 2))
        new = np.clip(new, -VIEW, VIEW).astype(np.float32)
        self._set_points(np.concatenate([self.points, new]))

    def erase(self, x: float, y: float) -> None:
        """Remove the points within the brush radius of (x, y)."""
        keep = np.linalg.norm(self.points - np.array([x, y], np.float32), axis=1) > self.brush_radius
        if not keep.all():
            self._set_points(self.points[keep])

    def clear(self) -> None:
        self._set_points(np.zeros((0, 2), np.float32))

    def _set_points(self, points: np.ndarray) -> None:
        self.points = points
        self.dataset = "drawn"
        self.events.emit("data", self.points)

    @property
    def trainable(self) -> bool:
        return len(self.points) >= MIN_TRAIN_POINTS

    # --- the model ----------------------------------------------------------------------
    def set_family(self, family: str, options: dict[str, Any] | None = None, lr: float | None = None) -> None:
        model = get_family(family)
        self.family, self.options, self.lr = family, dict(options or {}), lr
        self.setting = model.slider.default if model.slider else None
        follow = self.compare is not None and not self.compare_chosen
        if follow:
            self.compare, self.compare_options = self.default_compare()
        self.events.emit("family", family)
        if follow:
            self.events.emit("compare", self.compare)

    def default_compare(self) -> tuple[str, dict[str, Any]]:
        """The family (and options) "Compare" puts beside the first: the lesson's own pairing while
        the first view shows the lesson's family and options, otherwise ``compare.partner``'s."""
        lesson = self.lesson
        if lesson is not None and lesson.compare is not None and \
                (self.family, self.options) == (lesson.family, dict(lesson.options)):
            return lesson.compare[0], dict(lesson.compare[1])
        return partner(self.family, self.options)

    def set_compare(self, family: str | None, options: dict[str, Any] | None = None, chosen: bool = False) -> None:
        """Show ``family`` beside the first, learning the same data (None: one family only).
        ``chosen``: the user picked it, so it stays when the lesson or the first family changes."""
        if family is not None:
            get_family(family)
        self.compare, self.compare_options = family, dict(options or {})
        self.compare_chosen = chosen and family is not None
        self.events.emit("compare", family)

    def set_speed(self, steps_per_frame: int) -> None:
        self.speed = int(steps_per_frame)
        self.events.emit("speed", self.speed)

    def set_setting(self, value: float) -> None:
        self.setting = float(value)
        self.events.emit("setting", self.setting)

    def spec(self) -> PlaygroundSpec:
        """What a new run trains; ``SpecError`` (field "data", worded to follow it: "data has 0
        points: draw at least 16, …") when there are too few points."""
        if not self.trainable:
            raise SpecError(f"has {len(self.points)} points: draw at least {MIN_TRAIN_POINTS}, or pick a data set",
                            "data")
        return PlaygroundSpec(family=self.family, options=dict(self.options), dataset=self.dataset,
                              drawn=self.points.copy(), noise=self.noise, lr=self.lr, seed=self.seed,
                              steps_per_frame=self.speed)

    def compare_spec(self) -> PlaygroundSpec | None:
        """The second family's spec (its data, seed and speed are the first's), or None."""
        if self.compare is None:
            return None
        return replace(self.spec(), family=self.compare, options=dict(self.compare_options), lr=None)


__all__ = ["BRUSH_POINTS", "Events", "MIN_TRAIN_POINTS", "PRESETS", "PlaygroundState"]
