"""Help ▸ Keyboard shortcuts lists every shortcut the window holds, read from the window (a key
added anywhere shows up without editing a list); the sidebar's pages show their Ctrl+N."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton


def _registered(window) -> set[str]:
    """Every key registered in the window, found here without the dialog's code: its QShortcuts,
    its QActions with a shortcut and its buttons with one."""
    native = QKeySequence.NativeText
    keys = {s.key().toString(native) for s in window.findChildren(QShortcut)
            if s.parent().window() is window and not s.key().isEmpty()}
    keys |= {a.shortcut().toString(native) for a in window.findChildren(QAction) if not a.shortcut().isEmpty()}
    keys |= {b.shortcut().toString(native) for b in window.findChildren(QAbstractButton)
             if b.window() is window and not b.shortcut().isEmpty()}
    return keys


def _open_list(window, qtbot):
    window.help_button.shortcuts()
    dialog = window.help_button.dialogs["shortcuts"]
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    return dialog


def test_the_list_holds_every_shortcut_of_the_window_each_saying_what_it_does(window, qtbot):
    dialog = _open_list(window, qtbot)  # builds the pages not opened yet: their keys are listed too
    rows = dialog.rows()
    shown = {key for keys, _, _ in rows for key in keys.split(", ")}
    registered = _registered(window)
    assert registered and registered <= shown, registered - shown
    assert {"F1", "Ctrl+/", "F5", "Ctrl+1", "Ctrl+5", "Ctrl+D", "Ctrl+V", "Space", "Ctrl+Return", "Left",
            "Esc"} <= shown
    assert all(what != "—" for _, what, _ in rows), [r for r in rows if r[1] == "—"]
    assert ("Ctrl+4", "Show the Runs page", "Everywhere") in rows
    assert ("Space", "Pause / resume", "Train") in rows  # works only while the Train page is on show
    assert ("Ctrl+D", "Runs") == next((k, w) for k, what, w in rows if what.startswith("Draw 8 new samples"))
    # the Diffusion viewer's run keys share a row and say what the Run button's tooltip says
    assert ("Ctrl+Return, Ctrl+Enter", "Sample with these settings, step by step", "Diffusion viewer") in rows


def test_a_key_added_anywhere_is_listed_without_editing_a_list(window, qtbot):
    QShortcut(QKeySequence("Ctrl+Shift+K"), window.runs, context=Qt.WidgetWithChildrenShortcut,
              whatsThis="A key made after the window")
    button = window.runs.refresh_button  # described by its tooltip, which names the key
    QShortcut(QKeySequence("Ctrl+Shift+R"), button.parentWidget(), context=Qt.WidgetWithChildrenShortcut)
    button.setToolTip("Read the runs folder again (F5 or Ctrl+Shift+R)")
    window.runs.addAction(QAction("Do a thing…", window.runs, shortcut=QKeySequence("Ctrl+Shift+J")))
    rows = _open_list(window, qtbot).rows()
    assert ("Ctrl+Shift+K", "A key made after the window", "Runs") in rows
    assert ("Ctrl+Shift+J", "Do a thing", "Runs") in rows
    assert ("Ctrl+Shift+R", "Read the runs folder again", "Runs") in rows


def test_the_help_menu_and_ctrl_slash_open_the_list(window, qtbot):
    texts = [a.text() for a in window.help_button.menu().actions()]
    assert "Keyboard shortcuts…  (Ctrl+/)" in texts
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Slash, Qt.ControlModifier)
    qtbot.waitUntil(lambda: "shortcuts" in window.help_button.dialogs
                    and window.help_button.dialogs["shortcuts"].isVisible(), timeout=5_000)
    window.help_button.dialogs["shortcuts"].close()


def test_each_sidebar_page_shows_the_shortcut_that_opens_it(window, qtbot):
    window.activateWindow()
    for row in reversed(range(window.sidebar.count())):
        tip = window.sidebar.item(row).toolTip()
        key = tip[tip.rindex("(") + 1:-1]
        assert tip.startswith(window.sidebar.item(row).text().split(maxsplit=1)[1]) and key == f"Ctrl+{row + 1}"
        qtbot.keyClick(window, Qt.Key_1 + row, Qt.ControlModifier)  # the key the tooltip names opens the page
        assert window.sidebar.currentRow() == row
