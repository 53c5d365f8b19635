"""The Diffusion viewer at 1366×768 in every state: the window never asks for more than a laptop
gives it (minimumSizeHint ≤ 1340×730: the screen less a frame and task bar), no text is cut off
(every label, button and combo box fits its room, or elides with "…" and says it all in its
tooltip), the forward-process pictures are large, and the schedule's legend is off the curves."""

import json
import shutil

import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget

from studio.resources import resource_path

LONG = "a-run-with-a-very-long-name-that-an-artist-typed-to-remember-what-she-tried-" * 2


def clipped(root: QWidget) -> list[str]:
    """Every visible widget under ``root`` whose text does not fit its width and is not elided."""
    bad = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or w.width() <= 0 or not w.isVisible():
            continue
        if isinstance(w, QLabel) and w.text() and not w.pixmap():
            full = getattr(w, "full_text", None)
            if full is not None and w.text() != full:  # an elided label: "…" and the whole text as tooltip
                ok = w.text().endswith("…") and full in w.toolTip()
            elif w.wordWrap():
                ok = w.heightForWidth(w.width()) <= w.height() + 1
            else:
                ok = w.sizeHint().width() <= w.width() + 1
            if not ok:
                bad.append(f"label {w.text()[:40]!r}: {w.sizeHint().width()} > {w.width()}")
        elif isinstance(w, QAbstractButton) and w.text() and w.sizeHint().width() > w.width() + 1:
            bad.append(f"button {w.text()!r}: {w.sizeHint().width()} > {w.width()}")
        elif isinstance(w, QComboBox) and w.currentText():
            shown = getattr(w, "shown_text", lambda: w.currentText())()
            room = w.width() - 36  # the arrow and the frame
            if w.fontMetrics().horizontalAdvance(shown) > room and not shown.endswith("…"):
                bad.append(f"combo {shown[:40]!r}: {w.fontMetrics().horizontalAdvance(shown)} > {room}")
    return bad


def fits(window, qtbot, state: str, page: QWidget | None = None) -> None:
    """The window fits 1340×730 and nothing in ``page`` (default: the Diffusion viewer) is clipped."""
    qtbot.wait(30)
    need = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert need.width() <= 1340 and need.height() <= 730, (state, need.toTuple())
    window.resize(1340, 730)
    qtbot.wait(30)
    assert window.width() <= 1340 and window.height() <= 730, (state, window.size().toTuple())
    assert clipped(page or window.diffusion) == [], state


@pytest.fixture
def viewer(window, qtbot, tmp_path, monkeypatch):
    """The window on the Diffusion viewer with the bundled DDPM copied under a long run name."""
    runs = tmp_path / "runs"
    shutil.copytree(resource_path("models", "ddpm-fashion-mnist"), runs / LONG)
    meta = json.loads((runs / LONG / "run.json").read_text())
    meta.update(name=LONG, demo=False)
    (runs / LONG / "run.json").write_text(json.dumps(meta))
    window.resize(1340, 730)
    window.show_page("diffusion")
    return window


def test_the_diffusion_viewer_fits_1366_by_768_in_every_state(viewer, qtbot):
    window, page = viewer, viewer.diffusion
    fits(window, qtbot, "idle, no model")
    qtbot.waitUntil(lambda: page.model is not None and page._images is not None, timeout=60_000)
    assert LONG in page.picker.combo.currentText()  # the newest own run opened: the long name
    fits(window, qtbot, "model loaded")
    page.top.steps.setValue(1000)
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddpm"))
    page.run()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 2, timeout=60_000)
    fits(window, qtbot, "running")
    page.cancel()
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    fits(window, qtbot, "cancelled")
    page.slider.setValue(0)
    page.timeline.play_button.click()
    assert page.timeline.play_button.text().endswith("Pause")
    fits(window, qtbot, "playing")
    page.timeline.stop()
    assert page.timeline.play_button.text().endswith("Play")
    fits(window, qtbot, "paused")
    page.top.steps.setValue(3)
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddim"))
    page.run()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.message.full_text.startswith("Done")
    fits(window, qtbot, "finished")
    page.top.steps.setMinimum(1)  # an option the core refuses (one step from pure noise)
    page.top.steps.setValue(1)
    page.run()
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert "at least 2" in page.message.full_text
    fits(window, qtbot, "failed")
    page.top.say("Saved diffusion.gif in " + "/a/long/folder" * 60)
    fits(window, qtbot, "long message")
    page.mode_buttons.button(1).click()
    fits(window, qtbot, "side by side")
    page.mode_buttons.button(2).click()
    qtbot.waitUntil(lambda: page.forward.process is not None, timeout=30_000)
    fits(window, qtbot, "forward process")
    page.mode_buttons.button(3).click()
    fits(window, qtbot, "edit a picture")
    page.edit.dataset_button.click()  # a dataset picture to edit
    qtbot.waitUntil(lambda: page.edit.session.picture is not None, timeout=20_000)
    for method in range(2):
        page.edit.method_buttons.button(method).click()
        fits(window, qtbot, f"edit a picture, method {method}")


def test_the_viewer_fits_with_a_class_conditional_model(window, qtbot):
    page = window.diffusion
    window.resize(1340, 730)
    window.show_page("diffusion")
    page.open_run(str(resource_path("models", "ddpm-cfg-fashion-mnist")))
    qtbot.waitUntil(lambda: page.model is not None and page.top.label_combo.count() == 12, timeout=60_000)
    combo = page.top.label_combo
    for data in (-1, 9, None):  # "One of each class" (the default; was cut to "One of each cl"), Ankle boot, ...
        combo.setCurrentIndex(combo.findData(data))
        fits(window, qtbot, f"class-conditional, {combo.currentText()}")
    page.mode_buttons.button(3).click()
    qtbot.waitUntil(lambda: page.edit.session.num_classes == 10, timeout=30_000)
    page.edit.method_buttons.button(2).click()
    fits(window, qtbot, "class swap")


def test_forward_process_pictures_are_large_and_grow_with_the_window(viewer, qtbot):
    window, page = viewer, viewer.diffusion
    qtbot.waitUntil(lambda: page.model is not None and page._images is not None, timeout=60_000)
    page.mode_buttons.button(2).click()
    qtbot.waitUntil(lambda: page.forward.process is not None, timeout=30_000)
    window.resize(1340, 730)
    qtbot.wait(50)
    views = (page.forward.original, page.forward.noisy, page.forward.added)
    small = [v.view.image_rect().width() / v.view.image().width() for v in views]
    assert min(small) >= 6, small  # 28 px images at least 168 px on a 1366×768 laptop (were 84)
    plot, pictures = page.forward.plot, page.forward.noisy
    assert plot.height() < pictures.height()  # the pictures have the room, not the plot
    window.resize(1900, 1040)
    qtbot.wait(50)
    large = [v.view.image_rect().width() / v.view.image().width() for v in views]
    assert min(large) > max(small), (small, large)


def test_the_schedule_legend_is_beside_the_curves_not_over_them(viewer, qtbot):
    import pyqtgraph as pg
    from PySide6.QtCore import QPoint, QRect

    page = viewer.diffusion
    qtbot.waitUntil(lambda: page.model is not None and page._images is not None, timeout=60_000)
    for mode, plot in ((0, page.step_page.schedule), (2, page.forward.plot)):
        page.mode_buttons.button(mode).click()
        qtbot.wait(50)
        legend = plot.legend
        assert legend.isVisible() and legend.sizeHint().width() <= legend.width()
        vb = plot.getPlotItem().vb
        data = vb.mapViewToScene(vb.childrenBoundingRect()).boundingRect()  # the curves, in scene pixels
        data = QRect(plot.mapTo(page, plot.mapFromScene(data).boundingRect().topLeft()),
                     plot.mapFromScene(data).boundingRect().size())
        box = QRect(legend.mapTo(page, QPoint(0, 0)), legend.size())
        assert not box.intersects(data), (mode, box, data)
        assert not QRect(plot.mapTo(page, QPoint(0, 0)), plot.size()).intersects(box)  # outside the plot
        assert not [i for i in plot.scene().items() if isinstance(i, pg.LegendItem)]  # none inside the plot


def sampled(window, qtbot, steps: int):
    """The viewer after a DDIM trajectory of ``steps`` steps."""
    page = window.diffusion
    qtbot.waitUntil(lambda: page.model is not None and page._images is not None, timeout=60_000)
    page.top.steps.setValue(steps)
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddim"))
    page.run()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    return page


def test_filmstrip_labels_are_whole_or_absent_when_scrolled(viewer, qtbot):
    """A thumbnail scrolled half out of view never shows its label cut ("=320" for "t=320")."""
    page = sampled(viewer, qtbot, 50)
    strip = page.step_page.filmstrip
    stride, metrics = strip.CELL + strip.PAD, strip.viewport().fontMetrics()
    bar = strip.horizontalScrollBar()
    assert bar.maximum() > 3 * stride
    for offset in range(stride, 3 * stride, 7):  # the leftmost thumbnail more or less out of view
        bar.setValue(offset)
        boxes = strip.label_boxes()
        for i, box, text in boxes:
            assert box.left() >= 0 and box.right() < strip.viewport().width(), (offset, i)
            assert metrics.horizontalAdvance(text) <= box.width(), (offset, text, box.width())
        whole = [i for i in range(strip.count()) if strip.PAD + i * stride - offset >= 0 and
                 strip.PAD + i * stride - offset + strip.CELL <= strip.viewport().width()]
        assert set(whole) <= {i for i, _, _ in boxes}, offset  # every whole thumbnail keeps its label


def test_the_step_views_schedule_is_tall_enough_to_read(viewer, qtbot):
    """At 1366×768 the Step view's schedule plot is ≥ 140 px tall (was ~100) and its 0–1 axis
    labels are at least two text lines apart; the values at the cursor are one line."""
    from PySide6.QtGui import QImage, QPainter

    window, page = viewer, sampled(viewer, qtbot, 3)
    window.resize(1340, 730)
    qtbot.wait(50)
    plot = page.step_page.schedule
    assert plot.height() >= 140, plot.height()
    for side, least in (("left", 3), ("right", 2)):
        axis = plot.getPlotItem().getAxis(side)
        canvas = QImage(10, 10, QImage.Format_ARGB32)
        painter = QPainter(canvas)
        texts = axis.generateDrawSpecs(painter)[2]  # the tick labels as drawn: (rect, flags, text)
        painter.end()
        if side == "left":
            assert [text for _, _, text in texts] == ["0", "0.5", "1"]
        assert len(texts) >= least, (side, [t for _, _, t in texts])
        tops = sorted(rect.top() for rect, _, _ in texts)
        gaps = [b - a for a, b in zip(tops, tops[1:])]
        assert min(gaps) >= 2 * plot.fontMetrics().height(), (side, gaps)  # a free line between labels
    page.slider.setValue(1)
    assert plot.readout.full_text.startswith("t = ") and QLabel.text(plot.readout) == plot.readout.full_text
