"""The Diffusion viewer page, driven through its widgets on a tiny trained DDPM."""

import numpy as np
import pytest

from studio.qt.widgets.image_view import to_qimage


@pytest.fixture
def page(qtbot, trained_run):
    from studio.qt.panels.diffusion import DiffusionPanel

    panel = DiffusionPanel()
    qtbot.addWidget(panel)
    panel.resize(1300, 820)
    panel.show()
    panel.open_run(trained_run("ddpm"))
    qtbot.waitUntil(lambda: panel.model is not None, timeout=30_000)
    yield panel
    panel.shutdown()


def same_picture(view, array) -> bool:
    return view.view.image() == to_qimage(array)


def run_and_wait(qtbot, panel, start) -> None:
    start()
    assert panel.busy
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)


def test_run_scrub_branch_and_forward(qtbot, page, tmp_path):
    assert not page.top.label_combo.isVisible()  # unconditional model: no class / guidance controls
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddim"))
    page.top.steps.setValue(20)
    page.top.eta.setValue(1.0)
    page.top.batch.setValue(4)
    page.top.seed.setValue(3)
    run_and_wait(qtbot, page, page.top.run_button.click)
    traj = page.trajectory
    assert traj.finished and page.step_page.filmstrip.count() == 20 and page.slider.maximum() == 19
    assert "Done" in page.message.text()

    # scrubbing shows exactly the stored frames (no recomputation)
    page.slider.setValue(5)
    assert same_picture(page.step_page.xt_view, traj.frame(5, "x_t"))
    assert same_picture(page.step_page.x0_view, traj.frame(5, "x0"))
    assert same_picture(page.step_page.eps_view, traj.frame(5, "eps"))
    assert page.timeline.step_label.text().startswith("step 6 / 20")
    page.show_combo.setCurrentIndex(page.show_combo.findData(2))  # one image, large
    assert same_picture(page.step_page.xt_view, traj.frame(5, "x_t", 2))
    page.show_combo.setCurrentIndex(0)
    # the last step's x̂₀ is the final sample
    page.slider.setValue(19)
    assert same_picture(page.step_page.x0_view, traj.final_frame())
    page.timeline.forward_button.click()
    assert page.slider.value() == 19
    page.timeline.back_button.click()
    assert page.slider.value() == 18
    page.step_page.filmstrip.frame_clicked.emit(7)
    assert page.slider.value() == 7 and page.step_page.filmstrip.current == 7

    # branch from step 10 with a new seed: equal up to step 10, different after
    page.slider.setValue(9)
    page.step_page.branch_sampler.setCurrentIndex(page.step_page.branch_sampler.findData("ddim"))
    page.step_page.branch_eta.setValue(1.0)
    page.step_page.branch_seed.setValue(77)
    run_and_wait(qtbot, page, page.step_page.branch_button.click)
    original, branch = page.pair.trajectories
    assert original is traj and branch.branch_step == 9 and branch.finished
    for i in range(10):
        assert np.array_equal(branch.frames(i, "x_t"), traj.frames(i, "x_t"))
    for i in range(10, 20):
        assert not np.array_equal(branch.frames(i, "x_t"), traj.frames(i, "x_t"))
    assert page.stack.currentIndex() == 1 and "Branch from step 10" in page.pair.titles[1].text()
    page.pair.slider.setValue(0)
    assert same_picture(page.pair.views[0][0], traj.frame(0, "x_t"))
    assert same_picture(page.pair.views[1][0], traj.frame(0, "x_t"))

    # compare two samplers on the same seed, with wall times
    page.pair.sampler_b.setCurrentIndex(page.pair.sampler_b.findData("dpmpp2m"))
    page.pair.steps_b.setValue(6)
    run_and_wait(qtbot, page, page.pair.compare_button.click)
    a, b = page.pair.trajectories
    assert a.n == 20 and b.n == 6 and b.spec.sampler == "dpmpp2m"
    assert np.array_equal(a.frames(0, "x_t"), b.frames(0, "x_t"))  # the same x_T
    assert all(" s" in d.text() for d in page.pair.details)

    # the forward process at t = 0 shows the dataset image itself
    page.mode_buttons.button(2).click()
    qtbot.waitUntil(lambda: page.forward.process is not None, timeout=30_000)
    page.forward.set_t(0)
    image = page._images[page.forward.index.value()].permute(1, 2, 0).numpy()
    assert same_picture(page.forward.original, image) and same_picture(page.forward.noisy, image)
    page.forward.set_t(page.forward.slider.maximum())
    assert not same_picture(page.forward.noisy, image)

    # exports
    assert [a.data() for a in page.export_button.menu().actions()] == ["step", "grid", "gif", "mp4"]
    for what, name in (("step", "s.png"), ("grid", "g.png"), ("gif", "a.gif"), ("mp4", "a.mp4")):
        with qtbot.waitSignal(page._tasks["export"].succeeded, timeout=30_000):
            page.export(what, str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0


def test_cancel_keeps_the_steps_so_far(qtbot, page):
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddpm"))
    page.top.steps.setValue(50)
    page.top.batch.setValue(16)
    page.top.run_button.click()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 2, timeout=30_000)
    page.top.cancel_button.click()
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    traj = page.trajectory
    assert traj.status == "cancelled" and 2 <= traj.done < 50 and page.step_page.filmstrip.count() == traj.done
    assert "Cancelled" in page.message.text()
    page.timeline.play_button.click()
    qtbot.waitUntil(lambda: not page.timeline.play_button.isChecked(), timeout=10_000)
    assert page.slider.value() == traj.done - 1


def test_save_dialogs_start_in_pictures_then_the_last_folder(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QFileDialog, QWidget

    from studio.qt.widgets import save_dialog

    starts = []

    def fake_dialog(parent, title, start, kinds):
        starts.append(start)
        return str(tmp_path / "chosen" / "out.gif"), kinds

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    parent = QWidget()
    qtbot.addWidget(parent)
    assert save_dialog.ask_save_path(parent, "Export", "a.gif", "GIF (*.gif)") == str(tmp_path / "chosen" / "out.gif")
    pictures = QStandardPaths.writableLocation(QStandardPaths.PicturesLocation)
    from pathlib import Path
    first = pictures if pictures and Path(pictures).is_dir() else str(Path.home())  # an absent Pictures: home
    assert starts[0] == str(Path(first) / "a.gif")
    (tmp_path / "chosen").mkdir()
    save_dialog.ask_save_path(parent, "Export", "b.png", "PNG (*.png)")
    assert starts[1] == str(tmp_path / "chosen" / "b.png")  # the folder last saved to


def test_a_model_change_cancels_the_run_and_clears_its_views(qtbot, page, trained_run):
    """Tester 29: the old model's frames stayed under the new model's name with 'Branch from
    step 50' enabled (it would have branched the new model from the old trajectory)."""
    page.top.sampler.setCurrentIndex(page.top.sampler.findData("ddpm"))
    page.top.steps.setValue(50)
    page.run()
    qtbot.waitUntil(lambda: page.trajectory is not None and page.trajectory.done >= 2, timeout=30_000)
    handle, old = page.handle, page.model
    page.open_run(trained_run("ddpm"))  # the same run, opened again: a new model object all the same
    assert page.model is None and page.trajectory is None and page.pair.trajectories == [None, None]
    assert not page.step_page.branch_button.isEnabled()
    assert page.step_page.xt_view.view.image() is None and page.step_page.filmstrip.count() == 0
    assert handle.wait(2.0), "the old model's run still samples"
    qtbot.waitUntil(lambda: page.model is not None and not page.busy, timeout=30_000)
    assert page.model is not old and page.trajectory is None and not page.step_page.branch_button.isEnabled()
    assert page.progress.value() == 0 and page.message.text().startswith("Ready")  # nothing of the old run


def test_branch_is_refused_at_the_last_step_and_says_why(qtbot, page):
    """Branch from the final step made a 0-step copy of the original."""
    page.top.steps.setValue(5)
    run_and_wait(qtbot, page, page.run)
    assert page.slider.value() == 4 and not page.step_page.branch_button.isEnabled()
    assert "Step 5 is the last" in page.step_page.branch_button.toolTip()
    page.branch()  # the shortcut's way in is refused too
    assert not page.busy
    page.slider.setValue(3)
    assert page.step_page.branch_button.isEnabled()
    assert "last" not in page.step_page.branch_button.toolTip()


@pytest.mark.parametrize("box, name, typed, words", [("steps", "Steps", "0", "you typed 0"),
                                                     ("batch", "Images", "0", "you typed 0"),
                                                     ("steps", "Steps", "", "the box was left empty")])
def test_a_number_outside_the_limits_is_refused_in_words(qtbot, page, box, name, typed, words):
    """Steps 0 and Images 0 silently went back to 50 and 16."""
    from PySide6.QtCore import Qt

    spin = getattr(page.top, box)
    kept, low, high = spin.value(), spin.minimum(), spin.maximum()
    assert low >= 1 and (box, high) in (("steps", 50), ("batch", 16))  # the tiny DDPM's T = 50
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClick(spin, Qt.Key_Delete)
    qtbot.keyClicks(spin, typed)
    qtbot.keyClick(spin, Qt.Key_Return)
    assert page.message.text() == f"{name} must be from {low} to {high} ({words}): kept {kept}."
    assert page.message.property("role") == "error" and spin.value() == kept
