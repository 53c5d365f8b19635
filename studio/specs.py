"""What a run is asked to be, and the rules about it that the CLI and the window share, each
written once: ``TrainSpec`` (stored in run.json) and its validation, the name of a new run's
folder, and the steps at which training shows a preview grid.

Qt-free and torch-free at import. Below ``runs``, ``metrics`` and ``engine`` (they import it);
``TrainSpec.resolved`` asks ``models`` and ``data`` for the family's and dataset's rules.

Preview cadence
---------------
A run previews every ``preview_every`` steps (multiples of it), and, so that something
appears within seconds of Start, also at the *early* steps ``start + e`` for ``e`` in the
1-2-5 series (1, 2, 5, 10, 20, 50, …) below ``preview_every``: a run resumed at ``start``
gets its own early previews. The trainer adds one at the last step if that is not already
one. ``preview_every = 0`` turns previews off (only the last step's).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

from .errors import SpecError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")


# --- the spec of a run --------------------------------------------------------------------
@dataclass
class TrainSpec:
    """Everything needed to start a run; stored in run.json. ``None`` means the family's
    default (or its preset's)."""

    family: str
    data: str = "fashion-mnist-5k"
    steps: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    preset: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # family config fields
    data_options: dict[str, Any] = field(default_factory=dict)  # resolution, channels, root, size
    checkpoint_every: int = 500
    preview_every: int | None = None

    def resolved(self) -> "TrainSpec":
        """Fill in family / preset defaults and validate; SpecError (a ValueError) naming the
        field. Whether the device and precision are available *here* is the engine's check
        (``engine.devices``), made where the run trains."""
        from .data.names import canonical_spec  # both torch-free: the window checks its form before torch is in
        from .models import config_from_dict, family_options

        family = family_options(self.family)
        preset = {}
        if self.preset is not None:
            if self.preset not in family.presets:
                raise ValueError(f"unknown preset {self.preset!r} for {self.family}; "
                                 f"choose one of {', '.join(family.presets)}")
            preset = dict(family.presets[self.preset])
        steps = self.steps if self.steps is not None else preset.pop("steps", family.default_steps)
        batch = self.batch_size if self.batch_size is not None else preset.pop("batch_size", family.default_batch_size)
        preset.pop("steps", None), preset.pop("batch_size", None)
        lr = self.lr if self.lr is not None else preset.pop("lr", family.default_lr)
        preset.pop("lr", None)
        options = {**preset, **self.options}
        _check(isinstance(steps, int) and steps >= 1, "steps", f"must be a positive integer (got {steps})")
        _check(isinstance(batch, int) and batch >= 1, "batch_size", f"must be at least 1 (got {batch})")
        _check(self.seed >= 0, "seed", f"must be non-negative (got {self.seed})")
        _check(self.checkpoint_every >= 1, "checkpoint_every", "must be at least 1 step")
        preview_every = (self.preview_every if self.preview_every is not None
                         else default_preview_every(family.preview_every, steps))
        _check(preview_every >= 0, "preview_every", "must be non-negative (0 turns previews off)")
        config_from_dict(family.Config, options)  # raises ValueError naming the bad option
        _check(self.device in DEVICES, "device", f"must be one of {', '.join(DEVICES)} (got {self.device!r})")
        _check(self.precision in PRECISIONS, "precision",
               f"must be one of {', '.join(PRECISIONS)} (got {self.precision!r})")
        return dataclasses.replace(self, data=canonical_spec(self.data), steps=steps, batch_size=batch,
                                   lr=check_lr(lr), options=options, preview_every=preview_every)


def _check(ok: bool, field: str, problem: str) -> None:
    if not ok:
        raise SpecError(problem, field)


def as_typed(typed: str, value: float | None) -> str:
    """How an error names a number the user typed: ``"you typed 1e-400, which reads as 0"`` when
    the text reads as another value than it shows, else ``"you typed 5"``: never only the parsed
    number (the old "got 0.0" for 1e-400). The one rule for the window's fields and the CLI."""
    typed = typed.strip()
    try:
        same = value is None or not math.isfinite(value) or Decimal(typed) == Decimal(repr(float(value)))
    except (InvalidOperation, ValueError):
        same = True
    return f"you typed {typed}" if same else f"you typed {typed}, which reads as {value:g}"


def check_lr(lr) -> float:
    """``lr`` as a float if it is a learning rate a run may use (a finite number in (0, 1]);
    SpecError naming the field "lr" otherwise. ``lr`` may be the text the user typed (the CLI's
    ``--lr``, the window's field): the error then names that text (``as_typed``). The one rule
    for `studio train/resume --lr` and the window's fields."""
    typed = lr if isinstance(lr, str) else None
    if typed is not None:
        try:
            lr = float(typed)
        except ValueError:
            lr = None
    ok = isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and 0 < lr <= 1
    _check(ok, "lr", f"must be a number in (0, 1] ({as_typed(typed, lr) if typed is not None else f'got {lr}'})")
    return float(lr)


def load_training_data(spec: TrainSpec, split: str = "train"):
    """The ``split`` of the spec's dataset (``Run.dataset`` holds the one rule for which split a
    run evaluates on)."""
    from .data import load_dataset

    return load_dataset(spec.data, split=split, seed=spec.seed, **spec.data_options)


# --- preview cadence ---------------------------------------------------------------------
PREVIEWS_PER_RUN = 10  # the default interval gives about this many regular previews


def early_offsets(limit: int) -> Iterator[int]:
    """The 1-2-5 series 1, 2, 5, 10, 20, 50, … below ``limit``."""
    scale = 1
    while True:
        for mantissa in (1, 2, 5):
            offset = mantissa * scale
            if offset >= limit:
                return
            yield offset
        scale *= 10


def default_preview_every(family_every: int, steps: int) -> int:
    """Steps between regular previews when none are asked for: about ``PREVIEWS_PER_RUN`` per
    run of ``steps`` steps, and at least one every ``family_every`` (the family's
    ``preview_every``)."""
    return max(1, min(int(family_every), int(steps) // PREVIEWS_PER_RUN))


def is_preview_step(step: int, every: int, start: int = 0) -> bool:
    """True if a run previewing every ``every`` steps (0: never) that started (or resumed)
    at step ``start`` shows a preview after step ``step`` (see the module docstring)."""
    if every <= 0 or step <= start:
        return False
    return step % every == 0 or (step - start) in set(early_offsets(every))


def is_early_preview(step: int, every: int, start: int = 0) -> bool:
    """True for a preview step that comes before the regular cadence (an early one): the
    trainer then draws a smaller grid (the family's ``early_preview_images``)."""
    return is_preview_step(step, every, start) and step % every != 0


def next_preview_step(step: int, every: int, start: int = 0, end: int | None = None) -> int | None:
    """The first step after ``step`` that shows a preview (what the window tells the user:
    "next preview at step N"); the run's last step ``end`` always does. ``None`` when no
    preview comes (previews off and no ``end``, or ``step >= end``)."""
    if end is not None and step >= end:
        return None
    candidates = [end] if end is not None else []
    if every > 0:
        candidates.append((max(step, start) // every + 1) * every)
        candidates += [start + e for e in early_offsets(every) if start + e > step][:1]
    return min(candidates) if candidates else None


def preview_steps(end: int, every: int, start: int = 0) -> list[int]:
    """Every step of a run from ``start`` to ``end`` that shows a preview, the last included."""
    steps, step = [], start
    while (step := next_preview_step(step, every, start, end)) is not None:
        steps.append(step)
    return steps


# --- run folders -------------------------------------------------------------------------
def run_name(family: str, data: str, when: float | None = None) -> str:
    """``<family>-<data>-<YYYYmmdd-HHMMSS>`` (local time ``when``, default now); a folder
    dataset ``folder:PATH`` is named by the folder's last component; characters other than
    letters, digits, ``_`` and ``-`` become ``-``."""
    if data.startswith("folder:"):
        data = Path(data[len("folder:"):].rstrip("/\\" + os.sep)).name
    data = re.sub(r"[^A-Za-z0-9_-]+", "-", data).strip("-") or "data"
    return f"{family}-{data}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(when))}"


def new_run_dir(root: str | os.PathLike, family: str, data: str, when: float | None = None) -> Path:
    """A folder under ``root`` (the CLI and the window pass ``runs.default_runs_root()``)
    named by ``run_name`` that does not exist yet: ``-2``, ``-3``, … is appended when it does."""
    base = Path(root) / run_name(family, data, when)
    path, n = base, 2
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    return path


# --- run configs -------------------------------------------------------------------------
CONFIG_FORMAT = "generative-studio-train-config"
CONFIG_VERSION = 1
CONFIG_LIMIT = 1 << 20  # bytes


def config_of(spec: TrainSpec) -> dict[str, Any]:
    """The run config of ``spec``: the resolved spec (every default written out, so it trains the
    same wherever the defaults change) under a format marker. What ``studio train
    --print-config`` prints and the window's "Export run config…" saves; ``read_config`` reads
    it back (``studio train --config FILE``). SpecError if ``spec`` is not valid."""
    from .models import config_from_dict, family_options

    spec = spec.resolved()
    options = dataclasses.asdict(config_from_dict(family_options(spec.family).Config, spec.options))  # all written out
    return {"format": CONFIG_FORMAT, "version": CONFIG_VERSION,
            "spec": dataclasses.asdict(dataclasses.replace(spec, options=options))}


def write_config(spec: TrainSpec, path: str | os.PathLike) -> Path:
    """``config_of(spec)`` as a JSON file at ``path`` (written atomically); returns the path."""
    from .fsio import atomic_write_json

    atomic_write_json(path, config_of(spec))
    return Path(path)


def read_config(path: str | os.PathLike) -> TrainSpec:
    """The spec of a run config file (or of a run folder's run.json: the same run again),
    checked like a run's stored spec (``run_schema.SPEC_FIELDS``: types; unknown fields refused)
    and by ``TrainSpec.resolved`` (ranges, options). Missing fields take their defaults (only
    ``family`` is required). SpecError (field ``config``) naming the file and the bad field."""
    from .fsio import UnsafeFile, read_json
    from .run_schema import RUN_FORMAT, SPEC_FIELDS, SchemaError, check_fields

    def bad(problem: str) -> SpecError:
        return SpecError(f"{path}: {problem}", "config")

    try:
        data = read_json(path, CONFIG_LIMIT)
    except FileNotFoundError:
        raise bad("no such file") from None
    except (UnsafeFile, OSError) as exc:
        raise bad(str(getattr(exc, "strerror", None) or exc)) from None
    if isinstance(data, dict) and data.get("format") == RUN_FORMAT and isinstance(data.get("spec"), dict):
        data = {"format": CONFIG_FORMAT, "version": 1, "spec": data["spec"]}  # a run's run.json
    if not isinstance(data, dict) or data.get("format") != CONFIG_FORMAT:
        raise bad(f"is not a run config (no \"format\": \"{CONFIG_FORMAT}\"); write one with "
                  f"'studio train … --print-config' or the Train page's Export run config…")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= CONFIG_VERSION:
        raise bad(f"has config version {version!r}; this Generative Studio reads version {CONFIG_VERSION}"
                  + (" (update the app)" if isinstance(version, int) and version > CONFIG_VERSION else ""))
    if unknown := sorted(set(data) - {"format", "version", "spec"}):
        raise bad(f"has unknown field {unknown[0]!r}")
    fields = {name: (check, name == "family") for name, (check, _) in SPEC_FIELDS.items()}
    try:
        raw = check_fields(data.get("spec"), fields, "spec", known_only=True)
    except SchemaError as exc:
        raise bad(str(exc)) from None
    try:
        return TrainSpec(**raw).resolved()
    except (ValueError, TypeError) as exc:
        raise bad(f"spec: {exc}") from None
