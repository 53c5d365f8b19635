"""The Diffusion viewer's "Edit a picture" page, driven through its widgets: bringing a picture in
(open, drop, paste, dataset), img2img with scrubbing, branching and exports, inpainting with a
painted mask, class swap on the bundled conditional demo, cancel and closing the window."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage

from studio.editing import fit_array, load_picture, repaint_path
from studio.editing.picture import named_mask, to_pixels
from studio.editing.session import file_source, tint
from studio.qt.widgets.image_view import to_qimage
from tests.qt.test_diffusion_page import page as viewer  # noqa: F401 (a fixture: the viewer on a tiny DDPM)
from tests.qt.test_diffusion_page import same_picture

GRAY = (1, 28, 28)


@pytest.fixture
def page(viewer, qtbot):
    """The viewer on a tiny trained DDPM, on its Edit page: DDIM, 10 steps, η 1, 2 images."""
    qtbot.waitUntil(lambda: viewer.edit._images is not None, timeout=30_000)
    viewer.mode_buttons.button(3).click()
    viewer.top.sampler.setCurrentIndex(viewer.top.sampler.findData("ddim"))
    viewer.top.steps.setValue(10)
    viewer.top.eta.setValue(1.0)
    viewer.top.batch.setValue(2)
    return viewer


def wide_picture(path):
    """90 × 30: red, green and blue thirds."""
    a = np.zeros((30, 90, 3), np.uint8)
    a[:, :30, 0] = a[:, 30:60, 1] = a[:, 60:, 2] = 255
    Image.fromarray(a).save(path)
    return path


def bring_dataset_image(qtbot, page, index: int = 0) -> None:
    page.edit.dataset_index.setValue(index)
    page.edit.dataset_button.click()
    session = page.edit.session
    qtbot.waitUntil(lambda: session.picture is not None and session.source.name == f"dataset image {index}",
                    timeout=20_000)


def edit_and_wait(qtbot, page) -> None:
    page.top.run_button.click()
    assert page.busy
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)


def test_a_picture_comes_in_by_open_drop_paste_or_dataset(qtbot, page, tmp_path, monkeypatch):
    edit, session = page.edit, page.edit.session
    assert page.top.run_button.text() == "▶  Edit"
    page.top.run_button.click()  # nothing to edit yet: said, nothing starts
    assert not page.busy and page.message.text().startswith("The picture comes first: drop a file")

    wide = wide_picture(tmp_path / "wide.png")
    monkeypatch.setattr("studio.qt.widgets.save_dialog.QFileDialog.getOpenFileName",
                        lambda *args: (str(wide), "Pictures"))
    edit.open_button.click()
    qtbot.waitUntil(lambda: session.picture is not None, timeout=20_000)
    crop = load_picture(wide, GRAY, "crop")
    assert np.array_equal(session.picture, crop)
    assert edit.canvas.image() == to_qimage(to_pixels(crop)[0])
    assert page.message.text() == "Fitted wide.png to 28×28 (crop): press ▶ Edit (Ctrl+Enter)."
    edit.fit_combo.setCurrentIndex(edit.fit_combo.findData("pad"))  # the same file, fitted again
    qtbot.waitUntil(lambda: session.picture is not None, timeout=20_000)
    assert np.array_equal(session.picture, load_picture(wide, GRAY, "pad")) and not np.array_equal(
        session.picture, crop)

    other = tmp_path / "dot.png"
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(other)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    edit.dropEvent(QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    qtbot.waitUntil(lambda: session.source.name == "dot.png" and session.picture is not None, timeout=20_000)
    assert float(session.picture.min()) == 1.0  # all white

    rgba = np.zeros((20, 10, 4), np.uint8)
    rgba[..., 1] = 255
    rgba[:, :5, 3] = 255  # the right half transparent: on white
    QGuiApplication.clipboard().setImage(QImage(rgba.data, 10, 20, 40, QImage.Format_RGBA8888).copy())
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=5_000)
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key_V, Qt.ControlModifier)
    qtbot.waitUntil(lambda: session.source.kind == "pixels" and session.picture is not None, timeout=20_000)
    assert np.array_equal(session.picture, fit_array(rgba, GRAY, "pad"))
    QGuiApplication.clipboard().clear()
    edit.paste()
    assert page.message.text().startswith("The clipboard holds no picture")

    bring_dataset_image(qtbot, page, 7)
    assert session.source.name == "dataset image 7"
    assert np.array_equal(session.picture, fit_array(edit._images[7].permute(1, 2, 0).numpy(), GRAY))

    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    edit.bring(file_source(bad))
    qtbot.waitUntil(lambda: "not a readable image" in page.message.text(), timeout=20_000)
    assert session.source.name == "dataset image 7"  # the picture on screen stays
    page.mode_buttons.button(0).click()
    assert page.top.run_button.text() == "▶  Run"


def test_img2img_shows_every_step_scrubs_branches_exports_and_strength_0_gives_the_picture_back(
        qtbot, page, tmp_path):
    edit = page.edit
    bring_dataset_image(qtbot, page, 3)
    edit.strength.setValue(50)
    assert edit.cost.text().startswith("5 of 10 denoising steps × 2 images")
    edit_and_wait(qtbot, page)
    traj = page.trajectory
    assert traj is edit.session.trajectory and traj.n == 5 and traj.finished and page.state.mode == "edit"
    assert page.stack.currentWidget() is edit and "Done in" in page.message.text()
    assert same_picture(edit.x0_view, traj.final_frame()) and same_picture(edit.xt_view, traj.frame(4, "x_t"))
    # the page's timeline scrubs the same state as Step through, which shows x_t, x̂₀ and ε
    edit.timeline.slider.setValue(1)
    assert page.state.step == 1 and page.slider.value() == 1
    assert same_picture(edit.xt_view, traj.frame(1, "x_t")) and same_picture(edit.x0_view, traj.frame(1, "x0"))
    for view, kind in ((page.step_page.xt_view, "x_t"), (page.step_page.x0_view, "x0"),
                       (page.step_page.eps_view, "eps")):
        assert same_picture(view, traj.frame(1, kind))
    assert page.step_page.filmstrip.count() == 5 and edit.timeline.step_label.text().startswith("step 2 / 5")
    page.show_combo.setCurrentIndex(page.show_combo.findData(1))  # one image, large
    assert same_picture(edit.xt_view, traj.frame(1, "x_t", 1))
    page.show_combo.setCurrentIndex(0)

    for what, name in (("step", "s.png"), ("gif", "a.gif"), ("grid", "g.png")):
        with qtbot.waitSignal(page._tasks["export"].succeeded, timeout=30_000):
            page.export(what, str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0

    # branch from step 2 with the same settings: the edit is reproduced on its own timesteps
    page.step_page.branch_sampler.setCurrentIndex(page.step_page.branch_sampler.findData("ddim"))
    page.step_page.branch_eta.setValue(1.0)
    page.step_page.branch_seed.setValue(0)
    assert page.step_page.branch_button.isEnabled()
    page.branch(2)
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    original, branch = page.pair.trajectories
    assert original is traj and branch.timesteps == traj.timesteps and branch.finished
    assert all(np.array_equal(branch.frames(i, "x_t"), traj.frames(i, "x_t")) for i in range(5))

    edit.strength.setValue(0)
    assert "your picture, unchanged" in edit.cost.text()
    page.mode_buttons.button(3).click()
    edit_and_wait(qtbot, page)
    picture = to_pixels(edit.session.picture)
    assert page.trajectory.n == 0 and np.array_equal(page.trajectory.final, np.repeat(picture, 2, axis=0))
    assert same_picture(edit.x0_view, page.trajectory.final_frame()) and "unchanged" in edit.x0_view.caption.text()


def _drag(qtbot, canvas, points, button=Qt.LeftButton) -> None:
    """Press at the first picture pixel, move through the others, release (pixel centres)."""
    rect, scale = canvas.image_rect(), canvas.image_rect().width() / canvas.image().width()
    pos = [QPoint(round(rect.left() + (x + 0.5) * scale), round(rect.top() + (y + 0.5) * scale)) for x, y in points]
    qtbot.mousePress(canvas, button, Qt.NoModifier, pos[0])
    for p in pos[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, button, Qt.NoModifier, pos[-1])


def test_inpainting_with_a_painted_mask_keeps_the_rest_and_cannot_be_branched(qtbot, page):
    edit, session = page.edit, page.edit.session
    bring_dataset_image(qtbot, page, 1)
    assert not edit.mask_card.isVisible() and not edit.canvas.painting
    _drag(qtbot, edit.canvas, [(3, 5), (3, 20)])  # img2img: the mouse paints nothing
    assert not session.mask.any()
    edit.method_buttons.button(1).click()
    assert edit.mask_card.isVisible() and edit.canvas.painting and not edit.rows["strength"].isVisible()
    page.top.run_button.click()
    assert not page.busy and page.message.text().startswith("The mask is empty")

    edit.brush.setValue(1)
    _drag(qtbot, edit.canvas, [(3, 5), (3, 9), (3, 20)])  # a vertical stroke, filled in between the moves
    assert session.mask[5:21, 3].all() and session.mask.sum() == 16
    edit.brush.setValue(3)
    _drag(qtbot, edit.canvas, [(3, 10), (3, 12)], Qt.RightButton)  # the right button erases
    assert not session.mask[9:14, 3].any() and session.mask[5:8, 3].all()
    edit.erase.setChecked(True)
    _drag(qtbot, edit.canvas, [(3, 6)])
    assert not session.mask[6, 3]
    edit.erase.setChecked(False)
    before = session.mask.copy()
    edit.invert_button.click()
    assert np.array_equal(session.mask, ~before)
    edit.clear_button.click()
    assert not session.mask.any()
    edit.preset_button.menu().actions()[1].trigger()  # right half
    assert np.array_equal(session.mask, named_mask("right", 28)[0, 0].numpy() > 0)
    assert edit.canvas.image() == to_qimage(session.picture_pixels(tinted=True))

    edit.jump.setValue(2)
    edit.resample.setValue(2)
    path = repaint_path(10, 2, 2)
    n = sum(b == a + 1 for a, b in zip(path, path[1:]))
    assert edit.cost.text().startswith(f"{n} denoising steps × 2 images")
    edit_and_wait(qtbot, page)
    traj, mask = page.trajectory, session.edit_mask
    assert traj.n == n and traj.finished and page.step_page.filmstrip.count() == n
    kept = to_pixels(session.picture)[0][~mask]
    assert all(np.abs(final[~mask].astype(int) - kept).max() <= 1 for final in traj.final)
    assert same_picture(edit.x0_view, tint(traj.final_frame(), mask, 2))  # the generated region tinted
    edit.tint_box.setChecked(False)
    assert same_picture(edit.x0_view, traj.final_frame())
    button = page.step_page.branch_button
    assert not button.isEnabled() and "Inpainting cannot be branched" in button.toolTip()
    assert "branch" not in page.message.text()
    edit.method_buttons.button(0).click()  # img2img again: branchable, the usual tooltip
    edit_and_wait(qtbot, page)
    page.slider.setValue(page.trajectory.done - 2)  # (the last step has nothing left to branch)
    assert button.isEnabled() and button.toolTip().startswith("Continue from the x_t on screen")


def test_class_swap_on_the_conditional_demo(qtbot, page):
    from studio.resources import resource_path

    swap = page.edit.method_buttons.button(2)
    assert not swap.isEnabled() and "class-conditional" in swap.toolTip()  # the tiny ddpm is unconditional
    bring_dataset_image(qtbot, page, 4)
    mine = page.edit.session.picture
    page.open_run(str(resource_path("models", "ddpm-cfg-fashion-mnist")))
    qtbot.waitUntil(lambda: page.edit.session.num_classes == 10 and page.edit._images is not None, timeout=30_000)
    edit = page.edit
    qtbot.waitUntil(lambda: edit.session.picture is not None, timeout=20_000)  # your picture, fitted again
    assert edit.session.source.name == "dataset image 4" and np.array_equal(edit.session.picture, mine)
    assert swap.isEnabled() and edit.target.count() == 10 and edit.target.itemText(3) == "Dress"
    bring_dataset_image(qtbot, page, 0)
    swap.click()
    assert edit.rows["target"].isVisible() and edit.rows["guidance"].isVisible() and edit.rows["strength"].isVisible()
    edit.target.setCurrentIndex(3)
    edit.guidance.setValue(3.0)
    edit.strength.setValue(70)
    page.top.steps.setValue(10)
    page.top.batch.setValue(1)
    edit_and_wait(qtbot, page)
    traj = page.trajectory
    assert traj.finished and traj.n == 7 and traj.spec.label == 3 and traj.spec.guidance == 3.0


def test_escape_cancels_an_edit_and_keeps_its_steps(qtbot, page):
    bring_dataset_image(qtbot, page)
    page.edit.method_buttons.button(1).click()
    page.edit.session.set_named_mask("left")
    page.top.steps.setValue(50)
    page.top.batch.setValue(8)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=5_000)
    page.edit.setFocus()
    page.top.run_button.click()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 2, timeout=30_000)
    qtbot.keyClick(page.edit, Qt.Key_Escape)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    traj = page.trajectory
    assert traj.status == "cancelled" and 2 <= traj.done < traj.n and "Cancelled" in page.message.text()
    assert page.edit.timeline.slider.maximum() == traj.done - 1


def test_closing_the_window_mid_edit_ends_the_job(window, trained_run, qtbot):
    from tests.qt.test_closing import _close_and_check

    page = window.diffusion
    window.show_page("diffusion")
    page.open_run(trained_run("ddpm"))
    qtbot.waitUntil(lambda: page.model is not None and page.edit._images is not None, timeout=30_000)
    page.mode_buttons.button(3).click()
    bring_dataset_image(qtbot, page)
    page.edit.method_buttons.button(1).click()
    page.edit.session.set_named_mask("top")
    page.top.steps.setValue(50)
    page.run()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 1, timeout=30_000)
    _close_and_check(window, qtbot)
    assert page.trajectory.status == "cancelled" and page.trajectory.done < page.trajectory.n


def _fits(window, qtbot, what) -> None:
    qtbot.wait(20)
    need = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert need.width() <= 1340 and need.height() <= 730, (what, need.toTuple())


def test_the_edit_page_fits_1366_by_768_with_every_method_and_an_error(window, trained_run, qtbot, tmp_path):
    page = window.diffusion
    window.show_page("diffusion")
    page.mode_buttons.button(3).click()
    _fits(window, qtbot, "no model")
    page.open_run(trained_run("ddpm"))
    qtbot.waitUntil(lambda: page.model is not None and page.edit._images is not None, timeout=30_000)
    bring_dataset_image(qtbot, page)
    deep = tmp_path.joinpath(*["a folder with a long name, " * 4] * 6)
    deep.mkdir(parents=True)
    (deep / "notes.png").write_text("not a picture")
    page.edit.bring(file_source(deep / "notes.png"))  # an error naming the file, not its 700-character path
    qtbot.waitUntil(lambda: page.message.text() == "notes.png: not a readable image (unknown format or corrupt "
                                                   "header)", timeout=20_000)
    for method in range(2):  # class swap needs a conditional model: below
        page.edit.method_buttons.button(method).click()
        _fits(window, qtbot, method)


def test_the_edit_page_fits_1366_by_768_with_a_class_conditional_model(window, qtbot):
    from studio.resources import resource_path

    page = window.diffusion
    window.show_page("diffusion")
    page.open_run(str(resource_path("models", "ddpm-cfg-fashion-mnist")))
    qtbot.waitUntil(lambda: page.edit.session.num_classes == 10, timeout=30_000)
    page.mode_buttons.button(3).click()
    page.edit.method_buttons.button(2).click()
    _fits(window, qtbot, "class swap")


def test_a_new_picture_mid_edit_cancels_it_and_nothing_of_the_old_picture_stays(qtbot, page):
    """Tester F8: opening another picture while an edit ran swapped "Your picture", said "press ▶ Edit"
    with ▶ Edit off, and the old picture's edit finished as "the result" beside the new one."""
    edit, session = page.edit, page.edit.session
    bring_dataset_image(qtbot, page, 1)
    edit.method_buttons.button(1).click()
    edit.preset_button.menu().actions()[1].trigger()  # Half ▸ right: a preset, kept for the next picture
    page.top.steps.setValue(50)
    page.top.batch.setValue(8)
    page.top.run_button.click()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 2, timeout=30_000)
    handle, old = page.handle, page.trajectory
    bring_dataset_image(qtbot, page, 2)
    assert page.trajectory is None and edit.x0_view.view.image() is None and edit.xt_view.view.image() is None
    assert handle.wait(5.0), "the old picture's edit still runs"
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert old.status == "cancelled" and page.trajectory is None and session.trajectory is None
    assert page.message.text() == ("Fitted dataset image 2 to 28×28 (crop); the edit of dataset image 1 was "
                                   "cancelled: press ▶ Edit (Ctrl+Enter).")
    assert page.top.run_button.isEnabled() and not page.export_button.isEnabled() and page.progress.value() == 0
    assert np.array_equal(session.mask, named_mask("right", 28)[0, 0].numpy() > 0)
    assert page.step_page.filmstrip.count() == 0
    page.top.steps.setValue(10)
    edit_and_wait(qtbot, page)  # the new picture's edit: its own result
    assert session.is_edit(page.trajectory) and page.trajectory.finished and edit.x0_view.view.image() is not None


def test_a_new_picture_after_an_edit_clears_its_result_and_painted_mask(qtbot, page, tmp_path, monkeypatch):
    """Tester F8 (idle) and F9: the old x_t / x̂₀ and the painted mask stayed beside a new picture; the
    status line said "Alpha.png" for alpha.png."""
    edit, session = page.edit, page.edit.session
    bring_dataset_image(qtbot, page, 1)
    edit.method_buttons.button(1).click()
    edit.brush.setValue(3)
    _drag(qtbot, edit.canvas, [(5, 5), (5, 20)])
    assert session.mask.any()
    edit_and_wait(qtbot, page)
    assert edit.x0_view.view.image() is not None and page.export_button.isEnabled()
    alpha = wide_picture(tmp_path / "alpha.png")
    monkeypatch.setattr("studio.qt.widgets.save_dialog.QFileDialog.getOpenFileName",
                        lambda *args: (str(alpha), "Pictures"))
    edit.open_button.click()
    qtbot.waitUntil(lambda: session.source.name == "alpha.png", timeout=20_000)
    assert page.message.text() == "Fitted alpha.png to 28×28 (crop): press ▶ Edit (Ctrl+Enter)."
    assert not session.mask.any() and edit.canvas.image() == to_qimage(session.picture_pixels(tinted=True))
    assert edit.x0_view.view.image() is None and edit.xt_view.view.image() is None
    assert page.trajectory is None and not page.export_button.isEnabled()
    assert edit.timeline.slider.maximum() == 0 and not edit.timeline.play_button.isEnabled()


def test_the_conditional_demo_at_1366_by_768_reads_whole_and_class_swap_owns_the_class(window, qtbot):
    """Tester F12: the Model box shrank to "Demo · ddpm…· step 800" (both demos read the same); Class
    swap showed two class pickers and two guidance fields; after a model switch the Dataset image box
    went back to 0 while the picture was still image 999, and the progress bar stayed full."""
    from studio.resources import resource_path

    page, top = window.diffusion, window.diffusion.top
    window.resize(1366, 768)
    window.show_page("diffusion")
    page.open_run(str(resource_path("models", "ddpm-fashion-mnist")))
    qtbot.waitUntil(lambda: page.model is not None and page.edit._images is not None, timeout=30_000)
    page.mode_buttons.button(3).click()
    bring_dataset_image(qtbot, page, 999)
    top.steps.setValue(10)
    top.batch.setValue(2)
    edit_and_wait(qtbot, page)
    assert page.progress.value() == page.progress.maximum() > 0
    page.open_run(str(resource_path("models", "ddpm-cfg-fashion-mnist")))
    session = page.edit.session
    qtbot.waitUntil(lambda: session.num_classes == 10 and page.edit._images is not None
                    and session.picture is not None, timeout=30_000)
    assert page.edit.dataset_index.value() == 999 and session.source.name == "dataset image 999"
    assert page.progress.value() == 0 and page.trajectory is None
    qtbot.wait(50)
    shown = page.picker.combo.shown_text()  # which demo: "ddpm-cfg" shows (it was "Demo · ddpm…· step 800")
    assert shown.startswith("Demo · ddpm-cfg-fash") and "step 800" in shown, shown
    assert top.label_combo.isVisible() and top.label_combo.isEnabled() and top.guidance.isEnabled()
    page.edit.method_buttons.button(2).click()  # class swap: the Edit panel's Target class and Guidance rule
    for box in (top.label_combo, top.guidance):
        assert not box.isEnabled() and box.toolTip() == "Class swap uses the Edit panel's Target class and Guidance"
    top.steps.setValue(10)
    top.batch.setValue(1)
    edit_and_wait(qtbot, page)
    assert not top.label_combo.isEnabled() and page.trajectory.spec.label == session.target
    page.edit.method_buttons.button(0).click()  # img2img takes the top bar's class and guidance
    assert top.label_combo.isEnabled() and top.guidance.isEnabled() and "Edit panel" not in top.guidance.toolTip()
    page.edit.method_buttons.button(2).click()
    page.mode_buttons.button(0).click()  # sampling, on Step through: the top bar's again
    assert top.label_combo.isEnabled() and top.guidance.isEnabled()
    _fits(window, qtbot, "conditional demo")
