"""The window side of ``studio bench ui`` (see studio/qt/bench_ui.py): drive a real window,
time a UI timer, account the UI thread's CPU time to the Train page's slots, and alternate
window training with a bare loop, quiet and beside busy processes."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

TIMER_MS = 10
# where the Train page's UI-thread time goes: (part, object path, method) — the methods are
# looked up per call, so wrapping the instance's attribute catches every call
SLOTS = [("metrics", "panel", "_on_handle_metrics_reported"), ("progress", "panel", "_on_handle_progressed"),
         ("progress", "controls", "_show"), ("curves", "plot", "redraw"), ("preview", "panel", "_on_handle_preview_ready")]
PAINTS = [("curves_paint", "pyqtgraph", "GraphicsView"), ("preview_paint", "studio.qt.widgets.image_view", "ImageView")]
PARTS = ["metrics", "progress", "curves", "curves_paint", "preview", "preview_paint", "other"]


class SlotClock:
    """UI-thread CPU seconds (``time.thread_time``) per part, counted for the outermost timed
    call only (a slot calling another timed method is counted once)."""

    def __init__(self):
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.longest: dict[str, float] = defaultdict(float)  # wall seconds of the longest call
        self._depth = 0

    def timed(self, part: str, function):
        def call(*args, **kwargs):
            self._depth += 1
            start, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth -= 1
                if not self._depth:
                    self.cpu[part] += time.thread_time() - start
                    self.calls[part] += 1
                    self.longest[part] = max(self.longest[part], time.perf_counter() - wall)
        return call

    def snapshot(self) -> dict[str, float]:
        return dict(self.cpu)


class WindowBench:
    def __init__(self, family: str, scratch: Path):
        from .app import create_app

        self.family = family
        self.app = create_app()
        QSettings.setDefaultFormat(QSettings.IniFormat)
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(scratch / "settings"))
        self.lateness: list[float] = []
        self.timer = QTimer(interval=TIMER_MS, timerType=Qt.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0
        self.clock = SlotClock()
        self._paints_timed = False

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - TIMER_MS / 1000))
        self._last = now

    def _spin(self, until=None, seconds: float = 600.0) -> None:
        """Run the real event loop for ``seconds``, or until ``until()`` holds (checked every 5 ms;
        without ``until`` nothing but the window runs)."""
        loop, deadline = QEventLoop(), time.perf_counter() + seconds
        check = QTimer(interval=5)

        def poll():
            if until is not None and until():
                loop.quit()
            elif time.perf_counter() > deadline:
                loop.quit()

        check.timeout.connect(poll)
        if until is not None:
            check.start()
        QTimer.singleShot(int(seconds * 1000) + 1, loop.quit)
        if until is None or not until():
            loop.exec()
        check.stop()
        if until is not None and not until():
            raise TimeoutError("the window did not reach the expected state")

    def _time_paints(self) -> None:
        """Time the paint events of the curves and the preview (class methods, so before the
        window exists: PySide binds a Python override when the object is made)."""
        import importlib

        if self._paints_timed:
            return
        self._paints_timed = True
        for part, module, name in PAINTS:
            cls = getattr(importlib.import_module(module), name)
            cls.paintEvent = self.clock.timed(part, cls.paintEvent)

    def measure(self, threads: int, rounds: int, seconds: float, busy: int = 0) -> list[dict]:
        """Train in the window with ``threads`` torch threads; ``rounds`` rounds of a window
        segment then a bare-loop segment (``seconds`` each), quiet and, with ``busy`` > 0,
        beside that many spinning processes (conditions alternate from round to round).
        One row per condition."""
        import torch

        from ..bench.contention import Spinners
        from ..bench.engine import bare_step_time
        from ..data import load_dataset
        from ..engine.devices import resolve_precision
        from .main_window import MainWindow

        self._time_paints()
        window = MainWindow(QSettings())
        window.resize(1440, 900)
        window.show()
        panel = window.train
        self._spin(lambda: not panel.setup.dataset.loading and panel.plot is not None)
        owners = {"panel": panel, "controls": panel.controls, "plot": panel.plot}
        for part, owner, name in SLOTS:
            setattr(owners[owner], name, self.clock.timed(part, getattr(owners[owner], name)))
        panel.setup.family.setCurrentText(self.family)
        panel.setup.training_form.editors["steps"].setValue(10_000_000)
        panel.threads = threads
        panel.setup.preview_interval = 10  # previews every few seconds, as in a short run
        batch = panel.setup.training_form.values()["batch_size"]
        precision = resolve_precision("auto", torch.device("cpu"))
        if panel.setup.device.currentData() != "auto" or not panel.start():
            raise RuntimeError(f"cannot start the benchmark run: {panel.setup.reason}")
        self._spin(lambda: panel.controls.last is not None and panel.controls.last.step >= 3)
        dataset = panel.setup.dataset
        data = load_dataset(dataset.spec, **dataset.data_options())
        conditions = ["quiet", "busy"] if busy else ["quiet"]
        got = {c: defaultdict(list) for c in conditions}
        main_threads = torch.get_num_threads()
        try:
            for r in range(rounds):
                for condition in conditions if r % 2 == 0 else conditions[::-1]:
                    with Spinners(busy if condition == "busy" else 0):
                        segment = self._window_segment(panel, batch, seconds)
                        panel.toggle_pause()
                        self._spin(lambda: panel.controls.message.text().startswith("Paused"))
                        torch.set_num_threads(threads)  # per thread: the bare loop runs in this one
                        steps = max(5, int(seconds * segment["images_per_s"] / batch))
                        bare = batch / bare_step_time(self.family, data, precision, batch, steps)
                        torch.set_num_threads(main_threads)
                        panel.toggle_pause()
                    for key, value in segment.items():
                        got[condition][key].append(value)
                    got[condition]["bare"].append(bare)
        finally:
            panel.stop()
            self._spin(lambda: not panel.busy)
            window.close()
            window.deleteLater()
            self.app.processEvents()
        return [_row(condition, threads, got[condition]) for condition in conditions]

    def _window_segment(self, panel, batch: int, seconds: float) -> dict:
        """The window as the user has it (only the event loop runs), in two halves: the first
        with the 10 ms lateness probe, the second without it, for the job's images/s and the UI
        thread's CPU seconds in all and per part (the probe itself costs the UI thread ~13 ms
        per second while a job trains: its wake-ups take the GIL from the training thread)."""
        self.lateness, self._last = [], time.perf_counter()
        self.timer.start()
        self._spin(seconds=seconds / 2)
        self.timer.stop()
        lateness = self.lateness[1:]
        first_step = panel.controls.last.step
        self._spin(lambda: panel.controls.last.step > first_step)  # a fresh reading to start from
        start_step, start = panel.controls.last.step, time.perf_counter()
        cpu0, parts0 = time.thread_time(), self.clock.snapshot()
        self.clock.longest.clear()
        self._spin(seconds=seconds / 2)
        mark = panel.controls.last.step
        self._spin(lambda: panel.controls.last.step > mark)  # end on a fresh reading too
        end_step, end = panel.controls.last.step, time.perf_counter()
        cpu, parts = time.thread_time() - cpu0, self.clock.snapshot()
        return {"images_per_s": (end_step - start_step) * batch / (end - start), "lateness": lateness,
                "wall": end - start, "cpu": cpu, "longest": dict(self.clock.longest),
                **{p: parts.get(p, 0.0) - parts0.get(p, 0.0) for p in PARTS[:-1]}}


def _row(condition: str, threads: int, got: dict) -> dict:
    """One condition's figures: medians of the rounds' rates and same-round ratios, CPU per
    second of training summed over the rounds, lateness over all of them."""
    wall, cpu = sum(got["wall"]), sum(got["cpu"])
    ms = sorted(1000 * x for late in got["lateness"] for x in late)
    ui = {p: sum(got[p]) / wall for p in PARTS[:-1]}
    ui["other"] = max(0.0, cpu / wall - sum(ui.values()))  # layout, labels' paint, signal delivery, event loop
    return {"condition": condition, "threads": threads,
            "images_per_s": statistics.median(got["images_per_s"]),
            "bare_images_per_s": statistics.median(got["bare"]),
            "throughput_ratio": statistics.median(w / b for w, b in zip(got["images_per_s"], got["bare"])),
            "ui_cpu_per_s": cpu / wall, "ui_cpu_parts": ui,
            "longest_call_ms": {p: 1000 * max(seg.get(p, 0.0) for seg in got["longest"]) for p in PARTS[:-1]},
            "p50_ms": _quantile(ms, 0.5), "p99_ms": _quantile(ms, 0.99), "max_ms": ms[-1] if ms else 0.0}


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]
