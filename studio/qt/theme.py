"""The dark look: one set of colours shared by the Qt palette, the style sheet and the plots."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from ..resources import resource_path

# design tokens (resources/styles/dark.qss uses the same values)
BACKGROUND = "#17181d"
SURFACE = "#1f2128"
RAISED = "#2a2d37"
BORDER = "#353947"
TEXT = "#e7e7ec"
MUTED = "#9aa0ae"
ACCENT = "#9b87ff"
DANGER = "#ff6b7d"
WARNING = "#f2b75e"
SUCCESS = "#5fd49c"

# one colour per metric, in order of first appearance; picked to read on the dark surface
CURVE_COLORS = ["#9b87ff", "#4fd3c4", "#f2b75e", "#ff7fa8", "#79c1ff", "#b9e26c", "#ff9966", "#d08cff"]


def apply_theme(app: QApplication, plots: bool = True) -> None:
    """Fusion style + dark palette + the style sheet; plots get a matching background
    (``plots=False``: later, by ``theme_plots()``, so that pyqtgraph can load after the first paint)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    sheet = resource_path("styles", "dark.qss")
    if sheet.is_file():
        icons = resource_path("icons").as_posix()
        app.setStyleSheet(sheet.read_text(encoding="utf-8").replace("url(ICONS/", f"url({icons}/"))
    if plots:
        theme_plots()


def theme_plots() -> None:
    """pyqtgraph's colours for plots made from now on (imports pyqtgraph: ~0.3-1.5 s)."""
    import pyqtgraph as pg

    pg.setConfigOptions(background=SURFACE, foreground=MUTED, antialias=True)


def dark_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.Window: BACKGROUND, QPalette.WindowText: TEXT, QPalette.Base: SURFACE,
        QPalette.AlternateBase: RAISED, QPalette.ToolTipBase: RAISED, QPalette.ToolTipText: TEXT,
        QPalette.PlaceholderText: MUTED, QPalette.Text: TEXT, QPalette.Button: RAISED,
        QPalette.ButtonText: TEXT, QPalette.BrightText: DANGER, QPalette.Highlight: ACCENT,
        QPalette.HighlightedText: "#101014", QPalette.Link: ACCENT, QPalette.Mid: BORDER,
        QPalette.Dark: BACKGROUND, QPalette.Light: RAISED, QPalette.Shadow: "#000000",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor("#5f6472"))
    return p


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 64, 256):
        path = resource_path("icons", f"studio-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    return icon


def curve_color(index: int) -> str:
    return CURVE_COLORS[index % len(CURVE_COLORS)]
