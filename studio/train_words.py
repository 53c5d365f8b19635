"""What the Train page checks and says about a training, without Qt: the reasons a Start is refused
(``setup_problem``, ``option_errors``), what a Start would do that is rarely meant
(``batch_warning``), the line shown while nothing runs (``idle_line``) and the words a cancelled
start leaves (``CANCELLED_MESSAGE``). The window (``studio.qt.panels.train``, ``train_setup``)
shows them; here they are plain functions of plain values, testable without a window.
"""

from __future__ import annotations

from typing import Any

from .models import config_from_dict
from .models.config import SUPPORTED_RESOLUTIONS

CANCELLED_MESSAGE = "Start cancelled before training began; nothing was written."
READY_MESSAGE = "Ready. Press Start (Ctrl+Enter) to train a new run."


def setup_problem(torch_error: str | None, images_error: str | None, resolution: int | None) -> str | None:
    """Why no training can start whatever the form holds, or None: PyTorch failed to import
    (``torch_error``), the images can't be read (``images_error``: the dataset's own sentence), or
    they are ``resolution`` px square, a size no model takes (``models.config.SUPPORTED_RESOLUTIONS``;
    None: not known yet)."""
    if torch_error:
        return f"PyTorch could not be loaded: {torch_error}"
    if images_error:
        return f"The images can't be used: {images_error}"
    if resolution is not None and resolution not in SUPPORTED_RESOLUTIONS:
        return (f"The images are {resolution}×{resolution} px; choose a size of "
                f"{', '.join(map(str, SUPPORTED_RESOLUTIONS))} px under Images")
    return None


def option_errors(config: type, values: dict[str, Any]) -> dict[str, str]:
    """Each of a family's options checked alone by its ``Config`` (``models.config_from_dict``):
    option name → the core's sentence, for the form to mark beside that field (torch-free)."""
    errors = {}
    for name, value in values.items():
        try:
            config_from_dict(config, {name: value})
        except ValueError as exc:
            errors[name] = str(exc)
    return errors


def batch_warning(batch: int, size: int | None) -> str | None:
    """A batch larger than the dataset (``size`` images; None: not known yet) trains
    (``engine.batches``: every batch repeats the images, about batch ÷ size times), but it is
    rarely what was meant: said, not refused. None when the batch fits."""
    if not size or batch <= size:
        return None
    return (f"Batch size {batch:,} is larger than the {size:,} images: each batch repeats every image about "
            f"{-(-batch // size):,} times (more memory and time per step, nothing learned faster); "
            f"a batch of at most {size:,} is usual")


def idle_line(reason: str | None, warning: str | None, pending: str | None, shown: str) -> tuple[str, str] | None:
    """The line (text, role) the Train page shows while nothing runs: why Start is refused
    (``reason``), else what it would do that is rarely meant (``warning``), else what a Start would
    wait for (``pending``: "Loading PyTorch…"), else how to start; None to keep ``shown`` (the
    line on show now, when there is one)."""
    if reason or warning:
        return reason or warning, "warning"
    if pending:
        return f"{pending} Start now, and the run begins once that is done.", "muted"
    return None if shown else (READY_MESSAGE, "muted")
