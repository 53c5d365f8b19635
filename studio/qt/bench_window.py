"""The window side of ``studio bench ui`` (see studio/qt/bench_ui.py): drive a real window,
time a UI timer, and alternate window training with a bare loop."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

TIMER_MS = 10


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

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - TIMER_MS / 1000))
        self._last = now

    def _spin(self, until=None, seconds: float = 600.0) -> None:
        """Run the real event loop for ``seconds``, or until ``until()`` holds (checked every 5 ms)."""
        loop, deadline = QEventLoop(), time.perf_counter() + seconds
        check = QTimer(interval=5)

        def poll():
            if until is not None and until():
                loop.quit()
            elif time.perf_counter() > deadline:
                loop.quit()

        check.timeout.connect(poll)
        check.start()
        QTimer.singleShot(int(seconds * 1000) + 1, loop.quit)
        if until is None or not until():
            loop.exec()
        check.stop()
        if until is not None and not until():
            raise TimeoutError("the window did not reach the expected state")

    def measure(self, threads: int, rounds: int, seconds: float) -> dict:
        import torch

        from ..bench.engine import bare_step_time
        from ..data import load_dataset
        from ..engine.devices import resolve_precision
        from .main_window import MainWindow

        window = MainWindow(QSettings())
        window.resize(1440, 900)
        window.show()
        panel = window.train
        self._spin(lambda: not panel.setup.dataset.loading)
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
        window_rates, bare_rates, lateness = [], [], []
        main_threads = torch.get_num_threads()
        try:
            for _ in range(rounds):
                rate, late = self._window_segment(panel, batch, seconds)
                window_rates.append(rate)
                lateness += late
                panel.toggle_pause()
                self._spin(lambda: panel.controls.message.text().startswith("Paused"))
                torch.set_num_threads(threads)  # per thread: the bare loop runs in this one
                steps = max(5, int(seconds * rate / batch))
                bare_rates.append(batch / bare_step_time(self.family, data, precision, batch, steps))
                torch.set_num_threads(main_threads)
                panel.toggle_pause()
        finally:
            panel.stop()
            self._spin(lambda: not panel.busy)
            window.close()
            window.deleteLater()
            self.app.processEvents()
        lateness.sort()
        ms = [1000 * x for x in lateness]
        window_rate, bare_rate = statistics.median(window_rates), statistics.median(bare_rates)
        return {"threads": threads, "images_per_s": window_rate, "bare_images_per_s": bare_rate,
                "throughput_ratio": window_rate / bare_rate, "p50_ms": _quantile(ms, 0.5),
                "p99_ms": _quantile(ms, 0.99), "max_ms": ms[-1] if ms else 0.0}

    def _window_segment(self, panel, batch: int, seconds: float) -> tuple[float, list[float]]:
        """Images/s of the job while the window runs normally, and the timer's lateness."""
        first_step = panel.controls.last.step
        self._spin(lambda: panel.controls.last.step > first_step)  # a fresh reading to start from
        start_step, start = panel.controls.last.step, time.perf_counter()
        self.lateness, self._last = [], time.perf_counter()
        self.timer.start()
        self._spin(seconds=seconds)  # the window as the user has it: only the event loop runs
        mark = panel.controls.last.step
        self._spin(lambda: panel.controls.last.step > mark)  # end on a fresh reading too
        end_step, end = panel.controls.last.step, time.perf_counter()
        self.timer.stop()
        return (end_step - start_step) * batch / (end - start), self.lateness[1:]


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]
