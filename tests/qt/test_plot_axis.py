"""Value axes of short plots (widgets/plot_axis.py): labels never crowd, never vanish, and tell
their neighbours apart — the unit rules, a bare plot at several heights, and the Latent
explorer's inversion error chart on a nearly flat error."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from tests.qt.test_playground_fit import assert_readable, drawn_labels, wait_drawn

from studio.qt.widgets.plot_axis import ReadableAxis, major_spacing, tick_strings, ticks_in

SERIES = {
    "around 1.2": 1.2 + 0.4 * np.sin(np.arange(60)),
    "falling": 10 * 0.85 ** np.arange(60),
    "flat-ish": 1.2345 + 1e-4 * np.array([0, 1, 0, 0.5, 1, 0] * 10),
    "tiny values": 1e-5 * (2 + np.sin(np.arange(60))),
    "large": 3000 + 2000 * np.cos(np.arange(60) / 7),
    "negative": -8 + 7 * (1 - np.exp(-np.arange(60) / 10)),
}


@pytest.mark.parametrize("lo, hi, size", [(0.7, 1.7, 33), (0.7, 1.7, 78), (-8.6, -0.9, 78), (1.23449, 1.23461, 70),
                                          (0.0, 1000.0, 400), (3e-6, 9e-6, 90), (1.2345, 1.2346, 12)])
def test_major_spacing_keeps_labels_apart_and_shows_two_where_two_fit(lo, hi, size):
    label = 11.2
    spacing = major_spacing(lo, hi, size, label)
    gap = spacing * size / (hi - lo)
    assert gap >= 1.1 * label  # never touching
    if size >= 2.2 * label * 2:  # room for two: two are shown
        assert ticks_in(lo, hi, spacing) >= 2, (spacing, gap)
    assert ticks_in(lo, hi, spacing) <= size / (1.1 * label) + 1


def test_tick_strings_write_each_value_exactly_and_distinctly():
    assert tick_strings([0.25, 0.5, 0.75], 0.25) == ["0.25", "0.50", "0.75"]  # not 0.2, 0.5, 0.8
    assert tick_strings([1.2345, 1.23455, 1.2346], 5e-5) == ["1.23450", "1.23455", "1.23460"]
    assert tick_strings([-1e-21, 0.5, 1.0], 0.5) == ["0", "0.5", "1.0"]  # no "-1e-21" for a sum's zero
    assert tick_strings([1.2e-4, 1.3e-4], 1e-5) == ["0.00012", "0.00013"]
    assert tick_strings([1e-4, 1.25e-4, 1.5e-4], 2.5e-5) == ["0.0001", "0.000125", "0.00015"]  # not 0.00012
    assert tick_strings([120000.0, 125000.0], 5000.0) == ["1.2e+05", "1.25e+05"]
    big = tick_strings([123456.7, 123456.8], 0.1)  # pyqtgraph's "%g" wrote both "123457"
    assert big == ["123456.7", "123456.8"]


@pytest.mark.parametrize("height", [70, 100, 160, 300])
@pytest.mark.parametrize("name", sorted(SERIES))
def test_a_plot_labels_its_values_readably_at_any_height(qtbot, name, height):
    plot = pg.PlotWidget(axisItems={"left": ReadableAxis("left")})
    plot.getPlotItem().hideAxis("bottom")
    qtbot.addWidget(plot)
    plot.resize(320, height)
    plot.show()
    qtbot.waitExposed(plot)
    plot.plot(np.arange(60), SERIES[name])
    wait_drawn(qtbot, plot)
    texts = assert_readable(plot.getPlotItem().getAxis("left"))
    values = [float(t) for t in texts]
    spread = np.ptp(SERIES[name])
    assert min(values) >= SERIES[name].min() - spread and max(values) <= SERIES[name].max() + spread


def test_the_inversion_error_chart_labels_a_nearly_flat_error(qtbot):
    """A GAN search whose error moves by 1e-4 (1.2345, 1.2346, 1.2345…): the chart's y axis shows
    at least two labels with the digits that tell them apart (its fixed 40 px axis dropped every
    "1.23450"-wide label), and a constant error still gets two."""
    from studio.latent.state import ExplorerState
    from studio.qt.widgets.latent_picture import PictureTool

    tool = PictureTool(ExplorerState())
    qtbot.addWidget(tool)
    tool.resize(700, 200)
    tool.show()
    qtbot.waitExposed(tool)
    axis = tool.curve.getPlotItem().getAxis("left")
    for errors in (SERIES["flat-ish"], np.full(30, 0.0731), 0.4 * 0.97 ** np.arange(300)):
        tool.line.setData(np.arange(1, len(errors) + 1), errors)
        wait_drawn(qtbot, tool.curve)
        assert tool.curve.height() >= 70
        texts = assert_readable(axis)
        if np.ptp(errors) > 0:
            assert len({round(float(t), 6) for t in texts}) == len(texts)
        rects = [rect for _, rect in drawn_labels(axis)]
        assert all(rect.width() <= axis.width() for rect in rects)  # drawn whole, inside the axis
