"""The Qt half of ``studio bench playground``: the Playground page in a window (offscreen without
a display) drawing each family live through the job runner, while a 10 ms UI timer measures how
late the UI thread gets to run (the lateness ``studio bench ui`` measures for training)."""

from __future__ import annotations

import statistics
import time

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication

TIMER_MS = 10


class _Lateness(QObject):
    def __init__(self):
        super().__init__()
        self.samples: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer(self, interval=TIMER_MS, timerType=Qt.PreciseTimer)
        self.timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self.samples.clear()
        self._last = time.perf_counter()
        self.timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.samples.append(max(0.0, now - self._last - TIMER_MS / 1000) * 1000)
        self._last = now


def _spin(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents(QEventLoop.AllEvents, 20)


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
    fps: dict[str, float] = {}
    try:
        for family in families:
            lesson = next(lesson for lesson in LESSONS if lesson.family == family)
            page.state.apply_lesson(lesson.key)
            page.start()
            _spin(app, 0.5)  # the first frames (lazy imports, first allocations) are not the steady state
            drawn, meter_start = page.frames_drawn, time.perf_counter()
            meter.start()
            _spin(app, seconds)
            meter.timer.stop()
            fps[family] = (page.frames_drawn - drawn) / (time.perf_counter() - meter_start)
            late += meter.samples
            handle = page.handle
            page.stop()
            handle.wait(5)
    finally:
        handle = page.handle
        page.shutdown()
        if handle is not None:
            handle.wait(5)
        page.deleteLater()
    q = statistics.quantiles(late, n=100) if len(late) > 1 else [0.0] * 99
    return {"p50_ms": q[49], "p99_ms": q[98], "max_ms": max(late, default=0.0), "page_fps": fps,
            "min_page_fps": min(fps.values()), "max_page_fps": max(fps.values()), "seconds_per_family": seconds}


def run(quick: bool = False, families: list[str] | None = None) -> dict:
    """``studio bench playground``: the core's frames/s (studio.bench.playground), then, unless
    ``quick``, the UI lateness while the page draws each family."""
    from ..bench import playground

    result = playground.run(quick=quick, families=families)
    if not quick:
        names = list(result["families"])
        ui = measure_ui(names, seconds=4.0)
        result["ui"] = ui
        print(f"UI lateness while the page draws: p50 {ui['p50_ms']:.2f} ms, p99 {ui['p99_ms']:.2f} ms, "
              f"max {ui['max_ms']:.1f} ms; the page drew {ui['min_page_fps']:.1f}–{ui['max_page_fps']:.1f} "
              f"frames/s (targets: p99 ≤ 16 ms, ≥ 20 frames/s)")
        result["meets_targets"] = result["meets_targets"] and ui["p99_ms"] <= 16 and ui["min_page_fps"] >= 20
    return result
