"""One family's view on the Playground page: the data-space plot (drawable), the view slider,
the family's own plot, the loss curve, the step counter and its numbers. The page shows one
pane, or two side by side ("Compare"), each fed with the numpy ``Frame``s its job reports.

Drawing costs the UI thread: every setter here skips work that would not change the picture
(titles, labels and the axes they would re-lay out), and the loss curve is redrawn at most
``LOSS_HZ`` times a second (its axes re-tick on every change)."""

from __future__ import annotations

import time
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QSlider, QStyle, QStyleOptionComboBox,
                               QWidget)

from ...errors import SpecError
from ...playground import build_family, family_names, get_family
from ...playground.base import options_text
from ...playground.frame import Frame
from .. import theme
from .cards import ElidedLabel
from .playground_view import LayerPlot
from .plot_axis import ReadableAxis

SLIDER_TICKS = 1000
LOSS_HZ = 8
COMPACT_LOSS_HEIGHT = 130  # px: the loss plot of two views side by side (its axis ~80 px at 1366×768)
LOSS_HEIGHT = 130  # px, at least, of one view's loss plot (the family's plot and its legend above it
# squeezed it to ~40 px: a GAN's D loss once the D-score legend wrapped, one or two labels on a 20 px axis)


class PlaygroundPane(QWidget):
    setting_changed = Signal(float)  # the view slider's value, in the family's units (t, layer, x₁ …)
    family_picked = Signal(str)  # the header's family picker (only when it is shown)

    def __init__(self, drawable: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider_spec = None
        self.options: dict = {}
        self.frames_drawn = 0
        self._loss: tuple[list[int], list[float]] = ([], [])
        self._loss_drawn = 0.0
        self._stats_text = ""

        self.family = QComboBox(objectName="paneFamily", toolTip="the family this view trains")
        for name in family_names():
            self.family.addItem(get_family(name).label, name)
        self._fit_family_box()  # as wide as the family shown: the options beside it keep their room
        self.options_label = ElidedLabel()  # long options elide (whole text in the tooltip), never widen the page
        self.options_label.setObjectName("muted")
        self.options_label.setToolTip("this view's options that differ from the defaults")
        self.title = QLabel(objectName="paneTitle")  # the family named as text, where nothing is picked (GIF)
        self.title.hide()
        self.step_label = QLabel("step 0", objectName="stepCounter")
        self.step_label.setMinimumWidth(self.step_label.fontMetrics().horizontalAdvance("step 9,999,999"))
        self.step_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.main = LayerPlot(drawable=drawable)
        self.setting_label = QLabel()
        self.setting = QSlider(Qt.Horizontal, minimum=0, maximum=SLIDER_TICKS)
        self.side = LayerPlot(equal=True, lim=3.5)
        # its value labels spaced to the plot's height (two views side by side: a short plot)
        self.loss = pg.PlotWidget(background=theme.SURFACE, axisItems={"left": ReadableAxis("left")})
        self.loss.setMenuEnabled(False)
        self.loss.hideButtons()
        self.loss_curve = self.loss.plot(pen=pg.mkPen(theme.ACCENT, width=1.2))
        self.loss_curve.setDownsampling(auto=True, method="peak")
        self.loss_curve.setClipToView(True)
        self.stats = QLabel(objectName="muted", wordWrap=True, textFormat=Qt.RichText)
        self.stats.ensurePolished()  # the style sheet's font: three of its lines, new numbers never re-lay out the page
        self.stats.setText("1<br>2<br>3")
        self.stats.setFixedHeight(self.stats.heightForWidth(1000))  # (3 × lineSpacing cut the third line)
        self.stats.setText("")
        self.stats.setAlignment(Qt.AlignLeft | Qt.AlignTop)

        self.header = QWidget()
        header = QHBoxLayout(self.header)
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.family)
        header.addWidget(self.title)
        header.addWidget(self.options_label, 1)
        header.addWidget(self.step_label)
        self.setting_row = QWidget()
        row = QHBoxLayout(self.setting_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.setting_label)
        row.addWidget(self.setting, 1)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.set_compact(False)

        self.setting.valueChanged.connect(self._on_setting_value_changed)
        self.family.currentIndexChanged.connect(self._on_family_current_index_changed)

    def set_compact(self, compact: bool) -> None:
        """Full: data plot | (family plot, loss, numbers). Compact (two panes side by side): the
        data plot over the loss over the numbers; the family's own plot is hidden."""
        self.compact = compact
        g = self.grid
        for w in (self.header, self.main, self.setting_row, self.side, self.loss, self.stats):
            g.removeWidget(w)
        g.addWidget(self.header, 0, 0, 1, 2)
        if compact:
            g.addWidget(self.main, 1, 0, 1, 2)
            g.addWidget(self.setting_row, 2, 0, 1, 2)
            g.addWidget(self.loss, 3, 0, 1, 2)
            g.addWidget(self.stats, 4, 0, 1, 2)  # the pane's whole width: three numbers fit its 3 lines
            stretch_rows, stretch_cols = (0, 4, 0, 1, 0), (1, 1)
        else:  # main | side over loss, the slider under main, the numbers under the loss
            g.addWidget(self.main, 1, 0, 2, 1)
            g.addWidget(self.setting_row, 3, 0)
            g.addWidget(self.side, 1, 1)
            g.addWidget(self.loss, 2, 1)
            g.addWidget(self.stats, 3, 1)
            stretch_rows, stretch_cols = (0, 3, 2, 0, 0), (5, 3)
        for r, k in enumerate(stretch_rows):
            g.setRowStretch(r, k)
        for c, k in enumerate(stretch_cols):
            g.setColumnStretch(c, k)
        self.side.setVisible(not compact)
        # the square data plot has height to spare over its width: the loss takes enough for 3-4 value
        # labels (it had 85 px at 1366×768: 33 px of axis, room for one or two)
        self.loss.setMinimumHeight(COMPACT_LOSS_HEIGHT if compact else LOSS_HEIGHT)

    def show_picker(self, shown: bool) -> None:
        """The header's family picker and the options it names (two views: each names its own)."""
        self.family.setVisible(shown)
        self.options_label.setVisible(shown)

    def show_title(self) -> None:
        """Name the family and its options as plain text instead of the picker (a picture: the GIF
        showed a greyed-out combo box, which read as a disabled control)."""
        self.family.hide()
        self.title.setText(self.family.currentText())
        self.title.show()
        self.options_label.setVisible(bool(self.options_label.text()))

    # --- the family -------------------------------------------------------------------------
    def configure(self, family: str, options: dict) -> str:
        """Show ``family`` (built with ``options`` for its slider and loss name, which may depend on
        them); returns the options' error, or ""."""
        with QSignalBlocker(self.family):
            self.family.setCurrentIndex(self.family.findData(family))
        self._fit_family_box()
        model, error = get_family(family), ""
        self.options = dict(options)
        self.options_label.setText(options_text(options))
        try:
            model = build_family(family, options)
        except SpecError as exc:
            error = str(exc)
        self.slider_spec = slider = model.slider
        self.side.set_titles(model.side_title, model.side_axes)
        self.loss.setTitle(model.loss_label, size="9pt", color=theme.MUTED)
        self.setting_row.setVisible(slider is not None)
        if slider is not None:
            with QSignalBlocker(self.setting):
                self.setting.setValue(round((slider.default - slider.minimum) / (slider.maximum - slider.minimum)
                                            * SLIDER_TICKS))
            self.setting_label.setText(f"{slider.label}: {slider.default:g}")
        return error

    def reset(self) -> None:
        """Forget the run: no loss, step 0, only the data left to draw."""
        self._loss = ([], [])
        self.loss_curve.setData([], [])
        self.loss.getPlotItem().getViewBox().setRange(xRange=(0, 10), yRange=(0, 1), padding=0)  # not the old run's
        self.step_label.setText("step 0")
        self.main.clear_layers()
        self.side.clear_layers()
        self.side.left_axis.magnitudes, self.side.left_axis.picture = False, None  # not the old family's axis
        self.side.set_equal(True)
        self._set_stats("")

    # --- drawing ----------------------------------------------------------------------------
    def show_frame(self, frame: Frame) -> None:
        self.show_main(frame)
        self.show_side(frame)

    def show_main(self, frame: Frame) -> None:
        """The data-space plot, the step and the numbers (the page draws these in one event-loop
        turn and the family's plot in the next, so neither paint holds the UI thread long)."""
        self.main.show_layers(frame.main)
        self.step_label.setText(f"step {frame.step:,}")
        # a line breaks between two numbers, never inside one ("∫ p(x) dx over the view: | 1", "(nats/ | point)")
        self._set_stats("&nbsp;&nbsp; ".join(
            f"<span style='white-space:nowrap'>{_unbroken(f'{k}: {_number(v)}')}</span>" for k, v in frame.stats.items()))
        self.frames_drawn += 1

    def show_side(self, frame: Frame) -> None:
        if not self.compact:
            self.side.set_titles(frame.side_title, frame.side_axes)
            if frame.side_equal != self.side.equal:
                self.side.set_equal(frame.side_equal)
            axis = self.side.left_axis
            if axis.magnitudes != frame.side_mirrored:
                axis.magnitudes, axis.picture = frame.side_mirrored, None  # re-label the ticks
                axis.update()
            self.side.show_layers(frame.side)

    def add_losses(self, points: list[tuple[int, float]]) -> None:
        """More (step, loss) points; the curve redraws at most ``LOSS_HZ`` a second (and on ``flush_loss``)."""
        steps, values = self._loss
        for step, value in points:
            steps.append(step)
            values.append(value)
        if time.perf_counter() - self._loss_drawn >= 1 / LOSS_HZ:
            self.flush_loss()

    def flush_loss(self, upto_step: int | None = None) -> None:
        steps, values = self._loss
        n = len(steps) if upto_step is None else int(np.searchsorted(steps, upto_step, side="right"))
        x, y = np.asarray(steps[:n], float), np.asarray(values[:n], float)
        self.loss_curve.setData(x, y)
        self._fit_loss_range(x, y)
        self._loss_drawn = time.perf_counter()

    def _fit_loss_range(self, x: np.ndarray, y: np.ndarray) -> None:
        """Re-range the loss plot only when the curve leaves its box or fills under half of it (a
        new range re-ticks both axes: a few ms each time, measured, where autorange did it on
        every new point)."""
        vb = self.loss.getPlotItem().getViewBox()
        vb.disableAutoRange()
        finite = np.isfinite(y)
        if not finite.any():
            return
        (_, x1), (y0, y1) = vb.viewRange()
        if x[-1] > x1 or x[-1] < 0.5 * x1:
            vb.setXRange(0, max(10.0, 1.3 * x[-1]), padding=0)
        lo, hi = float(y[finite].min()), float(y[finite].max())
        if lo < y0 or hi > y1 or hi - lo < 0.5 * (y1 - y0):
            pad = 0.08 * (hi - lo) or 0.5 * abs(hi) or 1.0
            vb.setYRange(lo - pad, hi + pad, padding=0)

    def _set_stats(self, text: str) -> None:
        if text != self._stats_text:
            self._stats_text = text
            self.stats.setText(text)

    # --- user input -------------------------------------------------------------------------
    def setting_value(self, tick: int) -> float | None:
        s = self.slider_spec
        if s is None:
            return None
        value = s.minimum + (s.maximum - s.minimum) * tick / SLIDER_TICKS
        return round(value) if s.integer else value

    @Slot(int)
    def _on_setting_value_changed(self, tick: int) -> None:
        value = self.setting_value(tick)
        if value is not None:
            self.setting_label.setText(f"{self.slider_spec.label}: {value:g}")
            self.setting_changed.emit(value)

    def _fit_family_box(self) -> None:
        """The closed family box as wide as the name it shows, its list as wide as the longest
        name: with two views side by side a box sized to its longest item ("Flow matching / …")
        left "loss = …" beside "GAN" in both, the one thing that told the views apart."""
        box = self.family
        option = QStyleOptionComboBox()
        box.initStyleOption(option)
        metrics = box.fontMetrics()
        text = QSize(metrics.horizontalAdvance(box.currentText()), metrics.height())
        box.setFixedWidth(box.style().sizeFromContents(QStyle.CT_ComboBox, option, text, box).width())
        box.view().setMinimumWidth(max(metrics.horizontalAdvance(box.itemText(i)) for i in range(box.count())) + 24)

    @Slot(int)
    def _on_family_current_index_changed(self, _index: int) -> None:
        self._fit_family_box()
        self.family_picked.emit(self.family.currentData())


def _unbroken(text: str) -> str:
    """``text`` as markup no line breaks inside: Qt's nowrap still broke after "/" and "-" ("nats/ | point")."""
    return escape(text).replace("/", "/\u2060").replace("-", "-\u2060")  # U+2060 word joiner


def _number(value: float) -> str:
    return f"{value:d}" if isinstance(value, int) else f"{value:.3g}"
