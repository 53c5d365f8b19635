"""Latest-wins decoding in one dedicated thread.

While a slider is dragged, requests arrive faster than the model decodes. A queue would
replay every stale position and lag further and further behind; this worker keeps a single
slot holding the newest request, so the image always follows the hand. Qt-free: the page
passes a callback that emits a signal (Qt queues it onto the GUI thread).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

DecodeFn = Callable[[Any], Any]


class LatestDecoder:
    """``request(fn, payload, key)`` replaces any request not yet started; the worker calls
    ``on_result(key, fn(payload))`` (or ``on_error(key, message)``) from its own thread."""

    def __init__(self, on_result: Callable[[Any, Any], None], on_error: Callable[[Any, str], None] | None = None,
                 name: str = "latent-decoder", threads: int | None = 1):
        self._on_result, self._on_error = on_result, on_error
        self.threads = threads
        self._slot: tuple | None = None
        self._cond = threading.Condition()
        self._closed = False
        self.requested = self.dropped = self.decoded = 0  # counters for tests and the benchmark
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def request(self, fn: DecodeFn, payload: Any, key: Any = None) -> None:
        with self._cond:
            if self._closed:
                return
            self.requested += 1
            if self._slot is not None:
                self.dropped += 1  # superseded before it started: never decoded
            self._slot = (fn, payload, key)
            self._cond.notify()

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._slot is None and not self._busy

    _busy = False

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._slot = None
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self, fn: DecodeFn, payload: Any) -> Any:
        if not self.threads:
            return fn(payload)
        import torch

        # torch's thread count is also the default of threads started later: set it around
        # each decode and put it back, so other work (training, encoding) keeps its own
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return fn(payload)
        finally:
            torch.set_num_threads(before)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                fn, payload, key = self._slot
                self._slot = None
                self._busy = True
            try:
                result = self._run(fn, payload)
            except Exception as exc:  # reported, the worker lives on
                if not isinstance(exc, ValueError):
                    traceback.print_exc()
                if self._on_error is not None:
                    self._on_error(key, str(exc) or type(exc).__name__)
            else:
                self.decoded += 1
                self._on_result(key, result)
            finally:
                with self._cond:
                    self._busy = False
