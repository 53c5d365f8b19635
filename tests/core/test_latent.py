"""The latent-exploration core: maps, projections, paths, directions; long work reports through
``progress`` and stops when it raises ``Cancelled`` (the job protocol's ``progress_callback``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.engine.control import Control
from studio.engine.jobs import progress_callback
from studio.engine.reporting import RecordingReporter
from studio.latent import (PCA, Cancelled, DirectionStore, attribute_direction, directions_path, interpolate,
                           nearest_neighbors, open_space, slerp, tsne, walk)


@pytest.fixture(scope="module")
def vae_space(trained_run):
    return open_space(trained_run("vae"), limit=600, precision="fp32")


def test_open_space_encodes_the_training_images(vae_space, trained_run):
    from studio.runs import Run, load_model

    space = vae_space
    assert space.encoded and space.codes.shape == (600, 4) and space.images.shape == (600, 28, 28, 1)
    assert space.labels is not None and len(space.label_names) == 10
    # the codes are the model's own encodings of those images
    model = load_model(Run.open(trained_run("vae")))
    x = torch.from_numpy(space.images[:8]).permute(0, 3, 1, 2).float() / 127.5 - 1
    assert np.allclose(model.encode(x).numpy(), space.codes[:8], atol=1e-4)
    fast = open_space(trained_run("vae"), limit=600)  # bf16 autocast where the CPU has it: nearly the same
    assert np.allclose(fast.codes, space.codes, atol=0.05 * float(np.abs(space.codes).max()))
    # decoding gives uint8 images of the right shape; decode_one is the slider decoder's function
    one = space.decode_one((space.codes[3], None))
    assert one.dtype == np.uint8 and one.shape == (28, 28, 1)
    assert np.array_equal(one, space.decode(space.codes[3:4])[0])


def cancelled_after(calls: int):
    """A job protocol ``progress`` whose control is cancelled after ``calls`` reports."""
    control, seen = Control(), []
    report = progress_callback(RecordingReporter(), control)

    def progress(done, total, partial=None):
        seen.append((done, total))
        if len(seen) > calls:
            control.cancel()
        report(done, total, partial)

    return progress, seen


def test_progress_and_cancel_while_encoding(trained_run):
    seen = []
    open_space(trained_run("vae"), limit=1200, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 1200), (500, 1200), (1000, 1200), (1200, 1200)]
    progress, seen = cancelled_after(1)
    with pytest.raises(Cancelled):
        open_space(trained_run("vae"), limit=1200, progress=progress)
    assert seen == [(0, 1200), (500, 1200)]  # stopped before the next batch


def test_a_gan_maps_random_z_without_an_encoder(trained_run):
    space = open_space(trained_run("dcgan"), samples=300)
    assert not space.encoded and space.codes.shape == (300, 8) and space.images.shape[0] == 300
    with pytest.raises(ValueError, match="no encoder"):
        space.reconstruction_errors()
    # the map's images are what the generator makes of the map's z
    assert np.array_equal(space.decode(space.codes[:5]), space.images[:5])


def test_pca_inverse_and_ordering():
    rng = np.random.default_rng(0)
    codes = (rng.normal(size=(500, 6)) * [5, 3, 1, 0.5, 0.2, 0.1] + 2).astype(np.float32)
    pca = PCA.fit(codes)
    assert np.all(np.diff(pca.variances) <= 1e-6) and pca.explained.sum() == pytest.approx(1, abs=1e-5)
    assert np.allclose(pca.components @ pca.components.T, np.eye(6), atol=1e-5)
    full = pca.transform(codes, k=6)
    assert np.allclose(pca.inverse(full), codes, atol=1e-4)  # all components: exact round trip
    z = pca.inverse(np.array([1.5, -2.0], np.float32))  # other components at the mean
    assert np.allclose(pca.transform(z, k=6), [1.5, -2.0, 0, 0, 0, 0], atol=1e-4)


def test_tsne_runs_with_progress_and_cancels():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(size=(60, 5)), rng.normal(size=(60, 5)) + 8]).astype(np.float32)
    seen = []
    emb = tsne(codes, progress=lambda d, t: seen.append((d, t)))
    assert emb.shape == (120, 2) and seen[-1][0] == seen[-1][1] and len(seen) > 5
    # the two blobs stay apart
    gap = np.linalg.norm(emb[:60].mean(0) - emb[60:].mean(0))
    assert gap > 3 * emb[:60].std(0).max()
    for calls in (1, 8):  # during the neighbour search, during the optimisation
        progress, seen = cancelled_after(calls)
        with pytest.raises(Cancelled):
            tsne(codes, progress=progress)
        assert len(seen) == calls + 1  # the first report after the cancel raised


def test_nearest_neighbors_are_exact_and_exclude_each_point_itself():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1203, 6)).astype(np.float32)
    x[10] = x[11]  # a duplicate: each is the other's nearest, at distance 0
    idx, dist = nearest_neighbors(x, 5)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert idx.shape == (1203, 5) and not np.any(idx == np.arange(1203)[:, None])
    assert np.allclose(dist, np.sort(d, axis=1)[:, :5], atol=1e-4)
    assert idx[10, 0] == 11 and idx[11, 0] == 10 and dist[10, 0] == pytest.approx(0, abs=1e-3)


def test_lerp_slerp_and_walks():
    a, b = np.array([1, 0, 0], np.float32), np.array([0, 2, 0], np.float32)
    path = interpolate(a, b, 5, "lerp")
    assert path.shape == (5, 3) and np.array_equal(path[0], a) and np.array_equal(path[-1], b)
    assert np.allclose(path[2], [0.5, 1, 0])
    mid = slerp(np.array([1, 0], np.float32), np.array([0, 1], np.float32), 0.5)
    assert np.allclose(mid, [np.sqrt(0.5)] * 2, atol=1e-6)  # on the unit circle, unlike lerp's midpoint
    assert np.allclose(slerp(a, 2 * a, 0.5), 1.5 * a)  # parallel: falls back to lerp
    with pytest.raises(ValueError, match="at least 2 frames"):
        interpolate(a, b, 1)
    keys = np.array([[0, 0], [1, 2], [3, 1], [4, 4]], np.float32)
    w = walk(keys, 8)
    assert w.shape == (25, 2)
    assert all(np.allclose(w[i * 8], keys[i], atol=1e-6) for i in range(4))  # through every keyframe
    steps = np.linalg.norm(np.diff(w, axis=0), axis=1)
    assert steps.max() < 0.6  # smooth: no jumps
    loop = walk(keys, 4, loop=True)
    assert loop.shape == (16, 2) and np.allclose(loop[0], keys[0])
    with pytest.raises(ValueError, match="at least 2 keyframes"):
        walk(keys[:1], 4)


def test_attribute_directions_are_saved_atomically_with_the_run(tmp_path):
    codes = np.array([[1, 0], [3, 0], [0, 1], [0, 3]], np.float32)
    labels = np.array([0, 0, 1, 1])
    d = attribute_direction(codes, labels == 0, labels == 1)
    assert np.allclose(d, [2, -2])
    with pytest.raises(ValueError, match="both groups"):
        attribute_direction(codes, labels == 5, labels == 1)
    run = tmp_path / "run"
    run.mkdir()
    assert directions_path(run) == run.resolve() / "latent" / "directions.json"
    store = DirectionStore.for_run(run, 2)
    store.add("add trousers", d, "label Trouser", "label T-shirt")
    store.add("other", -d)
    again = DirectionStore.for_run(run, 2)
    assert again.names() == ["add trousers", "other"] and np.allclose(again.directions[0].array(), d)
    assert json.loads((run / "latent" / "directions.json").read_text())["format"] == \
        "generative-studio-latent-directions"
    assert not list((run / "latent").glob(".*tmp*"))  # nothing half-written left behind
    again.remove("other")
    assert DirectionStore.for_run(run, 2).names() == ["add trousers"]
    with pytest.raises(ValueError, match="name"):
        store.add("  ", d)
    (run / "latent" / "directions.json").write_text("{broken")
    with pytest.raises(ValueError, match="damaged"):
        DirectionStore.for_run(run, 2)


def test_reconstruction_errors_rank_anomalies(vae_space):
    progress, seen = cancelled_after(1)
    with pytest.raises(Cancelled):
        vae_space.reconstruction_errors(progress)
    assert seen == [(0, 600), (500, 600)] and vae_space.errors is None  # nothing half-measured is kept
    errors = vae_space.reconstruction_errors()
    assert errors.shape == (600,) and np.all(errors >= 0)
    i = int(np.argmax(errors))
    recon = vae_space.decode(vae_space.codes[i]).astype(np.float32)
    assert errors[i] == pytest.approx(float((((recon - vae_space.images[i]) / 127.5) ** 2).mean()), rel=1e-5)


def test_directions_of_a_bundled_demo_go_to_the_user_data_folder(tmp_path, monkeypatch):
    demos = tmp_path / "models"
    (demos / "vae-demo").mkdir(parents=True)
    monkeypatch.setattr("studio.latent.directions.demo_runs_root", lambda: demos)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = directions_path(demos / "vae-demo")
    assert path == tmp_path / "data" / "generative-studio" / "directions" / "vae-demo.json"
    DirectionStore.for_run(demos / "vae-demo", 3).add("up", np.ones(3, np.float32))
    assert path.exists() and not (demos / "vae-demo" / "latent").exists()  # the demo stays untouched


def test_slider_bases_move_one_coordinate_at_a_time():
    from studio.latent import SliderBasis

    rng = np.random.default_rng(1)
    codes = (rng.normal(size=(400, 5)) * [4, 2, 1, 0.5, 0.3]).astype(np.float32)
    for basis in (SliderBasis.principal(PCA.fit(codes), 3), SliderBasis.raw(codes)):
        z = codes[7]
        before = basis.values(z)
        moved = basis.with_value(z, 1, 2.5)
        after = basis.values(moved)
        assert after[1] == pytest.approx(2.5, abs=1e-5)
        assert np.allclose(np.delete(after, 1), np.delete(before, 1), atol=1e-5)
    assert SliderBasis.principal(PCA.fit(codes), 8).names == [f"Variation {i}" for i in range(1, 6)]  # at most d
