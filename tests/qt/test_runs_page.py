"""The Runs page: runs made by the CLI appear; open, rename, delete, resume on the Train page;
a folder dropped on the window becomes the dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio import cli
from studio.runs import Run, default_runs_root


def _cli_run(name: str) -> Path:
    path = default_runs_root() / name
    code = cli.main(["train", "--family", "autoencoder", "--steps", "4", "--batch-size", "8", "--set", "width=8",
                     "--set", "latent_dim=4", "--run-dir", str(path)])
    assert code == 0
    return path


def _open(window, qtbot, path: Path):
    runs = window.runs
    window.show_page("runs")
    qtbot.waitUntil(lambda: str(path) in runs.row_paths(), timeout=10_000)
    assert runs.select(str(path))
    qtbot.waitUntil(lambda: runs.current is not None and runs.current.run.path == path, timeout=10_000)
    return runs


def test_a_cli_run_is_listed_and_opens_with_curves_and_samples(window, qtbot):
    path = _cli_run("from-the-cli")
    runs = _open(window, qtbot, path)
    row = runs.row_paths().index(str(path))
    texts = [runs.table.rows.item(row, c).text() for c in range(1, 6)]
    assert texts == ["from-the-cli", "autoencoder", "fashion-mnist-5k", "4", "finished"]
    assert runs.table.rows.item(row, 0).data(Qt.DecorationRole) is not None  # latest-sample thumbnail
    assert list(runs.plot.series["recon"].steps) == [1, 2, 3, 4]
    assert runs.previews.current()[0] == 4
    assert runs.resume_button.isEnabled()


def test_rename_and_delete(window, qtbot, monkeypatch):
    path = _cli_run("old-name")
    runs = _open(window, qtbot, path)
    monkeypatch.setattr(runs, "ask_new_name", lambda current: "new-name")
    runs.rename_button.click()
    new = path.with_name("new-name")
    assert new.is_dir() and not path.exists()
    assert Run.open(new).name == "new-name"
    qtbot.waitUntil(lambda: str(new) in runs.row_paths() and runs.current is not None, timeout=10_000)
    monkeypatch.setattr(runs, "confirm", lambda *args: False)
    runs.delete_button.click()
    assert new.is_dir()
    monkeypatch.setattr(runs, "confirm", lambda *args: True)
    runs.delete_button.click()
    assert not new.exists()
    qtbot.waitUntil(lambda: str(new) not in runs.row_paths(), timeout=10_000)


def test_resume_from_the_runs_page_continues_on_the_train_page(window, qtbot):
    path = _cli_run("to-resume")
    runs = _open(window, qtbot, path)
    runs.extra_steps.setValue(3)
    with qtbot.waitSignal(window.train.run_ended, timeout=60_000) as ended:
        runs.resume_button.click()
        assert window.page == "train"
    assert ended.args == [str(path), "finished"]
    assert Run.open(path).step == 7
    steps = list(window.train.plot.series["recon"].steps)
    assert steps == list(range(1, 8))  # the history, then the live steps


def test_a_folder_dropped_on_the_window_becomes_the_dataset(window, qtbot, tmp_path):
    folder = tmp_path / "my drawings"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    (folder / "notes.txt").write_text("not an image")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.show_page("runs")
    window.dropEvent(event)
    picker = window.train.setup.dataset
    assert window.page == "train"
    assert picker.spec == f"folder:{folder.resolve()}"
    qtbot.waitUntil(lambda: not picker.loading, timeout=20_000)
    assert picker.summary.info["size"] == 6
    assert "1 file skipped: notes.txt" in picker.info.text()
    assert picker.resolution.itemText(0) == "Default (32 px)"  # a folder is resized: not "native"
    assert window.train.controls.start_button.isEnabled()


def test_draw_samples_of_a_chosen_class_grow_pixel_by_pixel_and_stop(window, qtbot, trained_run):
    import shutil

    path = default_runs_root() / "pixels"  # a copy of the tiny conditional PixelCNN run the session shares
    shutil.copytree(trained_run("pixelcnn", steps=3), path)
    runs = _open(window, qtbot, path)
    qtbot.waitUntil(lambda: runs.draw_class.isVisible(), timeout=10_000)  # conditional on the dataset's labels
    assert runs.draw_class.count() == 11 and runs.draw_class.itemText(8) == "Sneaker"
    runs.draw_class.setCurrentIndex(8)
    partials = []
    runs.drawer.task.partial.connect(partials.append)
    before = len(runs.previews.history)
    qtbot.mouseClick(runs.draw_button, Qt.LeftButton)
    assert runs.draw_button.text() == "Stop"
    qtbot.waitUntil(lambda: len(runs.previews.history) == before + 1, timeout=60_000)
    assert runs.draw_button.text() == "Draw samples" and "sneaker" in runs.previews.note.text().lower()
    assert len(partials) > 10 and np.array_equal(partials[-1], runs.previews.current()[1])
    assert runs.previews.current()[1].shape[:2] == (2 + 2 * 30, 2 + 4 * 30)  # 8 as 2 rows of 4

    # Ctrl+D again draws with a new seed; Stop (the same button) ends it and adds nothing
    partials.clear()
    runs.draw_button.setFocus()
    qtbot.keyClick(runs.draw_button, Qt.Key_D, Qt.ControlModifier)
    qtbot.waitUntil(lambda: len(partials) > 0, timeout=30_000)
    qtbot.mouseClick(runs.draw_button, Qt.LeftButton)
    assert runs.draw_button.text() == "Draw samples" and runs.previews.note.text() == "Stopped."
    qtbot.wait(300)
    assert len(runs.previews.history) == before + 1 and not runs.drawer.task.busy


def test_bundled_demos_are_listed_read_only_and_can_draw(window, qtbot, trained_run, tmp_path, monkeypatch):
    import shutil

    demos = tmp_path / "models"
    shutil.copytree(trained_run("vae"), demos / "vae-fashion-mnist")
    monkeypatch.setattr("studio.qt.panels.runs.demo_runs_root", lambda: demos)
    window.runs.refresh()
    runs = _open(window, qtbot, demos / "vae-fashion-mnist")
    row = runs.row_paths().index(str(demos / "vae-fashion-mnist"))
    assert runs.table.rows.item(row, 1).text() == f"Demo · {Run.open(demos / 'vae-fashion-mnist').name}"
    assert not any(b.isEnabled() for b in (runs.rename_button, runs.delete_button, runs.resume_button))
    assert "read-only" in runs.delete_button.toolTip()
    assert runs.draw_button.isEnabled()
    before = len(runs.previews.history)
    qtbot.mouseClick(runs.draw_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(runs.previews.history) == before + 1, timeout=30_000)
    assert not runs.draw_class.isVisible()  # an unconditional VAE: no class to choose


def test_the_thumbnail_of_a_strip_of_samples_shows_the_first_whole(qapp, trained_run, tmp_path):
    import shutil

    from studio.qt.widgets.run_table import list_run_rows

    shutil.copytree(trained_run("vae"), tmp_path / "strip")
    sample = Run.open(tmp_path / "strip").latest_sample()
    strip = np.zeros((32, 8 * 32, 3), np.uint8)
    for k in range(8):
        strip[:, 32 * k:32 * (k + 1)] = (30 * k, 255 - 30 * k, 128)
    strip[16:, 16:32] = (255, 0, 0)  # the first sample's lower right quarter
    Image.fromarray(strip).save(sample)
    thumb = list_run_rows(tmp_path)[0].thumbnail
    last = thumb.width() - 2, thumb.height() - 2
    # all of the first sample (not a magnified quarter of it), none of the second
    assert thumb.pixelColor(1, 1).getRgb()[:3] == thumb.pixelColor(last[0], 1).getRgb()[:3] == (0, 255, 128)
    assert thumb.pixelColor(*last).getRgb()[:3] == (255, 0, 0)


def test_resume_offers_the_steps_left_to_a_run_that_stopped_early_then_the_extension(window, qtbot):
    """A run stopped at step 2 of its planned 6 offers the 4 left (not 1,000); resumed with them
    it finishes at 6, and then offers the default extension."""
    from studio.qt.widgets.run_resume import EXTENSION

    path = _cli_run("stopped-early")  # 4 steps, finished
    Run.open(path).save_meta(status="stopped", step=4, target_step=10)  # as a Stop at step 4 of 10 leaves it
    runs = _open(window, qtbot, path)
    assert runs.extra_steps.value() == 6
    assert "6 left of its planned 10" in runs.extra_steps.toolTip()
    with qtbot.waitSignal(window.train.run_ended, timeout=60_000) as ended:
        runs.resume_button.click()
    assert ended.args == [str(path), "finished"]
    assert Run.open(path).step == 10 and Run.open(path).steps_left == 0
    runs = _open(window, qtbot, path)
    qtbot.waitUntil(lambda: runs.current.run.step == 10, timeout=10_000)
    assert runs.extra_steps.value() == EXTENSION == 1000
    assert "reached its planned 10" in runs.extra_steps.toolTip()


def test_copy_path_is_off_without_a_run_and_says_copied(window, qtbot, monkeypatch):
    from PySide6.QtGui import QGuiApplication

    from studio.qt.widgets import run_actions

    monkeypatch.setattr(run_actions, "COPIED_MS", 200)
    runs = window.runs
    window.show_page("runs")
    assert not runs.copy_path_button.isEnabled() and "Choose a run" in runs.copy_path_button.toolTip()
    path = _cli_run("to-copy")
    runs = _open(window, qtbot, path)
    button = runs.copy_path_button
    assert button.isEnabled() and button.text() == "Copy path"
    width = button.width()
    QGuiApplication.clipboard().setText("")
    qtbot.mouseClick(button, Qt.LeftButton)
    assert QGuiApplication.clipboard().text() == str(path)
    assert button.text() == "Copied ✓" and button.width() == width  # said on the button, which keeps its size
    qtbot.waitUntil(lambda: button.text() == "Copy path", timeout=2_000)
