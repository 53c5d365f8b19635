"""A value axis for short plots (the Playground's loss curves, the inversion error chart):
labels at the major ticks only, as many as the axis's height holds with a clear gap between
them, at least two wherever two fit, each with the digits that tell it from its neighbours.

pyqtgraph's own axis picks about log(height) major ticks and labels its minor levels too while
they fill under 60–80% of the height: on a 33 px tall loss plot (two families side by side at
1366×768) five labels were drawn into each other. And on a range as small as 1.2345…1.2346 its
labels ("1.23450") are wider than a fixed-width axis, which then draws none at all.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF, QGuiApplication

GAP = 1.5  # major ticks at least this many label heights apart: half a label of clear space between
TEXT_HEIGHT = 0.8  # pyqtgraph draws a label in 0.8 of its font's line height (AxisItem.generateDrawSpecs)
MANTISSAS = (1.0, 2.0, 2.5, 5.0)  # nice spacings: 1, 2, 2.5 or 5 × 10^k (each at most twice the last)
MAX_DIGITS = 12  # a label never has more significant digits than this (float64 holds ~15)


def nice_spacings(span: float):
    """Nice spacings (1, 2, 2.5, 5 × 10^k), largest first, from one at least ``span`` (so at most one
    tick in view) downwards, without end."""
    k = math.ceil(math.log10(span))
    while True:
        for mantissa in reversed(MANTISSAS):
            yield mantissa * 10.0 ** k
        k -= 1


def ticks_in(lo: float, hi: float, spacing: float) -> int:
    """How many multiples of ``spacing`` lie in [lo, hi]."""
    return max(0, math.floor(hi / spacing + 1e-9) - math.ceil(lo / spacing - 1e-9) + 1)


def major_spacing(lo: float, hi: float, size: float, label: float) -> float:
    """The major tick spacing (data units) for an axis showing [lo, hi] (hi > lo) over ``size``
    pixels whose labels are ``label`` pixels tall: the finest nice spacing that puts ticks
    ``GAP`` labels apart; where that leaves under two ticks in view, a finer one that gives two
    with the labels still apart (1.1 heights: never touching); on an axis too short for two,
    its one label."""
    spacings = nice_spacings(hi - lo)
    pixels = size / (hi - lo)
    chosen = next(spacings)  # at most one tick in view
    for spacing in spacings:
        if spacing * pixels < GAP * label:
            break
        chosen = spacing
    if ticks_in(lo, hi, chosen) >= 2:
        return chosen
    while spacing * pixels >= 1.1 * label:  # from the first spacing too dense for GAP
        if ticks_in(lo, hi, spacing) >= 2:
            return spacing
        spacing = next(spacings)
    return chosen


def tick_strings(values: list[float], spacing: float) -> list[str]:
    """The labels of ``values`` (multiples of ``spacing``), each reading back as its value (to
    0.1% of the spacing), so neighbours always differ: fixed-point with the decimals the spacing
    needs (0.25 takes two, 0.5 one, 20 none; 1.23450, 1.23455), "%g" for very large or small
    values, at most ``MAX_DIGITS``; a zero (or a sum's 2.7e-21) written "0"."""
    if not values:
        return []
    values = [0.0 if abs(v) < 1e-6 * spacing else v for v in values]
    largest = max(abs(v) for v in values)
    fixed = largest == 0 or 1e-3 <= largest < 1e5
    digits = (max(0, math.ceil(-math.log10(spacing) - 1e-9)) if fixed
              else max(1, math.ceil(math.log10(largest / spacing) + 1e-9) + 1))
    while True:
        strings = [(f"{v:.{digits}f}" if fixed else f"{v:.{digits}g}") for v in values]
        if digits >= MAX_DIGITS or all(abs(float(s) - v) <= 1e-3 * spacing for s, v in zip(strings, values)):
            return ["0" if float(s) == 0 else s for s in strings]
        digits += 1


class ReadableAxis(pg.AxisItem):
    """A left or right value axis whose labels never crowd or vanish (module doc). Its width
    follows its labels (pyqtgraph's autoExpandTextSpace): don't ``setWidth`` it."""

    def __init__(self, orientation: str = "left", **kwargs):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)  # plain numbers, no "(x0.001)" in a label nobody shows
        self.setStyle(maxTextLevel=0)  # labels at the major ticks; the minor ones are marks

    def label_height(self) -> float:
        """The height pyqtgraph gives a label, in pixels."""
        font = self.style["tickFont"] or QGuiApplication.font()
        return TEXT_HEIGHT * QFontMetricsF(font).height()

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        lo, hi = sorted((float(minVal), float(maxVal)))
        if self.logMode or self._tickSpacing is not None or not (hi > lo and size > 0) \
                or not all(map(math.isfinite, (lo, hi))):
            return super().tickSpacing(minVal, maxVal, size)
        major = major_spacing(lo, hi, float(size), self.label_height())
        mantissa = major / 10.0 ** math.floor(math.log10(major) + 1e-9)
        minor = major / (4 if abs(mantissa - 2) < 1e-6 else 5)  # 0.2, 0.5, 0.5 or 1 × 10^k
        return [(major, 0.0), (minor, 0.0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        return tick_strings([v * scale for v in values], spacing * scale)
