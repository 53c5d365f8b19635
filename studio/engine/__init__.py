"""The engine: jobs that the CLI, the tests and the Qt adapter all drive."""

from .control import Control
from .devices import autocast_factory, default_precision, resolve_device
from .reporting import Progress, RecordingReporter, Reporter
from .trainer import TrainJob, TrainSpec

__all__ = ["Control", "Progress", "RecordingReporter", "Reporter", "TrainJob", "TrainSpec",
           "autocast_factory", "default_precision", "resolve_device"]
