"""Widgets of the diffusion viewer: a titled frame view, the filmstrip of every step and the
noise-schedule plot with a cursor."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (QAbstractScrollArea, QFrame, QHBoxLayout, QSizePolicy, QSlider, QToolButton, QVBoxLayout,
                               QWidget)

from .. import theme
from .cards import ElidedLabel, label
from .image_view import ImageView, show_large, to_qimage


class FrameView(QFrame):
    """A card: a big title (x_t, x̂₀, ε), the picture, a caption under it."""

    def __init__(self, title: str, subtitle: str, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("card", True)
        self.title = label(title, "title")
        self.title.setStyleSheet("font-size: 17pt;")
        self.subtitle = ElidedLabel(subtitle, "muted")
        self.view = ImageView(placeholder)
        self.view.enlarge_title = title
        self.caption = ElidedLabel("", "muted")
        self.caption.setAlignment(Qt.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(4)
        head = QVBoxLayout()
        head.setSpacing(0)
        head.addWidget(self.title)
        head.addWidget(self.subtitle)
        layout.addLayout(head)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    def set_image(self, image: np.ndarray | None, caption: str = "") -> None:
        self.view.set_image(image)
        self.caption.setText(caption)


class Timeline(QWidget):
    """◀  ▶ Play  ▶, a slider over the stored steps and a big step label.  Play walks the
    slider through the steps in about ``play_seconds`` whatever their number."""

    PLAY_INTERVAL_MS = 70

    def __init__(self, play_seconds: float = 6.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.play_seconds, self.length = play_seconds, 1
        self.back_button = QToolButton(text="◀")
        self.back_button.setToolTip("One step back (←)")
        self.play_button = QToolButton(text="▶  Play", checkable=True)
        self.play_button.setToolTip("Play the stored steps as an animation (Space)")
        self.forward_button = QToolButton(text="▶")
        self.forward_button.setToolTip("One step forward (→)")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.step_label = label("", "title")
        self.step_label.setMinimumWidth(260)
        self.back_button.clicked.connect(self.step_back)
        self.forward_button.clicked.connect(self.step_forward)
        self.play_button.toggled.connect(self._on_play_button_toggled)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self._timer = QTimer(self, interval=self.PLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.back_button, self.play_button, self.forward_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.step_label)
        self.set_enabled(False)

    def set_enabled(self, enabled: bool) -> None:
        self.play_button.setEnabled(enabled)
        self.back_button.setEnabled(enabled and self.slider.value() > 0)
        self.forward_button.setEnabled(enabled and self.slider.value() < self.slider.maximum())

    def stop(self) -> None:
        self.play_button.setChecked(False)

    @Slot()
    def step_back(self) -> None:
        self.stop()
        self.slider.setValue(self.slider.value() - 1)

    @Slot()
    def step_forward(self) -> None:
        self.stop()
        self.slider.setValue(self.slider.value() + 1)

    @Slot()
    def toggle_play(self) -> None:
        self.play_button.toggle()

    @Slot(bool)
    def _on_play_button_toggled(self, playing: bool) -> None:
        self.play_button.setText("❚❚  Pause" if playing else "▶  Play")
        if playing and self.play_button.isEnabled():
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self._timer.start()
        else:
            self._timer.stop()
            self.play_button.setChecked(False)

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.stop()
            return
        stride = max(1, round(self.length * self.PLAY_INTERVAL_MS / 1000 / self.play_seconds))
        self.slider.setValue(min(self.slider.maximum(), self.slider.value() + stride))

    @Slot(int)
    def _on_slider_value_changed(self, value: int) -> None:
        self.set_enabled(self.play_button.isEnabled())


class FilmStrip(QAbstractScrollArea):
    """One thumbnail per stored step, scrolled sideways; paints only what is visible.
    ``thumbnail(i)`` gives step i's uint8 picture; thumbnails are cached as QImages."""

    frame_clicked = Signal(int)
    CELL, PAD = 64, 6

    def __init__(self, thumbnail: Callable[[int], np.ndarray] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumbnail = thumbnail
        self._count, self._current, self._cache = 0, -1, {}
        self._labels: Callable[[int], str] = lambda i: str(i + 1)
        self.enlarged = None  # the EnlargeDialog a double click opens
        self.setToolTip("Click a step to show it; double-click to see it large")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFixedHeight(self.CELL + 34)
        self.setFrameShape(QFrame.NoFrame)
        self.horizontalScrollBar().setSingleStep(self.CELL)

    def count(self) -> int:
        return self._count

    @property
    def current(self) -> int:
        return self._current

    def reset(self, thumbnail: Callable[[int], np.ndarray], labels: Callable[[int], str]) -> None:
        self.thumbnail, self._labels = thumbnail, labels
        self._count, self._current, self._cache = 0, -1, {}
        self._update_range()

    def set_count(self, n: int) -> None:
        if n != self._count:
            self._count = n
            self._update_range()

    def set_current(self, i: int) -> None:
        self._current = i
        stride = self.CELL + self.PAD
        bar, width = self.horizontalScrollBar(), self.viewport().width()
        left = i * stride
        if left < bar.value() or left + stride > bar.value() + width:
            bar.setValue(left - width // 2 + stride // 2)
        self.viewport().update()

    def _image(self, i: int) -> QImage:
        if i not in self._cache:
            self._cache[i] = to_qimage(self.thumbnail(i))
        return self._cache[i]

    def _update_range(self) -> None:
        total = self._count * (self.CELL + self.PAD) + self.PAD
        bar = self.horizontalScrollBar()
        bar.setRange(0, max(0, total - self.viewport().width()))
        bar.setPageStep(self.viewport().width())
        self.viewport().update()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._update_range()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self.viewport())
        p.fillRect(self.viewport().rect(), QColor(theme.SURFACE))
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        for i, x in self._visible():
            target = QRectF(x, 4, self.CELL, self.CELL)
            p.drawImage(target, self._image(i))
            if i == self._current:
                p.setPen(QPen(QColor(theme.ACCENT), 3))
                p.drawRect(target.adjusted(-1.5, -1.5, 1.5, 1.5))
        for i, box, text in self.label_boxes():
            p.setPen(QColor(theme.TEXT if i == self._current else theme.MUTED))
            p.drawText(box, Qt.AlignCenter, text)

    def label_boxes(self) -> list[tuple[int, QRect, str]]:
        """(step, viewport rectangle, text) of each step label drawn now: a label sits under the
        visible part of its thumbnail, whole, or is left out while its thumbnail is scrolled too
        far out of view for it to fit (never cut to "=320")."""
        width, metrics = self.viewport().width(), self.viewport().fontMetrics()
        boxes = []
        for i, x in self._visible():
            box = QRect(x - 4, self.CELL + 6, self.CELL + 8, 18).intersected(QRect(0, 0, width, self.height()))
            text = self._labels(i)
            if box.width() >= metrics.horizontalAdvance(text) + 2:
                boxes.append((i, box, text))
        return boxes

    def _visible(self) -> list[tuple[int, int]]:
        """(step, viewport x of its thumbnail) of each step at least partly in view."""
        stride, offset = self.CELL + self.PAD, self.horizontalScrollBar().value()
        last = min(self._count, (offset + self.viewport().width()) // stride + 1)
        return [(i, self.PAD + i * stride - offset) for i in range(max(0, offset // stride), last)]

    def index_at(self, x: float) -> int | None:
        """The step whose thumbnail is at viewport x (None: past the last)."""
        i = int((x + self.horizontalScrollBar().value()) // (self.CELL + self.PAD))
        return i if 0 <= i < self._count else None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        i = self.index_at(event.position().x())
        if i is not None:
            self.frame_clicked.emit(i)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        """A double click opens the step's picture large (the first click already showed it)."""
        i = self.index_at(event.position().x())
        if i is not None:
            self.enlarge(i)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self._current >= 0:
            self.enlarge(self._current)
            return
        super().keyPressEvent(event)

    def enlarge(self, i: int):
        """Open step ``i``'s picture (a grid: every image) large; returns the dialog."""
        return show_large(self, self.thumbnail(i), title=f"step {self._labels(i)}")


class CurveLegend(QWidget):
    """A legend drawn beside a plot, never over its curves: a short line in each curve's pen,
    then its name, in one row."""

    SWATCH, GAP = 22, 14

    def __init__(self, entries: list[tuple[QPen, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.entries = entries
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        metrics = self.fontMetrics()
        width = sum(self.SWATCH + 6 + metrics.horizontalAdvance(text) for _, text in self.entries)
        return QSize(width + self.GAP * (len(self.entries) - 1), metrics.height() + 4)

    minimumSizeHint = sizeHint

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        metrics, x, mid = self.fontMetrics(), 0, self.height() / 2
        for pen, text in self.entries:
            p.setPen(pen)
            p.drawLine(QPointF(x, mid), QPointF(x + self.SWATCH, mid))
            x += self.SWATCH + 6
            p.setPen(QColor(theme.TEXT))
            width = metrics.horizontalAdvance(text)
            p.drawText(QRect(x, 0, width + 2, self.height()), Qt.AlignVCenter | Qt.AlignLeft, text)
            x += width + self.GAP


class SchedulePlot(pg.PlotWidget):
    """ᾱ_t and σ_t (left axis, 0–1) and log SNR (right axis) against t, a cursor at the
    current t and dots at the sampler's timesteps. Its ``legend`` and ``readout`` are widgets
    the page puts under the plot (a legend inside would cover the curves)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.getAxis("left").setTicks([[(0, "0"), (0.5, "0.5"), (1, "1")]])  # 0–1: three ticks never crowd
        self.setToolTip("Across: the diffusion step t (0: the clean image, T: pure noise)")
        item.setMouseEnabled(x=False, y=False)
        pens = (pg.mkPen(theme.ACCENT, width=2.5), pg.mkPen(theme.curve_color(1), width=2.5),
                pg.mkPen(theme.curve_color(2), width=2, style=Qt.DashLine))
        self.legend = CurveLegend(list(zip(pens, ("ᾱ_t", "σ_t", "log SNR"))))
        self.alpha_bar = item.plot(pen=pens[0])
        self.sigma = item.plot(pen=pens[1])
        # log SNR on its own axis (right), in a second view box that follows the first
        self.snr_box = pg.ViewBox(enableMouse=False)
        item.showAxis("right")
        item.scene().addItem(self.snr_box)
        item.getAxis("right").linkToView(self.snr_box)
        item.getAxis("right").setLabel("log SNR", color=theme.curve_color(2))
        item.getAxis("right").setStyle(maxTickLevel=0)  # major ticks only: a short plot stays readable
        self.snr_box.setXLink(item)
        self.log_snr = pg.PlotCurveItem(pen=pens[2])
        self.snr_box.addItem(self.log_snr)
        self.marks = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(theme.TEXT))
        item.addItem(self.marks)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.WARNING, width=2))
        item.addItem(self.cursor)
        self.readout = ElidedLabel("", "muted")  # the values at the cursor, one line; the page puts it under the plot
        item.vb.sigResized.connect(self._on_view_resized)
        self.setMinimumHeight(100)
        self._curves: dict[str, np.ndarray] | None = None

    def set_schedule(self, curves: dict[str, np.ndarray]) -> None:
        self._curves = curves
        t = curves["t"]
        self.alpha_bar.setData(t, curves["alpha_bar"])
        self.sigma.setData(t, curves["sigma"])
        self.log_snr.setData(t[1:], curves["log_snr"][1:])
        self.getPlotItem().setXRange(0, t[-1], padding=0.02)
        self.getPlotItem().setYRange(0, 1, padding=0.1)  # room for the labels of the 0 and 1 ticks
        snr = curves["log_snr"][1:]
        self.snr_box.setYRange(float(np.nanmin(snr)), float(np.nanmax(snr)), padding=0.04)

    def set_marks(self, ts: list[int]) -> None:
        """Dots on ᾱ at the paper's t of the sampler's timesteps."""
        if self._curves is None:
            return
        t = np.asarray(ts, dtype=int)
        self.marks.setData(t.astype(float), self._curves["alpha_bar"][t])

    def set_cursor(self, t: int | None) -> None:
        self.cursor.setVisible(t is not None)
        if t is None or self._curves is None:
            self.readout.setText("")
            return
        self.cursor.setValue(t)
        a = self._curves["alpha_bar"][t]
        snr = "∞" if t == 0 else f"{self._curves['log_snr'][t]:.2f}"
        self.readout.setText(f"t = {t} · ᾱ_t {a:.3f} · σ_t {np.sqrt(1 - a):.3f} · log SNR {snr}")

    @Slot()
    def _on_view_resized(self) -> None:
        vb = self.getPlotItem().vb
        self.snr_box.setGeometry(vb.sceneBoundingRect())
        self.snr_box.linkedViewChanged(vb, self.snr_box.XAxis)


def boxed(layout) -> QWidget:
    """A plain widget holding ``layout`` without margins (to put a layout into a card)."""
    widget = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    widget.setLayout(layout)
    return widget
