"""How many torch threads a training job uses, chosen and kept up to date while it trains.

Why: OpenMP threads wait for each other at the end of every parallel op, so a torch thread
that shares its core with a busy foreign process holds up all the others. On 2 cores beside
one busy process, 2 threads trained the VAE 7× slower than 1 thread (issue 20); on a quiet
machine 2 threads are ~1.5× faster than 1. No fixed count is right for a laptop on which
other programs come and go.

The policy (``ThreadTuner``), a hill climb on the measured step time:

- **start** at the number of cores no other process is using (``CpuSampler``, measured
  while the job sets up), at least 1;
- **measure** the median step time over windows of ≥ ``window_s`` seconds (and ≥
  ``min_steps`` steps; the first step, and the first after adding threads, is not counted);
- **probe** now and then: switch to n−1 (or n+1) threads for one window and keep whichever
  count gave the shorter median step (by ``margin``); a probe is abandoned after a single
  step slower than ``abort`` × the current median. After a failed probe the next waits twice
  as long (``interval_s`` doubling up to ``max_interval_s``); after a switch it comes at once,
  in the same direction. Going back after a failed probe re-measures n ("and back"): if that
  median has moved by more than ``drift``, the conditions changed and a probe follows;
- **n+1 is tried only when a core looks free** (the sampler's measure of the last window),
  except once per ``max_interval_s`` (a niced or bursty neighbour may leave more than it seems).

``observe(seconds)`` is the only input: the training loop passes each step's duration, and
those durations are the tuner's clock (training time), so the logic is pure and tested with
made-up durations. ``--threads N`` (``FixedThreads``) turns all this off; so does a non-CPU
device. A run trained with adaptive threads is reproducible up to float rounding (thread
count changes reduction order); one with fixed threads is bit for bit.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Callable

from .devices import usable_cores


def _set_torch_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def _get_torch_threads() -> int:
    import torch

    return torch.get_num_threads()


class FixedThreads:
    """A fixed count (``--threads N``), or ``None``: leave torch's count alone (GPU jobs)."""

    def __init__(self, threads: int | None, set_threads: Callable[[int], None] = _set_torch_threads,
                 get_threads: Callable[[], int] = _get_torch_threads):
        self.threads = threads
        self.history: list[tuple[float, int, str]] = []
        self._set, self._get, self._before = set_threads, get_threads, None

    def start(self) -> None:
        if self.threads:
            self._before = self._get()
            self._set(self.threads)
            self.history.append((0.0, self.threads, "fixed"))

    def observe(self, seconds: float) -> None:
        pass

    def close(self) -> None:
        """Put back the count that was set before ``start`` (the thread may run other work)."""
        if self._before is not None:
            self._set(self._before)
            self._before = None


class ThreadTuner(FixedThreads):
    """The adaptive count (module docstring). ``free_cores()`` returns how many of this
    process's cores other processes left free since its previous call (a float, or None
    when unknown); ``history`` lists ``(training seconds, threads, reason)`` for every change."""

    def __init__(self, max_threads: int, free_cores: Callable[[], float | None] = lambda: None, *,
                 set_threads: Callable[[int], None] = _set_torch_threads,
                 get_threads: Callable[[], int] = _get_torch_threads, window_s: float = 0.4,
                 min_steps: int = 2, interval_s: float = 5.0, max_interval_s: float = 120.0,
                 margin: float = 0.05, drift: float = 1.3, abort: float = 2.0):
        if max_threads < 1:
            raise ValueError(f"max_threads must be at least 1 (got {max_threads})")
        super().__init__(None, set_threads, get_threads)
        self.max_threads, self._free = max_threads, free_cores
        self.window_s, self.min_steps, self.margin, self.drift, self.abort = window_s, min_steps, margin, drift, abort
        self.base_interval_s, self.max_interval_s = interval_s, max_interval_s
        self.clock = 0.0  # training seconds observed so far
        self.median: float | None = None  # median step seconds at the current count
        self._window: list[float] = []
        self._skip = 1  # steps not counted: the first of the run, the first after a change
        self._probe: tuple[int, int] | None = None  # (count before, direction) while probing
        self._interval = interval_s
        self._next_probe = 0.0  # the first probe follows the first window: pick the count early
        self._last_up = 0.0
        self._prefer = -1  # the direction a scheduled probe tries first
        self._climb = 0  # after a switch: keep going this way at the next window, if possible

    def start(self, threads: int | None = None) -> None:
        """Set the first count: ``threads``, else the cores that look free, else all."""
        if threads is None:
            free = self._free()
            threads = self.max_threads if free is None else round(free)
        self._before = self._get()
        self._change(max(1, min(self.max_threads, threads)), "start")

    def observe(self, seconds: float) -> None:
        self.clock += seconds
        if self._probe is not None and self.median is not None and seconds > self.abort * self.median:
            self._end_probe(False)  # clearly slower: no need to finish the window
            return
        if self._skip:
            self._skip -= 1
            return
        self._window.append(seconds)
        total = sum(self._window)
        if not ((len(self._window) >= self.min_steps and total >= self.window_s) or total >= 4 * self.window_s):
            return
        median, self._window = statistics.median(self._window), []
        free = self._free()  # the free cores over this window (read every window to restart the count)
        if self._probe is not None:
            self._end_probe(median < self.median * (1 - self.margin), median)
        else:
            self._steady(median, free)

    # --- internals -----------------------------------------------------------------------------------
    def _steady(self, median: float, free: float | None) -> None:
        before, self.median = self.median, median
        if before is None:  # the first window: nothing to compare yet, but a probe is due at once
            before = median
        can_up = self.threads < self.max_threads and (
            free is None or free >= self.threads + 0.5 or self.clock - self._last_up >= self.max_interval_s)
        if median > before * self.drift and self.threads > 1:  # slower: maybe someone took a core
            self._begin_probe(-1)
        elif median * self.drift < before and can_up:  # faster: maybe a core came free
            self._begin_probe(+1)
        elif self.clock >= self._next_probe:
            climb, self._climb = self._climb, 0
            for d in (climb,) if climb else (self._prefer, -self._prefer):
                if (d > 0 and can_up) or (d < 0 and self.threads > 1):
                    self._begin_probe(d)
                    return
            self._next_probe = self.clock + self._interval

    def _begin_probe(self, direction: int) -> None:
        self._probe = (self.threads, direction)
        if direction > 0:
            self._last_up = self.clock
        self._change(self.threads + direction, "probe")

    def _end_probe(self, better: bool, median: float | None = None) -> None:
        before, direction = self._probe
        self._probe = None
        if better:
            self.median = median
            self._interval = self.base_interval_s
            self._next_probe, self._climb = self.clock, direction  # keep climbing this way at the next window
            self.history[-1] = (self.history[-1][0], self.threads, "faster")
            return
        self._interval = min(2 * self._interval, self.max_interval_s)
        self._next_probe = self.clock + self._interval
        self._prefer = -direction  # alternate when both ways are open
        self._change(before, "back")

    def _change(self, threads: int, reason: str) -> None:
        # the first step is not counted at the start and with more threads (their pool wakes up:
        # measured up to 1.8x a normal step); with fewer it is as fast as the next ones
        self._skip = 1 if reason == "start" or threads > self.threads else 0
        self.threads = threads
        self._set(threads)
        self._window = []
        self.history.append((self.clock, threads, reason))


class CpuSampler:
    """``sampler()`` → how many of this process's cores other processes left free since the
    previous call: usable cores − (all busy CPU time on them − this process's CPU time) /
    wall time. When this process is not niced, niced processes' time is not counted (they
    yield to it). None when psutil cannot tell or less than ``min_s`` passed."""

    def __init__(self, min_s: float = 0.02, clock: Callable[[], float] = time.monotonic):
        import psutil

        self._psutil, self._clock, self.min_s = psutil, clock, min_s
        self._process = psutil.Process()
        try:
            self._cpus = sorted(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows: all of them
            self._cpus = None
        try:
            self._count_nice = self._process.nice() > 0
        except Exception:
            self._count_nice = True
        self._last = self._read()

    def _read(self) -> tuple[float, float, float] | None:
        try:
            per_cpu = self._psutil.cpu_times(percpu=True)
            mine = self._process.cpu_times()
        except Exception:
            return None
        chosen = per_cpu if self._cpus is None else [per_cpu[i] for i in self._cpus if i < len(per_cpu)]
        busy = sum(self._busy(t) for t in chosen)
        return self._clock(), busy, mine.user + mine.system

    def _busy(self, t) -> float:
        idle = t.idle + getattr(t, "iowait", 0.0)
        guest = getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)  # already inside user / nice
        nice = 0.0 if self._count_nice else getattr(t, "nice", 0.0)
        return sum(t) - idle - guest - nice

    def __call__(self) -> float | None:
        now = self._read()
        if now is None or self._last is None:
            self._last = now
            return None
        (t0, busy0, mine0), (t1, busy1, mine1) = self._last, now
        if t1 - t0 < self.min_s:
            return None  # too short to tell; keep counting from the same start
        self._last = now
        others = max(0.0, (busy1 - busy0) - (mine1 - mine0)) / (t1 - t0)
        return max(0.0, usable_cores() - others)


def thread_policy(threads: int | None, device_type: str = "cpu") -> FixedThreads:
    """The policy of one training job: ``threads`` fixes the count (``--threads``); on a GPU
    torch's count is left alone; otherwise a ``ThreadTuner`` over all usable cores. Call
    ``start()`` just before the first step (the sampler counts from now until then),
    ``observe(seconds)`` after each step and ``close()`` at the end."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1 (got {threads})")
        return FixedThreads(threads)
    if device_type != "cpu":
        return FixedThreads(None)
    try:
        sampler = CpuSampler()
    except ImportError:  # psutil missing: no free-core hint, probing alone decides
        sampler = lambda: None  # noqa: E731
    return ThreadTuner(usable_cores(), sampler)
