"""The Qt half of ``studio bench playground``: the Playground page in a window (offscreen without
a display) drawing each family live through the job runner, while a 10 ms UI timer measures how
late the UI thread gets to run (the lateness ``studio bench ui`` measures for training).

Where a late tick's time went, from the threads' CPU clocks over each tick: the UI thread's own
work (``ui_ms``: drawing, painting), the training thread running (``job_ms``: while it holds the
GIL the UI cannot run Python), and neither (``other_ms``: the process waited for a core, i.e.
other processes on a shared machine, or the GIL was held by a descheduled thread)."""

from __future__ import annotations

import os
import statistics
import threading
import time

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication

TIMER_MS = 10


LATE_MS = 16  # a tick this late is split into where its time went


def _job_clock() -> int | None:
    """The CPU clock of the running playground job's thread."""
    for thread in threading.enumerate():
        if thread.name.startswith("studio-playground") and thread.is_alive() and thread.ident:
            return time.pthread_getcpuclockid(thread.ident)
    return None


class _Lateness(QObject):
    def __init__(self):
        super().__init__()
        self.samples: list[float] = []
        self.busy: list[float] = []  # the UI thread's own CPU time per tick (ms)
        self.split = {"ui_ms": 0.0, "job_ms": 0.0, "other_ms": 0.0}
        self.timer = QTimer(self, interval=TIMER_MS, timerType=Qt.PreciseTimer)
        self.timer.timeout.connect(self._on_timer_timeout)

    def _clocks(self) -> tuple[float, float, float]:
        try:
            job = time.clock_gettime(self._job) if self._job is not None else 0.0
        except OSError:  # the job's thread ended
            job = 0.0
        return time.perf_counter(), time.thread_time(), job

    def start(self) -> None:
        self.samples.clear()
        self.busy.clear()
        self._job = _job_clock()
        self._last = self._clocks()
        self.timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        now = self._clocks()
        wall, ui, job = ((a - b) * 1000 for a, b in zip(now, self._last))
        self._last = now
        late = max(0.0, wall - TIMER_MS)
        self.samples.append(late)
        self.busy.append(ui)
        if late > LATE_MS:
            ui = min(ui, wall)
            job = min(max(job, 0.0), wall - ui)
            for key, value in (("ui_ms", ui), ("job_ms", job), ("other_ms", wall - ui - job)):
                self.split[key] += value


def _spin(seconds: float) -> None:
    """Run the event loop for ``seconds``, as the app's own ``exec`` does: the UI thread sleeps
    until an event comes. (A loop calling ``processEvents`` returns at once when nothing is
    pending, so it spun: half a core and the GIL taken from the training thread, measured; the
    page drew fewer frames in the bench than in the app.)"""
    loop = QEventLoop()
    QTimer.singleShot(round(1000 * seconds), loop.quit)
    loop.exec()


def measure_ui(families: list[str], seconds: float = 4.0) -> dict:
    """Per family (its lesson): the page plays for ``seconds``; returns lateness percentiles over
    all families (ms) and the frames per second the page drew for each."""
    from ..playground import LESSONS
    from .app import create_app
    from .panels.playground import PlaygroundPanel

    app = QApplication.instance() or create_app()
    page = PlaygroundPanel()
    page.resize(1170, 740)
    page.show()
    meter = _Lateness()
    late: list[float] = []
    busy: list[float] = []
    fps: dict[str, float] = {}
    emitted: dict[str, float] = {}
    try:
        for family in families:
            lesson = next(lesson for lesson in LESSONS if lesson.family == family)
            page.state.apply_lesson(lesson.key)
            page.start()
            _spin(0.5)  # the first frames (lazy imports, first allocations) are not the steady state
            drawn, made, meter_start = page.frames_drawn, page.job.frames, time.perf_counter()
            meter.start()
            _spin(seconds)
            meter.timer.stop()
            elapsed = time.perf_counter() - meter_start
            fps[family] = (page.frames_drawn - drawn) / elapsed
            emitted[family] = (page.job.frames - made) / elapsed
            late += meter.samples
            busy += meter.busy
            handle = page.handle
            page.stop()
            handle.wait(5)
    finally:
        handle = page.handle
        page.shutdown()
        if handle is not None:
            handle.wait(5)
        page.deleteLater()
    q = statistics.quantiles(late, n=100, method="inclusive") if len(late) > 1 else [0.0] * 99
    total = sum(meter.split.values()) or 1.0
    busy_q = statistics.quantiles(busy, n=100, method="inclusive") if len(busy) > 1 else [0.0] * 99
    return {"p50_ms": q[49], "p99_ms": q[98], "max_ms": max(late, default=0.0), "page_fps": fps, "job_fps": emitted,
            "min_page_fps": min(fps.values()), "max_page_fps": max(fps.values()), "seconds_per_family": seconds,
            "ui_busy_p99_ms": busy_q[98],
            "late_ticks": sum(v > LATE_MS for v in late), "ticks": len(late),
            "late_split": {k: round(v / total, 3) for k, v in meter.split.items()},
            "load_average_after": round(os.getloadavg()[0], 2)}


def run(quick: bool = False, families: list[str] | None = None) -> dict:
    """``studio bench playground``: the core's frames/s (studio.bench.playground), then, unless
    ``quick``, the UI lateness while the page draws each family."""
    from ..bench import playground

    result = playground.run(quick=quick, families=families)
    if not quick:
        names = list(result["families"])
        ui = measure_ui(names, seconds=4.0)
        result["ui"] = ui
        split = ui["late_split"]
        print("frames/s while training, per family: drawn by the page (made by the job) — " + ", ".join(
            f"{name} {ui['page_fps'][name]:.1f} ({ui['job_fps'][name]:.1f})" for name in names))
        print(f"UI lateness while the page draws: p50 {ui['p50_ms']:.2f} ms, p99 {ui['p99_ms']:.2f} ms, "
              f"max {ui['max_ms']:.1f} ms; the page drew {ui['min_page_fps']:.1f}–{ui['max_page_fps']:.1f} "
              f"frames/s (targets: p99 ≤ 16 ms, ≥ 20 frames/s)")
        print(f"the UI thread's own work per 10 ms tick: p99 {ui['ui_busy_p99_ms']:.1f} ms (the part the page "
              f"controls; the rest of a tick's lateness is waiting for the GIL or a core)")
        print(f"{ui['late_ticks']} of {ui['ticks']} ticks over {LATE_MS} ms late; their time: UI thread "
              f"{split['ui_ms']:.0%}, training thread {split['job_ms']:.0%}, neither (waiting for a core: "
              f"other processes) {split['other_ms']:.0%}")
        result["meets_targets"] = result["meets_targets"] and ui["p99_ms"] <= 16 and ui["min_page_fps"] >= 20
    return result
