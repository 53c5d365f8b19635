"""The playground's dot item: dots land where the points are, in their colour and size, whatever
the zoom; non-finite points are left out; the view's auto range sees the points' extent."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from studio.qt.widgets.point_cloud import PointCloud


def _plot(qtbot, item):
    plot = pg.PlotWidget(background="#000000")
    qtbot.addWidget(plot)
    plot.resize(400, 400)
    plot.addItem(item)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def _pixel(plot, x, y):
    image = plot.grab().toImage()
    vb = plot.getPlotItem().getViewBox()
    at = plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    return QColor(image.pixel(at.x(), at.y())), image, at


def test_dots_are_drawn_at_their_points_in_their_colour_and_nowhere_else(qtbot):
    cloud = PointCloud(QColor("#ff0000"), 7)
    plot = _plot(qtbot, cloud)
    plot.setRange(xRange=(-2, 2), yRange=(-2, 2), padding=0)
    cloud.setData(x=np.array([-1.0, 1.0, math.nan, 0.5]), y=np.array([-1.0, 1.0, 0.0, math.inf]))
    assert cloud.xy.tolist() == [[-1.0, -1.0], [1.0, 1.0]]  # the NaN / inf points are left out
    for x, y in ((-1.0, -1.0), (1.0, 1.0)):
        color, image, at = _pixel(plot, x, y)
        assert color.red() > 200 and color.green() < 40, (x, y, color.name())
        far = QColor(image.pixel(at.x() + 6, at.y()))  # 6 px away: past a 7 px dot's radius
        assert far.red() < 40
    assert _pixel(plot, 0.0, 0.0)[0].red() < 40  # nothing where there is no point
    # zoomed in 4×, a dot is still 7 px across (its size is in screen pixels)
    plot.setRange(xRange=(0.5, 1.5), yRange=(0.5, 1.5), padding=0)
    color, image, at = _pixel(plot, 1.0, 1.0)
    assert color.red() > 200 and QColor(image.pixel(at.x() + 6, at.y())).red() < 40


def test_the_views_auto_range_covers_the_points_and_an_empty_cloud_draws_nothing(qtbot):
    cloud = PointCloud(QColor("#00ff00"), 5)
    plot = _plot(qtbot, cloud)
    cloud.setData(x=np.array([10.0, 30.0]), y=np.array([-5.0, 5.0]))
    assert cloud.dataBounds(0) == (10.0, 30.0) and cloud.dataBounds(1) == (-5.0, 5.0)
    plot.getPlotItem().getViewBox().autoRange(padding=0)
    (x0, x1), (y0, y1) = plot.getPlotItem().getViewBox().viewRange()
    assert x0 <= 10.0 and x1 >= 30.0 and y0 <= -5.0 and y1 >= 5.0
    cloud.setData(x=np.zeros(0), y=np.zeros(0))
    assert len(cloud.xy) == 0 and cloud.dataBounds(0) == (None, None)
    plot.grab()  # painting an empty cloud is a no-op, not an error
