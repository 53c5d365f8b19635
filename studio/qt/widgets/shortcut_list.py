"""Every keyboard shortcut a window holds, read from the window itself (its QShortcuts, the
QActions with a shortcut, the buttons with one), so the Help menu's list never drifts from the
keys that work. Each is described by its ``whatsThis`` or else by the button on its page whose
tooltip names the key (the studio's convention: "Pause / resume (Space)")."""

from __future__ import annotations

import re
from typing import Callable, NamedTuple

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QWidget

from ...errors import sentence

EVERYWHERE = "Everywhere"
_SPELLINGS = {"Return": "Enter", "Escape": "Esc", "Left": "←", "Right": "→"}  # as tooltips write them
_PARENS = re.compile(r"\s*\(([^()]*)\)")


class Shortcut(NamedTuple):
    where: str  # "Everywhere" or the page it works on
    keys: str  # as the platform writes it, e.g. "Ctrl+Return"
    what: str  # what it does ("" when nothing says)


def key_text(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.NativeText)


def _spellings(key: str) -> list[str]:
    spelled = key
    for name, short in _SPELLINGS.items():
        spelled = re.sub(rf"\b{name}\b", short, spelled)
    return [key, spelled] if spelled != key else [key]


def _names(tip: str, key: str) -> bool:
    """Whether a tooltip's parenthesis names ``key``: "(Esc or Ctrl+.)" names Esc and Ctrl+."""
    spellings = _spellings(key)
    return any(re.search(rf"(?<![\w+]){re.escape(s)}(?![\w+])", group)
               for group in _PARENS.findall(tip) for s in spellings)


def _without_keys(tip: str) -> str:
    text = _PARENS.sub(lambda m: "" if re.search(r"Ctrl\+|Space|Esc|F\d|[←→]", m.group(1)) else m.group(0), tip)
    return sentence(text.strip())


def _described_by_button(scope: QWidget, key: str) -> str:
    for button in scope.findChildren(QAbstractButton):
        if _names(button.toolTip(), key):
            return _without_keys(button.toolTip())
    return ""


def window_shortcuts(window: QWidget, where: Callable[[QObject], str]) -> list[Shortcut]:
    """(where, keys, what) of every shortcut registered in ``window`` (not its dialogs), in the
    order found; ``where(widget)`` names the page a widget is on ("" for none)."""
    found = []
    for shortcut in window.findChildren(QShortcut):
        parent = shortcut.parent()
        if not isinstance(parent, QWidget) or parent.window() is not window or shortcut.key().isEmpty():
            continue
        key = key_text(shortcut.key())
        what = shortcut.whatsThis() or _described_by_button(parent, key)
        # a shortcut works only while its parent is visible: one on a page, only on that page
        found.append(Shortcut(where(parent) or EVERYWHERE, key, what))
    for action in window.findChildren(QAction):
        widget = action.parent()
        if action.shortcut().isEmpty() or isinstance(widget, QWidget) and widget.window() is not window:
            continue
        text = action.text().replace("&", "").rstrip("…").split("  (")[0]
        place = where(widget) if isinstance(widget, QWidget) else ""
        found.append(Shortcut(place or EVERYWHERE, key_text(action.shortcut()), text))
    for button in window.findChildren(QAbstractButton):
        if button.window() is window and not button.shortcut().isEmpty():
            key = key_text(button.shortcut())
            tip = _without_keys(button.toolTip())
            found.append(Shortcut(where(button) or EVERYWHERE, key, tip or button.text().strip()))
    return found


def grouped(shortcuts: list[Shortcut], order: list[str]) -> list[Shortcut]:
    """One row per (where, what), its keys joined ("Ctrl+Return, Ctrl+Enter"; an undescribed
    shortcut keeps a row of its own); Everywhere first, then the pages in ``order``."""
    rows: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for s in shortcuts:
        keys = rows.setdefault((s.where, s.what or s.keys), (s.what, []))[1]
        if s.keys not in keys:
            keys.append(s.keys)
    rank = {name: i for i, name in enumerate([EVERYWHERE, *order])}
    ordered = sorted(rows.items(), key=lambda item: (rank.get(item[0][0], len(rank)), item[0][0]))
    return [Shortcut(where, ", ".join(keys), what) for (where, _), (what, keys) in ordered]
