"""What a run folder's files may hold: the one schema for ``run.json``, its training spec,
``checkpoints/latest.json``, a ``.safetensors`` header and a ``state.pt``.

Every field read from a run folder passes through here, so a wrong type or an absurd value
(a ``version`` that is a string, a ``family`` that is a list, ``image_shape [1e8, 32, 32]``)
becomes one ``SchemaError`` line naming the file and the field, before anything is computed
or allocated from it. Fields this version doesn't know are kept as they are (newer runs
may add some), but never read.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any, Callable

from .fsio import UnsafeFile

RUN_FORMAT = "generative-studio-run"
RUN_VERSION = 1
MAX_PIXELS = 1 << 22  # channels × height × width of one image (2048×2048 RGB is 12.6 M: far past any model here)
MAX_STEP = 10 ** 12


class SchemaError(ValueError):
    """A field of a run folder's file has the wrong type or an impossible value."""


class RunError(ValueError):
    """A run folder is missing, malformed, not one of ours, or busy: one line saying which."""


class RunWriteError(RunError, OSError):
    """Writing the run folder failed (a full disk, a lost drive); the message says what is intact."""


@contextlib.contextmanager
def refusing(prefix: str = ""):
    """Turn the checks' errors (a bad field, an unsafe file) into one RunError line."""
    try:
        yield
    except (SchemaError, UnsafeFile) as exc:
        raise RunError(f"{prefix}{exc}") from None


Check = Callable[[Any], Any]  # returns the value (perhaps normalised) or raises _Bad(reason)


class _Bad(Exception):
    pass


def _shown(value: Any) -> str:
    text = json.dumps(value, default=lambda v: type(v).__name__) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(lo: int = 0, hi: int = MAX_STEP) -> Check:
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Bad("must be a whole number")
        if not lo <= v <= hi:
            raise _Bad(f"must lie in {lo}…{hi}")
        return v
    return check


def number(lo: float = -math.inf, hi: float = math.inf, nullable: bool = False) -> Check:
    def check(v):
        if v is None and nullable:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _Bad("must be a finite number" + (" or null" if nullable else ""))
        if not lo <= v <= hi:
            raise _Bad(f"must lie in {lo:g}…{hi:g}")
        return v
    return check


def text(max_len: int = 4096, choices: tuple[str, ...] | None = None, nullable: bool = False) -> Check:
    def check(v):
        if v is None and nullable:
            return v
        if not isinstance(v, str) or len(v) > max_len or "\0" in v:
            raise _Bad(f"must be a string of at most {max_len} characters" + (" or null" if nullable else ""))
        if choices is not None and v not in choices:
            raise _Bad(f"must be one of {', '.join(choices)}")
        return v
    return check


def mapping(values: Check | None = None, nullable: bool = False) -> Check:
    def check(v):
        if v is None and nullable:
            return v
        if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
            raise _Bad("must be a JSON object" + (" or null" if nullable else ""))
        if values is not None:
            for key, item in v.items():
                try:
                    values(item)
                except _Bad as exc:
                    raise _Bad(f"entry {key!r} {exc}") from None
        return v
    return check


def listing(item: Check, max_len: int = 100_000, nullable: bool = False) -> Check:
    def check(v):
        if v is None and nullable:
            return v
        if not isinstance(v, list) or len(v) > max_len:
            raise _Bad(f"must be a list of at most {max_len} items" + (" or null" if nullable else ""))
        for i, x in enumerate(v):
            try:
                item(x)
            except _Bad as exc:
                raise _Bad(f"item {i} {exc}") from None
        return v
    return check


def _image_shape(v):
    listing(integer(1, 1 << 16), max_len=3)(v)
    if len(v) != 3 or not (1 <= v[0] <= 4 and 4 <= v[1] <= 2048 and 4 <= v[2] <= 2048):
        raise _Bad("must be [channels 1…4, height 4…2048, width 4…2048]")
    if v[0] * v[1] * v[2] > MAX_PIXELS:
        raise _Bad(f"describes images of more than {MAX_PIXELS:,} values")
    return v


# name: (check, required). The training spec's own ranges (steps ≥ 1, lr in (0, 1], …) are
# TrainSpec.resolved()'s; here only what must hold before it can be built.
RUN_FIELDS: dict[str, tuple[Check, bool]] = {
    "format": (text(64), True),
    "version": (integer(1, 1_000_000), True),
    "name": (text(255), False),
    "created": (text(64), False),
    "updated": (text(64), False),
    "step": (integer(), False),
    "status": (text(32), False),
    "family": (text(64), True),
    "data": (text(), True),
    "image_shape": (_image_shape, True),
    "num_classes": (integer(0, 100_000), False),
    "label_names": (listing(text(1024), nullable=True), False),
    "dataset": (mapping(nullable=True), False),
    "spec": (mapping(), False),
    "options": (mapping(), False),
    "target_step": (integer(), False),
    "versions": (mapping(nullable=True), False),
    "command": (listing(text(), nullable=True), False),
    "device": (text(64, nullable=True), False),
    "precision": (text(64, nullable=True), False),
    "error": (text(100_000, nullable=True), False),
    "evaluation": (mapping(number(nullable=True), nullable=True), False),
    "divergences": (integer(0, 1_000_000), False),
    "resumes": (listing(mapping(), max_len=10_000), False),
}

SPEC_FIELDS: dict[str, tuple[Check, bool]] = {
    "family": (text(64), True),
    "data": (text(), True),
    "steps": (integer(1), True),
    "batch_size": (integer(1, 1 << 16), True),
    "lr": (number(0, 1), True),
    "seed": (integer(0, 2 ** 63 - 1), False),
    "device": (text(16), False),
    "precision": (text(16), False),
    "preset": (text(64, nullable=True), False),
    "options": (mapping(), False),
    "data_options": (mapping(), False),
    "checkpoint_every": (integer(1), False),
    "preview_every": (integer(0), False),
}

LATEST_FIELDS: dict[str, tuple[Check, bool]] = {
    "step": (integer(), True),
    "weights": (text(255), True),
    "state": (text(255, nullable=True), False),
}

SAMPLER_FIELDS: dict[str, tuple[Check, bool]] = {
    "epoch": (integer(), True), "position": (integer(), True), "seed": (integer(0, 2 ** 63 - 1), True)}


def check_fields(obj: Any, fields: dict[str, tuple[Check, bool]], where: str, known_only: bool = False) -> dict:
    """``obj`` if it is an object whose fields pass ``fields``; SchemaError naming ``where`` and
    the field otherwise. ``known_only``: fields not listed are errors too."""
    if not isinstance(obj, dict):
        raise SchemaError(f"{where} must hold a JSON object, not {type(obj).__name__}")
    for name, (check, required) in fields.items():
        if name not in obj:
            if required:
                raise SchemaError(f"{where} lacks {name!r}")
            continue
        try:
            check(obj[name])
        except _Bad as exc:
            raise SchemaError(f"{where}: {name!r} {exc} (got {_shown(obj[name])})") from None
    if known_only and (extra := sorted(set(obj) - set(fields))):
        raise SchemaError(f"{where} has unknown field {extra[0]!r}")
    return obj


def check_run_meta(meta: Any, where: str) -> dict:
    """run.json: the format marker first (a foreign file says so), then the version, then
    every field."""
    if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT:
        raise SchemaError(f"{where} is not a Generative Studio run (format marker missing)")
    version = meta.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > RUN_VERSION:
        raise SchemaError(f"{where} was written by a newer Generative Studio (run format {version}); "
                          f"update the app to open it")
    return check_fields(meta, RUN_FIELDS, where)


def safetensors_header(data: bytes) -> tuple[dict[str, Any], dict[str, dict]]:
    """(metadata, {tensor name: {"dtype", "shape", ...}}) of a .safetensors file's bytes,
    checked before any tensor is made (format: 8-byte little-endian header length, JSON).
    SchemaError says what is wrong (the caller names the file)."""
    if len(data) < 8:
        raise SchemaError("truncated (no safetensors header)")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8 or size > 100 * (1 << 20):
        raise SchemaError("truncated, or not a safetensors file")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise SchemaError("not a safetensors file (unreadable header)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SchemaError("unreadable metadata")
    for name, info in header.items():
        if not (isinstance(info, dict) and isinstance(info.get("shape"), list)
                and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in info["shape"])):
            raise SchemaError(f"tensor {name[:60]!r} has no valid shape")
    return metadata, header


STATE_FIELDS: dict[str, tuple[Check, bool]] = {
    "format": (text(64), True),
    "step": (integer(), True),
    "optimizers": (mapping(), True),
    "sampler": (mapping(), True),
    "rng": (mapping(), True),
    "elapsed": (number(0), False),
}


def check_state(state: Any, where: str, step: int) -> dict:
    """A training state as ``torch.load(weights_only=True)`` gave it: the fields a resume reads,
    the sampler's counters and the torch RNG state (a uint8 vector)."""
    import torch

    if not isinstance(state, dict) or state.get("format") != RUN_FORMAT:
        raise SchemaError(f"{where} is not a Generative Studio training state")
    check_fields(state, STATE_FIELDS, where)
    if state["step"] != step:
        raise SchemaError(f"{where} is the state of step {state['step']}, not of step {step}")
    check_fields(state["sampler"], SAMPLER_FIELDS, f"{where}: sampler")
    for key, value in state["rng"].items():
        if not (isinstance(value, torch.Tensor) and value.dtype == torch.uint8 and value.dim() == 1):
            raise SchemaError(f"{where}: rng {key!r} is not a random generator state")
    if "torch" not in state["rng"]:
        raise SchemaError(f"{where}: rng lacks 'torch'")
    return state
