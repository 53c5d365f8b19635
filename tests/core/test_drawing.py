"""Drawing fresh samples from a run (the Runs page's "Draw samples")."""

import numpy as np
import pytest

from studio.engine.drawing import draw_classes, draw_samples


def test_pixelcnn_draws_a_chosen_class_pixel_by_pixel(trained_run):
    path = trained_run("pixelcnn", steps=3)  # fashion-mnist-5k has labels: conditional by default
    assert draw_classes(path)[:2] == ["T-shirt/top", "Trouser"] and len(draw_classes(path)) == 10
    frames = []
    grid = draw_samples(path, n=2, label=7, seed=3, progress=lambda done, total, g: frames.append((done, total, g)))
    assert grid.dtype == np.uint8 and grid.shape[:2] == (2 + 28 + 2, 2 + 2 * 30)
    dones = [d for d, _, _ in frames]
    assert dones == sorted(dones) and dones[-1] == frames[0][1] == 28 * 28 and len(frames) == 28 * 4
    assert np.array_equal(frames[-1][2], grid)
    assert frames[0][2][2:30, 2:30].std() < grid[2:30, 2:30].std()  # the first frame: one row drawn
    assert np.array_equal(draw_samples(path, n=2, label=7, seed=3), grid)  # a seed gives the same grid
    assert not np.array_equal(draw_samples(path, n=2, label=7, seed=4), grid)
    with pytest.raises(ValueError, match="class 10 is not one of"):
        draw_samples(path, n=1, label=10)


def test_a_stop_raised_by_progress_stops_drawing(trained_run):
    class Stop(Exception):
        pass

    calls = []

    def progress(done, total, grid):
        calls.append(done)
        raise Stop

    with pytest.raises(Stop):
        draw_samples(trained_run("pixelcnn", steps=3), n=1, progress=progress)
    assert calls == [7]  # the first frame, a quarter of the first row


def test_an_unconditional_run_draws_in_one_go_and_refuses_a_class(trained_run):
    path = trained_run("vae")
    assert draw_classes(path) == []
    frames = []
    grid = draw_samples(path, n=8, seed=0, progress=lambda done, total, g: frames.append((done, total)))
    assert grid.shape[:2] == (2 + 2 * 30, 2 + 4 * 30) and frames == [(0, 1), (1, 1)]
    with pytest.raises(ValueError, match="unconditional"):
        draw_samples(path, n=2, label=1)


def test_one_of_each_class_draws_every_class(trained_run, monkeypatch):
    """'One of each class' on a 10-class model draws all 10 (8 images used to leave Bag and
    Ankle boot out): 2 rows of 5."""
    from studio.models.cdcgan import CDCGAN

    run = trained_run("cdcgan")  # trained before the recording starts
    seen = []
    real = CDCGAN.sample

    def recording(self, n, *args, labels=None, **kwargs):
        seen.append(None if labels is None else labels.tolist())
        return real(self, n, *args, labels=labels, **kwargs)

    monkeypatch.setattr(CDCGAN, "sample", recording)
    grid = draw_samples(run, n=8, label=None, seed=1)
    assert seen == [list(range(10))]
    assert grid.shape[:2] == (2 + 2 * 30, 2 + 5 * 30)
