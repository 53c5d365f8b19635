"""Following a run folder that another process is writing — rank 0 of a torchrun on a server, a
synced folder, another window — as its curves and previews grow.

``RunFollower.poll()`` returns what is new since the last poll (``FollowUpdate``): metric records
(``MetricsTail``: complete lines only — a torn last line is waited for, never an error; the file
read again from its start when it shrinks or is replaced, as a resume's cut-back does), new
preview grids in samples/, and run.json when it changed. ``follow_job(path)`` is the same as a
protocol job (``studio.engine.jobs``) that polls until cancelled, reporting each record through
``Reporter.metrics``, each new grid through ``Reporter.preview``, the run's step through
``Reporter.progress`` and a ``FollowState`` (step, status, live, resets) as its partial result.

"Live": run.json says "running" and either a process here holds the folder's lock or the files
changed within ``LIVE_WINDOW_S`` (a synced folder's writer holds no lock this machine sees).
The run folder is a trust boundary: files are opened without following links, must be regular,
and a poll reads at most ``READ_CHUNK`` bytes of metrics (a huge file is caught up over polls).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsio import UnsafeFile, lock_holder, open_regular, real_subdir, regular_files
from ..runs import Run, RunError, metrics_record
from .control import Control
from .jobs import Job
from .reporting import Progress, Reporter

LIVE_WINDOW_S = 60.0
READ_CHUNK = 8 << 20  # bytes of metrics.jsonl read per poll at most
LINE_LIMIT = 1 << 20  # a "line" longer than this without a newline is dropped, not buffered
SAMPLE_STEP = re.compile(r"^step-(\d{1,12})\.png$")
NOT_METRICS = ("step", "time", "epoch")  # a record's bookkeeping, not a curve


class MetricsTail:
    """The records appended to a metrics.jsonl since the last ``read()``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.offset = 0  # bytes consumed (complete lines and the buffered torn tail)
        self.tail = b""  # bytes after the last newline: a line still being written
        self.identity: tuple[int, int] | None = None  # (device, inode) of the file being read
        self.changed_ns = 0  # the file's last modification seen

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """(new records in file order, reset): ``reset`` when the file was cut back or replaced
        since the last read, so the records start again from its beginning. UnsafeFile for a
        link or anything but a regular file."""
        try:
            fd, info = open_regular(self.path)
        except FileNotFoundError:
            reset = self.identity is not None  # removed: whatever comes next starts afresh
            self.identity, self.offset, self.tail = None, 0, b""
            return [], reset
        try:
            identity, reset = (info.st_dev, info.st_ino), False
            if identity != self.identity or info.st_size < self.offset:
                reset = self.identity is not None
                self.identity, self.offset, self.tail = identity, 0, b""
            self.changed_ns = info.st_mtime_ns
            data = os.pread(fd, min(READ_CHUNK, info.st_size - self.offset), self.offset) \
                if info.st_size > self.offset else b""
        finally:
            os.close(fd)
        self.offset += len(data)
        *lines, self.tail = (self.tail + data).split(b"\n")
        if len(self.tail) > LINE_LIMIT:
            self.tail = b""  # no record is this long; what follows up to the newline won't parse
        return [record for line in lines if (record := metrics_record(line)) is not None], reset


@dataclass
class FollowUpdate:
    records: list[dict[str, Any]] = field(default_factory=list)  # new metric records, in file order
    samples: list[tuple[int, Path]] = field(default_factory=list)  # new preview grids (step, path), by step
    meta: dict[str, Any] | None = None  # run.json, when it changed since the last poll
    reset: bool = False  # metrics.jsonl was cut back or replaced: ``records`` start from its beginning

    def __bool__(self) -> bool:
        return bool(self.records or self.samples or self.meta is not None or self.reset)


@dataclass(frozen=True)
class FollowState:
    """Where a followed run stands (``follow_job``'s partial result)."""

    step: int  # the newest step logged (or run.json's)
    target_step: int
    status: str  # run.json's status ("running", "finished", …; "" before run.json exists)
    live: bool
    records: int  # records read since the last reset
    resets: int  # times metrics.jsonl was cut back (each one restarts the curve)


class RunFollower:
    """Polls a run folder; ``poll()`` returns a ``FollowUpdate`` of what is new."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.metrics = MetricsTail(self.path / "metrics.jsonl")
        self.meta: dict[str, Any] = {}
        self.step = 0
        self.records = self.resets = 0
        self._meta_stamp: tuple | None = None
        self._samples: set[str] = set()
        self._changed = 0.0  # wall time of the newest change seen

    def poll(self) -> FollowUpdate:
        update = FollowUpdate()
        update.meta = self._read_meta()
        update.records, update.reset = self.metrics.read()
        if update.reset:  # cut back (a resume): the step is what the file and run.json now say
            self.resets += 1
            self.records, self.step = 0, int(self.meta.get("step", 0) or 0)
        self.records += len(update.records)
        self.step = max([self.step, *(record["step"] for record in update.records)])
        update.samples = self._new_samples()
        if update:
            self._changed = time.time()
        return update

    def state(self) -> FollowState:
        return FollowState(self.step, int(self.meta.get("target_step") or self.step or 0),
                           str(self.meta.get("status", "")), self.live(), self.records, self.resets)

    def live(self) -> bool:
        """Training now: run.json says "running" and a process holds the lock or the files changed
        within ``LIVE_WINDOW_S``."""
        if self.meta.get("status") != "running":
            return False
        newest = max(self._changed, self.metrics.changed_ns / 1e9)
        return lock_holder(self.path) is not None or time.time() - newest < LIVE_WINDOW_S

    def _read_meta(self) -> dict[str, Any] | None:
        """run.json when it changed (a damaged or half-synced one is skipped until it reads)."""
        try:
            info = os.stat(self.path / "run.json", follow_symlinks=False)
        except OSError:
            return None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp == self._meta_stamp:
            return None
        try:
            self.meta = Run.open(self.path).meta
        except RunError:
            return None
        self._meta_stamp = stamp
        self.step = max(self.step, int(self.meta.get("step", 0) or 0))
        return self.meta

    def _new_samples(self) -> list[tuple[int, Path]]:
        try:
            folder = real_subdir(self.path, "samples")
        except (UnsafeFile, OSError):
            return []
        if not folder.is_dir():
            return []
        found = {p.name: p for p in regular_files(folder, "step-*.png") if SAMPLE_STEP.match(p.name)}
        new = sorted((int(SAMPLE_STEP.match(name).group(1)), path) for name, path in found.items()
                     if name not in self._samples)
        self._samples = set(found)  # a removed grid (a resume's cut-back) may come again
        return new


def follow_job(path: str | os.PathLike, interval_s: float = 1.0, keep: int = 10) -> Job:
    """Follow the run at ``path`` until cancelled (``Control.cancel``/``stop``: the outcome is
    "cancelled"): every ``interval_s`` seconds, report the new records (``metrics``), the new
    grids (``preview``; of the grids already there at the start only the last ``keep``), and at
    every poll the step (``progress``) and the ``FollowState`` (``partial``)."""
    from PIL.Image import DecompressionBombError

    from ..imaging import read_grid_png

    def job(reporter: Reporter, control: Control) -> None:
        follower, first = RunFollower(path), True
        while True:
            control.check()
            update = follower.poll()
            for record in update.records:
                values = {k: float(v) for k, v in record.items() if k not in NOT_METRICS
                          and isinstance(v, (int, float)) and not isinstance(v, bool)}
                if values:
                    reporter.metrics(record["step"], values)
            for step, png in update.samples[-keep:] if first else update.samples:
                try:
                    reporter.preview(step, read_grid_png(png))
                except (OSError, UnsafeFile, ValueError, DecompressionBombError):  # gone, or not a picture
                    continue
            # every poll, changed or not: a rate-limited reporter (the window's runner) delivers
            # what it held back from the last burst at the next call
            state = follower.state()
            reporter.progress(Progress(state.step, max(state.target_step, state.step)))
            reporter.partial(state)
            first = False
            _sleep(control, interval_s)

    return job


def _sleep(control: Control, seconds: float) -> None:
    """Wait ``seconds``, waking at once when the job is stopped."""
    end = time.monotonic() + seconds
    while not control.stopped and (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
