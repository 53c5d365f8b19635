"""The Train page's "Learning curves" card. Its ``MetricsPlot`` (pyqtgraph comes with it) is
made once ``preload`` has imported the core off the UI thread; until then the card holds
"Loading…". The plot's options (smoothing, log y, wall time) are saved with the window's
settings and restored before or after the plot exists."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .. import preload
from .cards import card
from .plain_text import plain


class LearningCurves(QWidget):
    """``plot``: the MetricsPlot, or None while the core loads."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = None
        self._holder = plain(QLabel("Loading…", alignment=Qt.AlignCenter))
        self._holder.setProperty("role", "muted")
        self._holder.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)  # the plot's place
        self._options: tuple | None = None  # restored before the plot existed
        self._card = card("Learning curves", self._holder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._card)
        preload.when_loaded(self._on_core_loaded)

    def _on_core_loaded(self) -> None:
        from .metrics_plot import MetricsPlot

        self.plot = MetricsPlot()
        self._card.layout().replaceWidget(self._holder, self.plot)
        self._holder.deleteLater()
        if self._options is not None:
            self.plot.set_options(*self._options)

    def save_settings(self, settings: QSettings) -> None:
        if self.plot is not None:  # else closed before torch had loaded: the saved options stay
            smoothing, log_y, wall_time = self.plot.options()
            settings.setValue("plot/smoothing", smoothing)
            settings.setValue("plot/log_y", log_y)
            settings.setValue("plot/wall_time", wall_time)

    def restore_settings(self, settings: QSettings) -> None:
        self._options = (float(settings.value("plot/smoothing", 0.6)),
                         settings.value("plot/log_y", False, type=bool),
                         settings.value("plot/wall_time", False, type=bool))
        if self.plot is not None:
            self.plot.set_options(*self._options)
