"""Whether MP4 export works on this machine, found once, off the UI thread.

``studio.export.mp4_available`` imports imageio and starts ffmpeg to ask it (0.2-0.3 s, 2-core
AMD EPYC, shared): called from the Latent and Diffusion pages' constructors it was most of
their first visit's freeze. Pages offer MP4 once ``when_mp4_known`` says it works."""

from __future__ import annotations

from typing import Callable

import shiboken6
from PySide6.QtCore import QObject

from ...engine.control import Control
from ...engine.jobs import Outcome
from ...engine.reporting import Reporter
from ..runner import runner

_state: dict = {"known": None, "handle": None, "callbacks": []}


def mp4_known() -> bool | None:
    """True/False once the check has run; None before."""
    return _state["known"]


def when_mp4_known(callback: Callable[[bool], None]) -> None:
    """``callback(available)`` on the GUI thread: at once when the answer is known, else when
    the check (started by the first call) ends. A method of a Qt object deleted meanwhile is
    not called."""
    if _state["known"] is not None:
        callback(_state["known"])
        return
    _state["callbacks"].append(callback)
    if _state["handle"] is None:
        _state["handle"] = handle = runner().start(_check, "mp4-check")
        handle.finished.connect(_on_finished)  # emitted on the GUI thread (the handle's own slot)


def _check(reporter: Reporter, control: Control) -> bool:
    from ...export import mp4_available

    return mp4_available()


def _on_finished(outcome: Outcome) -> None:
    callbacks, _state["callbacks"], _state["handle"] = _state["callbacks"], [], None
    if outcome.status != "finished":  # the window closed first: asked again next time
        return
    _state["known"] = available = bool(outcome.result)
    for callback in callbacks:
        owner = getattr(callback, "__self__", None)
        if not (isinstance(owner, QObject) and not shiboken6.isValid(owner)):
            callback(available)
