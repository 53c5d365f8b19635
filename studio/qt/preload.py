"""PyTorch and the pages' modules, imported on a job thread while the window is already up.

``import torch`` takes 1.5-6 s (2-core AMD EPYC, quiet to busy), more than all of Qt. The
window therefore paints its Train page first from modules that do not import torch (the
families' options and the datasets' names: ``models.options``, ``data.names``; the runner, the
Train page's widgets), with its forms filled, checked and Start enabled, and ``start()``
imports the rest off the UI thread:

1. the core (``CORE``: torch, the trainer, devices, every family, the datasets, pyqtgraph for
   the Train page's curves); then every
   ``when_loaded`` callback runs, in order, on the GUI thread (the Train page lists the devices,
   makes its plot and loads the dataset's summary; a Start clicked before waits for these);
2. the other pages' modules (``PAGES``), so that building a page on its first visit is only
   the widgets.

``app.main`` calls ``defer()`` before building the window and ``start()`` after its first paint.

While the core is loading the UI thread must not import a module that imports torch: it would
wait for the job thread's import (Python's per-module import lock) and the window would freeze.
``loaded()`` says whether it may. Without ``start()`` (tests, benchmarks, scripts that build a
``MainWindow`` themselves) ``when_loaded`` runs its callback at once: the old, synchronous order.
"""

from __future__ import annotations

import importlib
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject

from ..engine.control import Control
from ..engine.jobs import Outcome
from ..engine.reporting import Reporter
from .runner import JobHandle, runner

CORE = ("torch", "studio.engine.devices", "studio.engine.trainer", "studio.models.base", "studio.data",
        "studio.data.bundled", "studio.data.procedural", "studio.data.standard", "pyqtgraph",
        "studio.qt.widgets.metrics_plot")
PAGES = ("studio.qt.panels.runs", "studio.qt.panels.latent", "studio.qt.panels.diffusion",
         "studio.qt.panels.playground")

_state: dict = {"core": None, "pages": None, "error": None, "callbacks": [], "failure_callbacks": []}


def _import(modules: tuple[str, ...], families: bool):
    def job(reporter: Reporter, control: Control) -> Outcome:
        # not cancellable: an import cannot be stopped halfway, and a window closed meanwhile
        # (the runner cancels every job then) must not leave the next one waiting for callbacks
        for name in modules:
            importlib.import_module(name)
        if families:
            from ..models import family_names, get_family

            for family in family_names():
                get_family(family)
        return Outcome("finished")

    return job


def defer() -> None:
    """From now on ``when_loaded`` callbacks wait for ``start()`` and its import: call it before
    building the window, and ``start()`` once the window has painted."""
    if _state["core"] is None:
        _state["core"] = "deferred"


def start() -> None:
    """Begin importing the core, then the pages' modules, on job threads (once)."""
    if _state["core"] not in (None, "deferred"):
        return
    _state["core"] = handle = runner().start(_import(CORE, families=True), "preload-core")
    handle.finished.connect(_on_core_finished)


def _on_core_finished(outcome: Outcome) -> None:
    callbacks, failure_callbacks = _state["callbacks"], _state["failure_callbacks"]
    _state["callbacks"], _state["failure_callbacks"] = None, []  # None: loaded, run at once from now on
    if outcome.status != "finished":
        _state["error"] = outcome.error or outcome.status
        for callback in failure_callbacks:
            _call(callback, _state["error"])
        return
    _state["pages"] = runner().start(_import(PAGES, families=False), "preload-pages")
    for callback in callbacks:
        _call(callback)


def _call(callback: Callable, *args) -> None:
    """``callback(*args)`` unless it is a method of a Qt object deleted meanwhile (a window
    closed while torch loaded)."""
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, QObject) and not shiboken6.isValid(owner):
        return
    callback(*args)


def loaded() -> bool:
    """Whether the UI thread may import torch and the core now without waiting: the core has
    been imported (or failed to), or no preload was started."""
    return _state["core"] is None or _state["callbacks"] is None


def error() -> str | None:
    """Why the core could not be imported (PyTorch missing or broken), or None."""
    return _state["error"]


def when_loaded(callback: Callable[[], None], failed: Callable[[str], None] | None = None) -> None:
    """Call ``callback()`` on the GUI thread once the core is imported: at once if it is (or no
    preload runs), else after. ``failed(message)`` instead if the import failed."""
    if _state["error"] is not None:
        if failed is not None:
            failed(_state["error"])
    elif loaded():
        callback()
    else:
        _state["callbacks"].append(callback)
        if failed is not None:
            _state["failure_callbacks"].append(failed)


def pages_handle() -> JobHandle | None:
    """The job importing the other pages' modules (None before the core has loaded)."""
    return _state["pages"]
