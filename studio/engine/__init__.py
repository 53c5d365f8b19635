"""The engine: jobs that the CLI, the tests and the Qt adapter all drive.

The names below are imported on first use (PEP 562 ``__getattr__``): ``studio.engine.control``,
``.jobs`` and ``.reporting`` do not need PyTorch, and the window imports them before torch has
loaded (its first paint comes before ``import torch``, see ``studio.qt.preload``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for readers and type checkers
    from .control import Control
    from .devices import autocast_factory, default_precision, resolve_device
    from .reporting import Progress, RecordingReporter, Reporter
    from ..specs import TrainSpec
    from .trainer import TrainJob

_SOURCE = {"Control": ".control", "Progress": ".reporting", "RecordingReporter": ".reporting",
           "Reporter": ".reporting", "TrainJob": ".trainer", "TrainSpec": "studio.specs",
           "autocast_factory": ".devices", "default_precision": ".devices", "resolve_device": ".devices"}

__all__ = ["Control", "Progress", "RecordingReporter", "Reporter", "TrainJob", "TrainSpec",
           "autocast_factory", "default_precision", "resolve_device"]


def __getattr__(name: str) -> Any:
    if name not in _SOURCE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCE[name], __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
