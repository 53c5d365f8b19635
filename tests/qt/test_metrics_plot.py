"""The loss-curve plot with values a diverged run writes: NaN and ±inf, zero or negative values
under log y, and a constant series. Every redraw must succeed and show what can be shown."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from studio.qt.widgets.curve_data import debiased_ema, roomy_range
from studio.qt.widgets.metrics_plot import MetricsPlot

# metrics.jsonl of `studio train --family vae --lr 1 --steps 60 --batch-size 32 --checkpoint-every 1
# --preview-every 0 --precision fp32` (diverged at step 2; its held-out metrics are not finite)
DIVERGED_VAE = """\
{"step": 1, "time": 0.0753, "epoch": 0, "loss": 748.22802734375, "recon": 745.124755859375, "kl": 3.1033005714416504}
{"step": 1, "test/neg_elbo_nats": NaN, "test/recon": NaN, "test/kl": Infinity, "test/fcd": 68.2546292539128, \
"test/kid": 6.010111544541639, "test/coverage": 1.0}
"""


@pytest.fixture
def plot(qtbot):
    widget = MetricsPlot()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show_combo.setCurrentIndex(widget.show_combo.findData("*"))  # every plot drawn
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _settle(plot, qtbot, ticks: int = 12) -> None:
    """Redraw as the window's timer does, and paint (pytest-qt fails on any exception in Qt)."""
    for _ in range(ticks):
        plot._on_timer_timeout()
        qtbot.wait(1)


def _points(curve) -> int:
    return 0 if curve.xData is None else len(curve.xData)


def _y_ranges_are_finite(plot) -> bool:
    return all(math.isfinite(v) for p in plot.plots.values() for v in p.vb.viewRange()[1])


def test_a_diverged_runs_history_draws_without_raising(plot, qtbot):
    records = [json.loads(line) for line in DIVERGED_VAE.splitlines()]
    plot.set_history(records)
    _settle(plot, qtbot)
    plot.redraw()
    assert not plot._dirty and _y_ranges_are_finite(plot)
    assert "test/neg_elbo_nats" in plot.plots  # a plot of its own, empty: its only point is NaN
    assert _points(plot.curves["test/neg_elbo_nats"][0]) == 0
    assert _points(plot.curves["test/kl"][0]) == 0  # the infinite KL is not a dot
    assert plot.curves["test/fcd"][0].yData.tolist() == [pytest.approx(68.2546292539128)]
    plot.log_y.setChecked(True)
    _settle(plot, qtbot)
    assert not plot._dirty and _y_ranges_are_finite(plot)
    assert plot.plots["test/fcd"].vb.viewRange()[1][0] < math.log10(68.25) < plot.plots["test/fcd"].vb.viewRange()[1][1]


def test_non_finite_points_are_gaps_and_the_smoothing_skips_them(plot, qtbot):
    values = [4.0, 2.0, math.nan, 1.0, math.inf, 3.0, -math.inf]
    plot.add_records([(i + 1, float(i), {"loss": v}) for i, v in enumerate(values)])
    _settle(plot, qtbot)
    raw, smooth = plot.curves["loss"]
    assert np.isnan(raw.yData[[2, 4, 6]]).all() and raw.yData[[0, 1, 3, 5]].tolist() == [4.0, 2.0, 1.0, 3.0]
    expected = debiased_ema(np.array([4.0, 2.0, 1.0, 3.0]), 0.6)  # the finite values alone
    np.testing.assert_allclose(smooth.yData[[0, 1, 3, 5]], expected)
    assert np.isnan(smooth.yData[[2, 4, 6]]).all()
    lo, hi = plot.plots["loss"].vb.viewRange()[1]
    assert lo < expected.min() and expected.max() < hi
    assert "nan" not in plot.value_labels["loss"].text  # latest value is -inf: shown as such
    assert "-inf" in plot.value_labels["loss"].text


def test_log_y_shows_the_positive_points_and_says_how_many_are_hidden(plot, qtbot):
    plot.set_options(0.0, True, False)  # no smoothing, log y
    plot.add_records([(i + 1, float(i), {"kl": v}) for i, v in enumerate([-1.0, 0.0, 1.0, 10.0, 100.0])])
    _settle(plot, qtbot)
    raw, _ = plot.curves["kl"]
    assert np.isnan(raw.yData[:2]).all() and raw.yData[2:].tolist() == [1.0, 10.0, 100.0]
    lo, hi = plot.plots["kl"].vb.viewRange()[1]  # log10 units
    assert lo < 0 and 2 < hi < 3
    assert "2 points ≤ 0 hidden (log y)" in plot.value_labels["kl"].text
    plot.log_y.setChecked(False)
    _settle(plot, qtbot)
    assert "hidden" not in plot.value_labels["kl"].text
    assert plot.curves["kl"][0].yData.tolist() == [-1.0, 0.0, 1.0, 10.0, 100.0]


def test_only_non_positive_values_under_log_y_keep_a_finite_range(plot, qtbot):
    plot.log_y.setChecked(True)
    plot.add_records([(i + 1, float(i), {"loss": -float(i)}) for i in range(5)])
    _settle(plot, qtbot)
    assert _y_ranges_are_finite(plot) and "5 points ≤ 0 hidden" in plot.value_labels["loss"].text


@pytest.mark.parametrize("log_y", [False, True])
def test_a_constant_series_is_flat_with_labelled_ticks(plot, qtbot, log_y):
    plot.log_y.setChecked(log_y)
    plot.add_records([(s, s / 10, {"kl": 5.0}) for s in range(1, 301)])
    _settle(plot, qtbot)
    series = plot.series["kl"]
    assert np.unique(series.smoothed).tolist() == [5.0]  # no 4.999999999999983 / 5.000000000000016
    lo, hi = plot.plots["kl"].vb.viewRange()[1]
    if log_y:
        lo, hi = 10 ** lo, 10 ** hi
    assert 4.0 < lo < 4.9 and 5.1 < hi < 6.0  # about ±5 %, not ±1e-14
    axis = plot.plots["kl"].getAxis("left")
    view = plot.plots["kl"].vb.viewRange()[1]
    labels = [text for spacing, values in axis.tickValues(view[0], view[1], 300)
              for text in axis.tickStrings(values, 1.0, spacing)]
    assert labels and all(len(t) <= 5 for t in labels), labels  # "4.8", "5", "5.2": not 4.99999999999999
    if not log_y:
        assert len(set(labels)) >= 2


def test_roomy_range_ignores_non_finite_bounds_and_widens_a_constant():
    assert roomy_range(math.nan, math.nan, (0.0, 1.0), 0.1, 0.1, 0.4) is None
    assert roomy_range(-math.inf, math.inf, (0.0, 1.0), 0.1, 0.1, 0.4) is None
    lo, hi = roomy_range(5.0 - 1e-15, 5.0 + 1e-15, (0.0, 1.0), 0.0, 0.0, 0.4)
    assert lo == pytest.approx(4.75) and hi == pytest.approx(5.25)


def test_plots_stay_readable_pick_one_and_fit_the_data(qtbot):
    """A Runs-page-sized plot (≈ 330 px tall at 1366×768) with seven metrics: 'as many as fit'
    draws only plots at least MIN_PLOT_PX tall and says how many more there are; picking one
    draws it large; the x axis ends at the data, not 1.8× past it; titles are plain words."""
    from studio.qt.widgets.metrics_plot import MIN_PLOT_PX

    widget = MetricsPlot()
    qtbot.addWidget(widget)
    widget.resize(760, 330)
    widget.show()
    qtbot.waitExposed(widget)
    records = [{"step": s, "time": s / 10, "loss": 1 / s, "recon": 2 / s, "kl": 5.0} for s in range(1, 121)]
    records.append({"step": 120, "test/neg_elbo_nats": 275.3, "test/fcd": 17.4, "test/kid": 0.84,
                    "test/coverage": 6})
    widget.set_history(records)
    _settle(widget, qtbot)
    shown = widget.visible_plots()
    assert 1 <= len(shown) < len(widget.plots) == 7
    for key in shown:
        assert widget.plots[key].boundingRect().height() >= MIN_PLOT_PX - 20  # title and axis inside
    assert widget.more.text() == f"+{7 - len(shown)} more"
    assert widget.show_combo.itemText(widget.show_combo.findData("kl")) == "Latent cost"
    assert widget.plots["kl"].titleLabel.toolTip().startswith("KL divergence")
    widget.show_combo.setCurrentIndex(widget.show_combo.findData("test/fcd"))
    _settle(widget, qtbot)
    assert widget.visible_plots() == ["test/fcd"] and widget.more.text() == ""
    x0, x1 = widget.plots["loss"].vb.viewRange()[0]
    assert x1 <= 120 * 1.03  # the run ended at step 120: no empty 1.8× tail


def test_a_run_with_one_point_has_a_readable_axis_and_a_visible_point(qtbot):
    """A run that logged one step (step 1 of 200, stopped at once): the x axis spans MIN_X_SPAN
    with distinct tick labels (it read "1 1 1 1 1 1 1": the end-of-run cap shrank it back to
    [1, 1.02]) and the point is drawn (a line of one point draws nothing)."""
    from studio.qt.widgets.metrics_plot import MIN_X_SPAN

    widget = MetricsPlot()
    qtbot.addWidget(widget)
    widget.resize(600, 330)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_history([{"step": 1, "time": 0.5, "loss": 0.7}])
    _settle(widget, qtbot)
    x0, x1 = widget.plots["loss"].vb.viewRange()[0]
    assert x1 - x0 >= MIN_X_SPAN * 0.99 and x0 <= 1 <= x1 and x0 >= 0
    axis = widget.plots["loss"].getAxis("bottom")
    labels = [text for spacing, values in axis.tickValues(x0, x1, 500) for text in axis.tickStrings(values, 1.0, spacing)]
    assert len(set(labels)) >= 3, labels
    assert widget.curves["loss"][1].opts["symbol"] == "o"
    widget.add_records([(2, 1.0, {"loss": 0.6})])
    _settle(widget, qtbot)
    assert widget.curves["loss"][1].opts["symbol"] is None  # two points: a line again


@pytest.mark.parametrize("x_range", [(0.0, 1.0), (0.2, 1.3), (0.0, 3.0), (0.9, 1.1), (0.0, 10.0)])
def test_the_step_axis_has_distinct_whole_ticks_for_a_tiny_range(qtbot, x_range):
    """Before the first record (0..1) or at step 1 the axis read "0 0 0 0 0 1 1 1 1" (ticks every
    0.1 shown as whole steps): ticks are whole steps, each label once."""
    widget = MetricsPlot()
    qtbot.addWidget(widget)
    axis = widget.plots["loss"].getAxis("bottom") if "loss" in widget.plots else None
    if axis is None:
        widget.set_history([{"step": 1, "time": 0.5, "loss": 0.7}])
        axis = widget.plots["loss"].getAxis("bottom")
    for wall_time in (False, True):
        axis.wall_time = wall_time
        ticks = [(v, text) for spacing, values in axis.tickValues(*x_range, 500)
                 for v, text in zip(values, axis.tickStrings(values, 1.0, spacing))]
        labels = [text for _, text in ticks]
        assert len(labels) == len(set(labels)) and all(v == round(v) for v, _ in ticks), (x_range, ticks)
        lo, hi = math.ceil(x_range[0]), math.floor(x_range[1])
        assert len(labels) >= min(2, hi - lo + 1), (x_range, labels)
