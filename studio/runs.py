"""The run folder (a contract; see the architecture guide):

    run.json          family, hyperparameters, dataset spec, seed, versions, status
    metrics.jsonl     one JSON object per logged step, appended and flushed
    checkpoints/      step-XXXXXXX.safetensors (weights, incl. EMA) + step-XXXXXXX.state.pt
                      (optimizer/progress state, loadable with torch.load(weights_only=True))
                      + latest.json pointing at the newest complete pair
    samples/          PNG grids
    .lock             the OS lock of the process training the run (its pid inside)

A run folder is a trust boundary (someone else's run, a synced or downloaded folder): every
field read from it passes one schema (``studio.run_schema``), every path read from it is a
plain name inside it, every file read is a regular file of bounded size (``studio.fsio``),
and loading never unpickles code. Every file is written to an exclusively created temporary
name and ``os.replace``d, so a crash or a full disk never leaves a half-written file, and no
write or deletion follows a link out of the folder. One process writes a run at a time: it
holds the folder's lock (``Run.lock_for_writing``), which dies with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # torch is imported where a model is loaded: listing runs needs none (the window's first paint)
    import torch

from .fsio import (LOCK_NAME, TEMP_SUFFIX, GiB, MiB, FolderLock, UnsafeFile, os_reason,  # noqa: F401
                   atomic_write_bytes, atomic_write_json, lock_holder, open_append, plain_name, read_regular,
                   real_subdir, regular_files, remove_temp_files)
from .run_checkpoints import CHECKPOINTS_KEPT, CheckpointFiles  # noqa: F401
from .run_schema import (RUN_FORMAT, RUN_VERSION, SPEC_FIELDS, RunError, RunWriteError,  # noqa: F401
                         SchemaError, check_fields, check_run_meta, refusing)

LIMITS = {"run.json": 16 * MiB, "metrics": 1 * GiB}


def default_runs_root() -> Path:
    env = os.environ.get("STUDIO_RUNS_DIR")
    return Path(env).expanduser() if env else Path.home() / "generative-studio" / "runs"


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _loads(text: str) -> Any:
    """JSON where NaN, Infinity and overflowing numbers (written by older versions) read as None."""
    return json.loads(text, parse_constant=lambda _: None, parse_float=lambda s: _finite(float(s)))


def metrics_record(line: bytes) -> dict[str, Any] | None:
    """One line of metrics.jsonl as a record (an object with a whole-number ``step``; non-finite
    numbers read as None), or None for a torn, undecodable or foreign line."""
    try:
        record = _loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if isinstance(record, dict) and isinstance(record.get("step"), int) and not isinstance(record["step"], bool):
        return record
    return None


class Run(CheckpointFiles):
    def __init__(self, path: str | os.PathLike, meta: dict[str, Any]):
        self.path = Path(path)
        self.meta = meta
        self._metrics_file = None
        self._lock: FolderLock | None = None
        self._spec = None
        self._made: bool | None = None  # create(): whether it made the folder (None: an opened run)

    # --- create / open --------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, meta: dict[str, Any], files: dict[str, bytes] | None = None) -> "Run":
        """A new run folder, locked for writing by this process, with ``files`` ({plain name:
        bytes}, e.g. a folder dataset's skipped.txt) beside run.json. If anything can't be written
        (a full disk, or Ctrl-C meanwhile), what was made is removed again; RunWriteError says why."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise RunError(f"run folder {path} already exists and is not empty; "
                           f"choose another --run-dir or resume it with 'studio resume {path}'")
        meta = {"format": RUN_FORMAT, "version": RUN_VERSION, "name": path.name,
                "created": _now(), "updated": _now(), "step": 0, "status": "created", **meta}
        run = cls(path, meta)
        run._made = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
            run.lock_for_writing()
            run.save_meta()  # run.json first: a folder holding anything else is also a run
            for name in ("checkpoints", "samples"):
                real_subdir(path, name, create=True)
            for name, data in (files or {}).items():
                atomic_write_bytes(path / plain_name(name, "a run file's name"), data)
        except BaseException as exc:  # a full disk, or Ctrl-C in the middle: nothing half-made is left
            run._remove_created()
            if not isinstance(exc, OSError) or isinstance(exc, RunError):
                raise
            raise RunWriteError(f"can't create the run folder {path} ({os_reason(exc)}); nothing was kept: choose "
                                f"a folder you can write to (--run-dir, or the STUDIO_RUNS_DIR variable for the "
                                f"window)") from None
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Run":
        """Read a run folder (no lock: readers work while it trains). RunError on anything that
        is not a sound run."""
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"run folder {path} does not exist")
        meta_path = path / "run.json"
        try:
            data = read_regular(meta_path, LIMITS["run.json"])
        except FileNotFoundError:
            raise RunError(f"{path} is not a run folder (no run.json)") from None
        except UnsafeFile as exc:
            raise RunError(str(exc)) from None
        except OSError as exc:
            raise RunError(f"cannot read {meta_path}: {exc.strerror or exc}") from None
        try:
            meta = _loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise RunError(f"{meta_path} is not valid JSON ({str(exc)[:120]})") from None
        with refusing():
            check_run_meta(meta, str(meta_path))
        return cls(path, meta)

    # --- metadata -------------------------------------------------------------------
    name = property(lambda self: self.meta.get("name") or self.path.name)
    family = property(lambda self: self.meta["family"])
    step = property(lambda self: int(self.meta.get("step", 0)))

    @property
    def steps_left(self) -> int:
        """Steps from the run's step to the total its last train or resume aimed at (run.json's
        ``target_step``): > 0 when it ended early (stopped, diverged, interrupted, failed), 0 once
        it reached that total or when none is recorded. A resume offers these first."""
        return max(0, int(self.meta.get("target_step") or 0) - self.step)

    @property
    def status(self) -> str:
        """run.json's status, except that a "running" run no process holds is "interrupted"."""
        status = self.meta.get("status", "unknown")
        return "interrupted" if status == "running" and self.writer_pid() is None else status

    def writer_pid(self) -> int | None:
        """The pid of the process training this run (0 if unknown), or None."""
        return lock_holder(self.path)

    def save_meta(self, **updates: Any) -> None:
        """Write run.json with ``updates``; its ``updated`` time is now unless given."""
        self.meta.update({"updated": _now(), **updates})
        atomic_write_json(self.path / "run.json", _finite(self.meta))

    def spec(self):
        """The run's TrainSpec, checked against the schema and TrainSpec's own rules (RunError)."""
        if self._spec is None:
            self._spec = spec_from_meta(self.meta, str(self.path / "run.json"))
        return self._spec

    def dataset(self, split: str = "train"):
        """The images the run trained on ("train"), or its held-out ones ("test"; None where there
        are none). See ``run_dataset``."""
        return run_dataset(self.spec(), split)

    # --- the write lock -------------------------------------------------------------
    def lock_for_writing(self) -> FolderLock:
        """Take the folder's lock until ``close()`` (or this process's end; usable as a context
        manager) and remove temporary files a killed writer left. RunError naming the holder's
        pid if another process (or another job here) is writing the run."""
        if self._lock is None or not self._lock.held:
            try:
                self._lock = FolderLock(self.path).acquire()
            except UnsafeFile as exc:
                raise RunError(str(exc)) from None
            except OSError as exc:
                raise RunError(f"cannot lock {self.path} for writing: {exc.strerror or exc}") from None
            for folder in (self.path, self.path / "checkpoints", self.path / "samples"):
                if folder == self.path or os.path.isdir(folder) and not os.path.islink(folder):
                    remove_temp_files(folder)
        return self._lock

    def check_folders(self) -> None:
        """RunError unless checkpoints/ and samples/ are real folders inside the run (or absent):
        a writer checks this before its first write, so a link out is refused, never followed."""
        for name in ("checkpoints", "samples"):
            self._folder(name)

    def discard(self) -> None:
        """Remove the run this process created (``create``) and still holds, leaving nothing
        behind: a new run stopped or cancelled before its first step has nothing worth keeping
        (the trainer calls this). What the run wrote goes — the files at its top (run.json,
        metrics.jsonl, skipped.txt, temporary files), ``checkpoints/`` and ``samples/``; links
        are removed, never followed — then the lock, then the folder if ``create`` made it (one
        given empty stays, empty; a foreign folder put inside keeps it). RunError for a run this
        process did not create or no longer holds (an opened run is never discarded)."""
        if self._made is None or self._lock is None or not self._lock.held:
            raise RunError(f"{self.path} was not created by this process: it is not discarded")
        self._remove_created()

    def _remove_created(self) -> None:
        if self._metrics_file is not None:
            self._metrics_file.close()
            self._metrics_file = None
        held = self._lock is not None and self._lock.held
        try:
            entries = list(os.scandir(self.path)) if held else []
        except OSError:  # gone already (deleted by hand meanwhile)
            entries = []
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in ("checkpoints", "samples") or entry.name.endswith(TEMP_SUFFIX):
                        shutil.rmtree(entry.path)  # never follows a link inside
                elif entry.name != LOCK_NAME:
                    os.unlink(entry.path)
        self.close()
        if held:
            with contextlib.suppress(OSError):
                os.unlink(self.path / LOCK_NAME)
        if self._made:
            with contextlib.suppress(OSError):
                self.path.rmdir()

    def close(self) -> None:
        """Close the metrics file and give up the write lock."""
        if self._metrics_file is not None:
            self._metrics_file.close()
            self._metrics_file = None
        if self._lock is not None:
            self._lock.release()

    # --- metrics --------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def append_metrics(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records (non-finite numbers become null) and flush."""
        text = "".join(json.dumps(_finite(r), allow_nan=False) + "\n" for r in records)
        if self._metrics_file is None:
            with refusing():
                self._metrics_file = open_append(self.metrics_path)
            if self._metrics_file.tell() and not _ends_with_newline(self.metrics_path):
                text = "\n" + text  # a torn last line stays a line of its own, never glued to ours
        self._metrics_file.write(text)
        self._metrics_file.flush()

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every record that reads as an object with a whole-number ``step``; torn, undecodable or
        foreign lines are skipped. Non-finite numbers read as None."""
        try:
            data = read_regular(self.metrics_path, LIMITS["metrics"])
        except FileNotFoundError:
            return []
        except UnsafeFile as exc:
            raise RunError(str(exc)) from None
        except OSError as exc:
            raise RunError(f"cannot read {self.metrics_path}: {exc.strerror or exc}") from None
        return [record for line in data.split(b"\n") if (record := metrics_record(line)) is not None]

    def truncate_metrics(self, step: int) -> None:
        """Keep only the records up to ``step`` (the checkpoint a resume starts from; 0: none), so
        a resumed run continues one clean curve."""
        if self._metrics_file is not None:
            self._metrics_file.close()
            self._metrics_file = None
        kept = [r for r in self.read_metrics() if r["step"] <= step]
        data = "".join(json.dumps(_finite(r), allow_nan=False) + "\n" for r in kept).encode()
        with contextlib.suppress(OSError, UnsafeFile):
            if read_regular(self.metrics_path, LIMITS["metrics"]) == data:
                return  # nothing to drop: the file stays as it was (a resume stopped before its first step)
        atomic_write_bytes(self.metrics_path, data)

    # --- samples --------------------------------------------------------------------
    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    def sample_files(self) -> list[Path]:
        """The PNG grids in samples/ (regular files only), by name."""
        try:
            folder = self._folder("samples")
        except RunError:
            return []
        return regular_files(folder, "*.png") if folder.is_dir() else []

    def latest_sample(self) -> Path | None:
        samples = self.sample_files()
        return samples[-1] if samples else None

    def write_sample(self, name: str, grid, scale: int = 1) -> Path:
        """Write a uint8 (H, W, C) grid as samples/NAME atomically, inside the real folder."""
        from .imaging import save_png

        folder = self._folder("samples", create=True)
        private = Path(tempfile.mkdtemp(dir=folder, prefix=f".{plain_name(name, 'a sample name')}.", suffix=".tmp"))
        try:
            os.replace(save_png(grid, private / name, scale=scale), folder / name)
        finally:
            shutil.rmtree(private, ignore_errors=True)
        return folder / name


def spec_from_meta(meta: dict[str, Any], where: str = "run.json"):
    """The TrainSpec stored in a run's metadata, checked by the schema and ``TrainSpec.resolved``
    (the one place a run's spec is rebuilt). RunError naming the field otherwise."""
    from .specs import DEVICES, PRECISIONS, TrainSpec

    if "spec" not in meta:
        raise RunError(f"{where} has no training spec")
    raw = meta["spec"]
    with refusing():
        check_fields(raw, SPEC_FIELDS, f"{where}: spec", known_only=True)
    for key, allowed in (("device", DEVICES), ("precision", PRECISIONS)):
        if key in raw and raw[key] not in allowed:
            raise RunError(f"{where}: spec {key!r} must be one of {', '.join(allowed)} (got {raw[key]!r})")
    for key in ("family", "data"):
        if raw[key] != meta[key]:
            raise RunError(f"{where}: spec {key!r} is {raw[key]!r} but the run's {key} is {meta[key]!r}")
    spec = TrainSpec(**raw)
    try:  # device and precision are resolved where the run trains (another machine may differ)
        checked = dataclasses.replace(spec, device="cpu", precision="fp32").resolved()
    except (ValueError, TypeError) as exc:
        raise RunError(f"{where}: spec: {exc}") from None
    return dataclasses.replace(checked, device=spec.device, precision=spec.precision)


def run_dataset(spec, split: str = "train"):
    """The one rule for a run's images. "train": what it trains on (DatasetError / ValueError if
    that can't be loaded); "test": the held-out split, or None where there is none (a folder's
    "test" split would overlap its training images; some datasets have no test split)."""
    from .specs import load_training_data

    if split != "test":
        return load_training_data(spec, split)
    if spec.data.startswith("folder:"):
        return None
    try:
        return load_training_data(spec, "test")
    except (ValueError, OSError):
        return None


def scan_runs(root: str | os.PathLike | None = None) -> tuple[list["Run"], list[tuple[Path, str]]]:
    """(the runs under ``root``, newest first; [(folder, reason)] of folders holding a run.json
    that is not a sound run). One bad folder never hides the others."""
    root = Path(root) if root is not None else default_runs_root()
    runs, damaged = [], []
    try:
        children = sorted(root.iterdir()) if root.is_dir() else []
    except OSError:
        children = []
    for child in children:
        try:
            if not (child.is_dir() and os.path.lexists(child / "run.json")):
                continue
            runs.append(Run.open(child))
        except (RunError, OSError) as exc:
            damaged.append((child, str(exc)))
    return sorted(runs, key=lambda r: r.meta.get("updated", ""), reverse=True), damaged


def list_runs(root: str | os.PathLike | None = None) -> list[Run]:
    """Every readable run under ``root``, newest first; unreadable folders are skipped
    (``scan_runs`` also says which and why)."""
    return scan_runs(root)[0]


def demo_runs_root() -> Path:
    """The bundled demo runs (``resources/models/<name>/``, complete run folders trained with
    the CLI), opened read-only by the explorer and the viewer at first launch."""
    from .resources import resource_path

    return resource_path("models")


def list_model_runs(root: str | os.PathLike | None = None, with_demos: bool = True) -> list[Run]:
    """Runs with a checkpoint (the user's, newest first, then the bundled demos), i.e. the
    runs a page can open a model from."""
    runs = list_runs(root) + (list_runs(demo_runs_root()) if with_demos else [])
    usable = []
    for run in runs:
        try:
            if run.latest_checkpoint() is not None:
                usable.append(run)
        except RunError:
            continue
    return usable


def load_model(run: Run, device: str | torch.device = "cpu"):
    """The run's model with its latest weights, ready to sample (eval mode)."""
    from .models import build_model

    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        raise RunError(f"run {run.path} has no checkpoint yet; train it first")
    try:
        model = build_model(run.family, run.meta.get("options", {}), tuple(run.meta["image_shape"]),
                            int(run.meta.get("num_classes", 0)))
    except (ValueError, TypeError) as exc:
        raise RunError(f"run {run.path}: {exc}") from None
    weights = run.load_weights(checkpoint)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise RunError(f"{checkpoint['weights']} does not match the {run.family} model described in "
                       f"run.json ({first})") from None
    return model.to(device).eval()


def _ends_with_newline(path: Path) -> bool:
    with contextlib.suppress(OSError), open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"
    return True


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
