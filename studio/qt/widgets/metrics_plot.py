"""Loss curves: one small plot per metric, raw (faint) and debiased-EMA smoothed (bold).

Curves are created once and fed with ``setData`` from growing numpy buffers; a timer
redraws only what changed, one plot per tick at ``REDRAW_HZ``, so each UI event stays a few
milliseconds, and a 100k-step run stays light (peak downsampling + clip to view do the rest).
``test/NAME`` metrics (held-out, at checkpoints) are dots on NAME's plot when it exists.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ... import glossary
from .. import theme
from .curve_data import History, Series, history_columns, roomy_range
from .plain_text import escape, plain, tip

REDRAW_HZ = 4  # plot updates per second, one plot each: every plot refreshes at REDRAW_HZ / plots
TEST_PREFIX = "test/"


class _Axis(pg.AxisItem):
    """Steps as 12,000 / 1.2M, or wall time as m:ss / h:mm:ss."""

    wall_time = False

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        """Whole steps (or seconds) only: a range of 0..1 (the plots before the first record) read
        "0 0 0 0 0 1 1 1 1" from ticks at every 0.1. With no whole spacing, the whole numbers in range."""
        levels = [(spacing, values) for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        if levels:
            return levels
        lo, hi = math.ceil(min(minVal, maxVal)), math.floor(max(minVal, maxVal))
        return [(1.0, [float(v) for v in range(lo, hi + 1)])] if hi >= lo else []

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        if self.wall_time:
            return [_clock(v) for v in values]
        return [f"{v / 1e6:g}M" if abs(v) >= 1e6 else f"{v:,.0f}" for v in values]


def _clock(seconds: float) -> str:
    s = int(round(max(0.0, seconds)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


AUTO, ALL = "", "*"  # the picker's first two choices
MIN_X_SPAN = 10  # steps or seconds: the narrowest x range drawn
MIN_PLOT_PX = 150  # a plot shorter than this is unreadable (issue: 40 px plots on a 1366×768 screen)


class MetricsPlot(QWidget):
    smoothing_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.series: dict[str, Series] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.value_labels: dict[str, pg.LabelItem] = {}
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem | None]] = {}
        self.time_offset = 0.0  # added to live times (a resumed run continues its clock)
        self.last_step: int | None = None  # the step the run will end at, when known
        self._dirty: set[str] = set()
        self._spare: dict[str, tuple[pg.PlotItem, pg.LabelItem]] = {}  # plots of the metrics before clear()
        self._last_drawn: str | None = None
        self._following: set[str] = set()  # plots whose view follows the data
        self._x_range = (0.0, 1.0)
        self._weight, self._wall_time = 0.6, False

        self.smoothing = QSlider(Qt.Horizontal, minimum=0, maximum=99, value=60)
        self.smoothing.setMinimumWidth(60)
        self.smoothing.setMaximumWidth(130)
        self.smoothing.setToolTip("Exponential moving average of the curves (debiased, as in TensorBoard)")
        self.smoothing_label = plain(QLabel("0.60"))
        self.smoothing_label.setProperty("role", "muted")
        self.log_y = QCheckBox("Log y")
        self.log_y.setToolTip("Logarithmic y axis: shows slow late improvements")
        self.x_axis = QComboBox()
        self.x_axis.addItems(["Step", "Wall time"])
        self.x_axis.setToolTip("Horizontal axis: optimizer steps or training time")
        self.show_combo = QComboBox()
        self.show_combo.addItem("As many as fit", AUTO)
        self.show_combo.addItem("All curves", ALL)
        self.show_combo.setToolTip("Which curves to draw: as many as fit at a readable height "
                                   f"({MIN_PLOT_PX} px each), all of them, or one large")
        self.show_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.show_combo.setMinimumContentsLength(14)
        self.x_axis.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.x_axis.setMinimumContentsLength(3)
        self.show_combo.currentIndexChanged.connect(self._on_show_combo_current_index_changed)
        self.more = plain(QLabel(""))
        self.more.setProperty("role", "muted")

        self._shown: list[str] = []  # the plots on the canvas now
        self.smoothing.valueChanged.connect(self._on_smoothing_value_changed)
        self.log_y.toggled.connect(self._on_log_y_toggled)
        self.x_axis.currentIndexChanged.connect(self._on_x_axis_changed)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.ci.setSpacing(14)
        self.canvas.ci.setContentsMargins(6, 6, 10, 6)
        self.empty = plain(QLabel("Loss curves appear here once training starts.", alignment=Qt.AlignCenter,
                                  wordWrap=True))
        self.empty.setProperty("role", "muted")

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (plain(QLabel("Smoothing")), self.smoothing, self.smoothing_label):
            bar.addWidget(w)
        bar.addSpacing(8)
        bar.addWidget(self.log_y)
        bar.addStretch(1)
        bar.addWidget(plain(QLabel("x:")))
        bar.addWidget(self.x_axis)
        self.pick_row = QWidget()  # which curves: shown once there are curves
        pick = QHBoxLayout(self.pick_row)
        pick.setContentsMargins(0, 0, 0, 0)
        for w in (plain(QLabel("Show")), self.show_combo, self.more):
            pick.addWidget(w)
        pick.addStretch(1)
        self.pick_row.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.pick_row)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.canvas, 1)
        self.canvas.hide()

        self._timer = QTimer(self, interval=1000 // REDRAW_HZ)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    # --- data in ------------------------------------------------------------------------
    def clear(self) -> None:
        # the plots are kept aside for the next run's metrics of the same names (a resume, a
        # second run of a family): making a plot is most of what showing a history costs
        self._spare = {key: (plot, self.value_labels[key]) for key, plot in self.plots.items()}
        self.series.clear()
        self.curves.clear()
        self.plots.clear()
        self.value_labels.clear()
        self._following.clear()
        self._x_range = (0.0, 1.0)
        self.canvas.ci.clear()
        self._shown = []
        self.more.setText("")
        self.pick_row.hide()
        while self.show_combo.count() > 2:
            self.show_combo.removeItem(2)
        self.canvas.hide()
        self.empty.show()
        self._dirty.clear()
        self.time_offset = 0.0
        self.last_step = None

    def add_records(self, records: list[tuple[int, float, dict[str, float]]]) -> None:
        """Live records from the worker: (step, seconds since the job started, values)."""
        points: dict[str, list] = {}
        for step, seconds, values in records:
            for name, value in values.items():
                points.setdefault(name, []).append((step, seconds + self.time_offset, value))
        self._extend(points)

    def add_columns(self, history: History) -> None:
        """Live records given as ``curve_data.history_columns`` of them, made in a worker (a
        followed run's backlog): appended as ``add_records`` would, without a Python step each."""
        self._extend({name: np.array([cols[0], cols[1] + self.time_offset, cols[2]])
                      for name, cols in history.points.items()})

    def set_history(self, history: list[dict] | History) -> None:
        """A run's history: records as in metrics.jsonl ({"step", "time", "epoch", name: value,
        ...}) or, cheaper on this thread, ``curve_data.history_columns`` of them made in a worker."""
        if not isinstance(history, History):
            history = history_columns(history)
        self.clear()
        self._extend(history.points)
        self.time_offset = history.seconds
        self.last_step = history.last_step  # a live run moves it on with its progress

    def _extend(self, points: dict[str, list | np.ndarray]) -> None:
        added = len(self.plots)
        for name, pts in points.items():
            if name not in self.series:
                self.series[name] = Series(self._weight)
                self._add_curve(name)
            if isinstance(pts, np.ndarray):  # a history's (3, n) columns
                self.series[name].extend_columns(pts)
            else:
                self.series[name].extend(pts)
            self._dirty.add(name)
        if len(self.plots) != added:  # new plots: laid out once, however many came
            self._layout_plots()

    # --- drawing ------------------------------------------------------------------------
    def _add_curve(self, name: str) -> None:
        base = name[len(TEST_PREFIX):] if name.startswith(TEST_PREFIX) else None
        if base is not None:  # held-out points: dots, on the training curve's plot when there is one
            key = base if base in self.plots else name
            if key == name:
                self._add_plot(name)
            color = theme.curve_color(list(self.plots).index(key))
            dots = self.plots[key].plot(pen=pg.mkPen(color, width=1, style=Qt.DashLine), symbol="o", symbolSize=7,
                                        symbolBrush=theme.SURFACE, symbolPen=pg.mkPen(color, width=2))
            self.curves[name] = (dots, None)
            return
        plot = self._add_plot(name)
        color = theme.curve_color(len(self.plots) - 1)
        faint = pg.QtGui.QColor(color)
        faint.setAlpha(80)
        # no antialiasing: an antialiased 2 px pen costs ~10x more to draw (measured), and the
        # UI thread shares 2 cores with training
        raw = plot.plot(pen=pg.mkPen(faint, width=1), antialias=False)
        smooth = plot.plot(pen=pg.mkPen(color, width=2), antialias=False)
        for curve in (raw, smooth):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.opts["autoDownsampleFactor"] = 1.0  # a min/max pair per pixel is all the eye sees
        self.curves[name] = (raw, smooth)

    def _plot_of(self, name: str) -> str:
        base = name[len(TEST_PREFIX):] if name.startswith(TEST_PREFIX) else name
        return base if base in self.plots else name

    def _add_plot(self, key: str) -> pg.PlotItem:
        color = theme.curve_color(len(self.plots))
        if key in self._spare:  # the same metric's plot from before clear(): emptied and reset
            plot, value = self._spare.pop(key)
            plot.clear()
            value.setText("")
            plot.vb.setYRange(0, 1, padding=0)
        else:
            plot, value = self._new_plot()
        # a metric's name is the run's metrics file's: any text
        plot.setTitle(f"<span style='color:{color}'>{escape(glossary.plain_name(key))}</span>", size="9.5pt")
        plot.titleLabel.setToolTip(tip(glossary.definition(key)))
        self.show_combo.addItem(glossary.plain_name(key), key)
        plot.setLogMode(y=self.log_y.isChecked())
        plot.getAxis("bottom").wall_time = self._wall_time
        plot.vb.disableAutoRange()  # _follow keeps the data in view, with fewer axis changes
        plot.vb.setXRange(*self._x_range, padding=0)
        self._following.add(key)
        self.plots[key], self.value_labels[key] = plot, value
        return plot

    def _new_plot(self) -> tuple[pg.PlotItem, pg.LabelItem]:
        plot = pg.PlotItem(axisItems={"bottom": _Axis("bottom")}, enableMenu=False)  # no menus to build
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(theme.BORDER))
            axis.setTextPen(pg.mkPen(theme.MUTED))
        plot.getAxis("left").setWidth(48)
        # not x-linked: linked, every x change repainted all plots in one long UI event
        plot.vb.sigRangeChangedManually.connect(self._on_view_range_changed_manually)
        # latest values, top right inside the plot: changing them never re-lays out the plots
        value = pg.LabelItem("", size="9pt", color=theme.TEXT)
        value.setParentItem(plot.vb)
        value.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-6, 2))
        return plot, value

    def visible_plots(self) -> list[str]:
        """The plots to draw: the one picked, all, or (Auto) as many as fit at ``MIN_PLOT_PX``
        tall in the canvas's height (two columns from four plots on), in order of appearance."""
        choice, keys = self.show_combo.currentData(), list(self.plots)
        if choice == ALL:
            return keys
        if choice in self.plots:
            return [choice]
        room = self.height() - 2 * self.show_combo.sizeHint().height() - 12  # the canvas under the two bars
        fits = [n for n in range(1, len(keys) + 1) if -(-n // _columns(n, self.width())) * MIN_PLOT_PX <= room]
        return keys[:max(fits, default=1)]

    def _layout_plots(self) -> None:
        shown = self.visible_plots()
        hidden = len(self.plots) - len(shown)
        self.more.setText(f"+{hidden} more" if hidden and self.show_combo.currentData() == AUTO else "")
        self.more.setToolTip("Curves that don't fit at a readable height: pick one under Show, or enlarge "
                             "the window" if hidden else "")
        if shown == self._shown and self.canvas.isVisible():
            return
        self._shown = shown
        ci = self.canvas.ci
        for plot in list(ci.items):
            ci.removeItem(plot)
        for key, plot in self.plots.items():
            plot.setVisible(key in shown)
        columns = _columns(len(shown), self.width())
        rows = (len(shown) + columns - 1) // columns
        grid = ci.layout  # a Qt grid keeps rows once made: rows no longer used get no height
        for r in range(grid.rowCount()):
            grid.setRowMaximumHeight(r, 1e6 if r < rows else 0)
        for c in range(grid.columnCount()):
            grid.setColumnMaximumWidth(c, 1e6 if c < columns else 0)
        for i, key in enumerate(shown):
            ci.addItem(self.plots[key], row=i // columns, col=i % columns)
            grid.setRowMaximumHeight(i // columns, 1e6)
            grid.setColumnMaximumWidth(i % columns, 1e6)
            # step numbers under the bottom row only: fewer labels to lay out and paint
            self.plots[key].getAxis("bottom").setStyle(showValues=i // columns == rows - 1 or len(shown) - i <= columns)
        self.empty.hide()
        self.pick_row.setVisible(len(self.plots) > 1)
        self.canvas.show()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.plots:
            self._layout_plots()

    @Slot(int)
    def _on_show_combo_current_index_changed(self, index: int) -> None:
        if self.plots:
            self._layout_plots()
            self._dirty.update(self.series)

    def redraw(self, only: str | None = None) -> None:
        """Push changed series to their curves: all plots, or ``only`` that one. Non-finite
        points are gaps in a line and left out of the dots; with log y, points ≤ 0 too (the
        plot's label says how many are hidden). Never raises for odd values."""
        names = [n for n in self._dirty if only is None or self._plot_of(n) == only]
        for name in names:
            s, (first, second) = self.series[name], self.curves[name]
            x = s.times if self._wall_time else s.steps
            if second is None:  # held-out dots: only the points that can be drawn
                keep = self._drawable(s.values)
                first.setData(x[keep], s.values[keep])
            else:
                first.setData(x, self._gaps(s.values))
                second.setData(x, self._gaps(s.smoothed))
                lone = s.n == 1  # a line needs two points: a lone one is drawn as a dot
                if lone != (second.opts["symbol"] is not None):
                    second.setSymbol("o" if lone else None)
                    second.setSymbolBrush(second.opts["pen"].color())
        for key in {self._plot_of(n) for n in names}:
            self._show_values(key)
            self._follow(key)
            self.plots[key].vb.prepareForPaint()  # range and curves settle now: one paint, not two
        self._dirty.difference_update(names)

    def _drawable(self, values: np.ndarray) -> np.ndarray:
        """Which values can be drawn: finite, and positive with log y."""
        keep = np.isfinite(values)
        return keep & (values > 0) if self.log_y.isChecked() else keep

    def _gaps(self, values: np.ndarray) -> np.ndarray:
        """``values`` with the undrawable ones as NaN: pyqtgraph breaks the line there."""
        keep = self._drawable(values)
        return values if keep.all() else np.where(keep, values, np.nan)

    def _follow(self, key: str) -> None:
        """Keep the data in view with room to grow (unless the user has zoomed or panned)."""
        vb = self.plots[key].vb
        if any(vb.state["autoRange"]):  # the user pressed the "A" button: follow again
            vb.disableAutoRange()
            vb.setXRange(*self._x_range, padding=0)
            self._following.add(key)
        if key not in self._following:
            return
        # y from the smoothed curve (and held-out points): raw noise alone does not rescale the plot
        names = [n for n in (key, TEST_PREFIX + key) if n in self.series and self.series[n].n]
        y = np.concatenate([self.series[n].smoothed if self.curves[n][1] is not None else self.series[n].values
                            for n in names])
        y = y[self._drawable(y)]
        if y.size:  # nothing drawable (only NaN, or only ≤ 0 with log y): keep the range
            if self.log_y.isChecked():
                y = np.log10(y)
            y0, y1 = vb.viewRange()[1]
            y_range = roomy_range(float(y.min()), float(y.max()), (y0, y1), 0.12, 0.12, 0.4)
            if y_range:
                vb.setYRange(*y_range, padding=0)
        self._follow_x()

    def _follow_x(self) -> None:
        """One x range for every following plot (one x axis serves all), with room to double:
        it changes a few times per run, and each change repaints every plot and its axes."""
        xs = [s.times if self._wall_time else s.steps for s in self.series.values() if s.n]
        x_range = roomy_range(min(v[0] for v in xs), max(v[-1] for v in xs), self._x_range, 0.02, 1.0, 0.35)
        if x_range is None:
            return
        if self.last_step and not self._wall_time:  # never past the end of the run
            x_range = (x_range[0], min(x_range[1], self.last_step * 1.02))
        if x_range[1] - x_range[0] < MIN_X_SPAN:  # one point: a readable axis, not "1 1 1 1"
            lo = x_range[0] if x_range[0] < 0 else max(0.0, (x_range[0] + x_range[1] - MIN_X_SPAN) / 2)
            x_range = (lo, lo + MIN_X_SPAN)
        self._x_range = x_range
        for key in self._following:
            self.plots[key].vb.setXRange(*x_range, padding=0)

    @Slot(object)
    def _on_view_range_changed_manually(self, _mask) -> None:
        key = next((k for k, p in self.plots.items() if p.vb is self.sender()), None)
        if key is not None:
            self._following.discard(key)
            self.plots[key].getAxis("bottom").setStyle(showValues=True)  # its own x now

    def _show_values(self, key: str) -> None:
        """The latest (smoothed) value and the latest held-out value of a plot's metric, and how
        many points log y hides (zero or negative)."""
        s = self.series[key]
        value = s.smoothed[-1] if self.curves[key][1] is not None else s.values[-1]
        text = _number(value if math.isfinite(value) else s.values[-1])  # a gap: say what the value was
        test = self.series.get(TEST_PREFIX + key)
        if test is not None and test.n:
            text += f"&nbsp;&nbsp;<span style='color:{theme.MUTED}'>test {_number(test.values[-1])}</span>"
        if self.log_y.isChecked():
            hidden = sum(int(np.count_nonzero(self.series[n].values <= 0))
                         for n in (key, TEST_PREFIX + key) if n in self.series)
            if hidden:
                text += (f"<br><span style='color:{theme.MUTED}'>{hidden:,} point{'s' if hidden > 1 else ''} "
                         f"≤ 0 hidden (log y)</span>")
        self.value_labels[key].setText(text)

    @Slot()
    def _on_timer_timeout(self) -> None:
        """One plot per tick, in turn: each UI event stays small (the paint covers one plot)."""
        if not self._dirty or not self.isVisible():
            return
        waiting = {self._plot_of(n) for n in self._dirty} & set(self._shown)  # hidden plots wait
        if not waiting:
            return
        keys = list(self.plots)
        start = (keys.index(self._last_drawn) + 1) if self._last_drawn in keys else 0
        self._last_drawn = next(k for k in keys[start:] + keys[:start] if k in waiting)
        self.redraw(only=self._last_drawn)

    # --- options --------------------------------------------------------------------------
    def set_options(self, smoothing: float, log_y: bool, wall_time: bool) -> None:
        self.smoothing.setValue(round(smoothing * 100))
        self.log_y.setChecked(log_y)
        self.x_axis.setCurrentIndex(int(wall_time))

    def options(self) -> tuple[float, bool, bool]:
        return self._weight, self.log_y.isChecked(), self._wall_time

    @Slot(int)
    def _on_smoothing_value_changed(self, value: int) -> None:
        self._weight = value / 100
        self.smoothing_label.setText(f"{self._weight:.2f}")
        for s in self.series.values():
            s.set_weight(self._weight)
        self._dirty.update(self.series)
        self.smoothing_changed.emit(self._weight)

    @Slot(bool)
    def _on_log_y_toggled(self, on: bool) -> None:
        for plot in self.plots.values():
            plot.setLogMode(y=on)
            plot.enableAutoRange()
        self._dirty.update(self.series)

    @Slot(int)
    def _on_x_axis_changed(self, index: int) -> None:
        self._wall_time = index == 1
        self._x_range = (0.0, 1.0)  # refit from the data
        for plot in self.plots.values():
            plot.getAxis("bottom").wall_time = self._wall_time
            plot.enableAutoRange()
        self._dirty.update(self.series)


def _columns(plots: int, width: int) -> int:
    """Wide curves read best: two columns only when the widget is wide enough for two plots of
    ``2 × MIN_PLOT_PX`` side by side."""
    return 1 if plots == 1 or width < 4 * MIN_PLOT_PX else 2


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if 1e-3 <= abs(value) < 1e5 or value == 0 else f"{value:.3e}"
