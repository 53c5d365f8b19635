"""studio.data: bundled and procedural datasets, conversions, the public API and the npz recipe."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.data import (DEFAULT_DATASET, DatasetError, ImageDataset, dataset_names, describe_dataset,
                         load_dataset, to_uint8, to_unit_range)

REPO = Path(__file__).resolve().parents[2]

BUNDLED = {  # name: (train size, test size, shape, classes)
    "fashion-mnist-5k": (5000, 1000, (1, 28, 28), 10),
    "mnist-5k": (4500, 500, (1, 28, 28), 10),
    "emoji-32": (1849, 100, (3, 32, 32), 0),
}


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_sets_load_both_splits(name):
    n_train, n_test, shape, classes = BUNDLED[name]
    train, test = load_dataset(name), load_dataset(name, split="test")
    for ds, n in ((train, n_train), (test, n_test)):
        assert len(ds) == n and ds.image_shape == shape
        assert ds.images.dtype == torch.uint8 and ds.images.is_contiguous()
        assert ds.num_classes == classes and ds.license
        assert ds.images.float().std() > 20  # real pictures, not blanks
        if classes:
            assert ds.labels.dtype == torch.int64 and len(ds.label_names) == classes
            assert torch.bincount(ds.labels).tolist() == [n // classes] * classes  # class-balanced
        else:
            assert ds.labels is None and ds.label_names is None
    info = train.info()
    assert info["size"] == n_train and info["resolution"] == shape[1] and info["channels"] == shape[0]
    # no test image is also a train image
    flat = lambda d: {bytes(x) for x in d.images.view(len(d), -1).numpy()}  # noqa: E731
    assert not flat(train) & flat(test)


def test_fashion_labels_and_default():
    ds = load_dataset(DEFAULT_DATASET)
    assert ds.name == "fashion-mnist-5k"
    assert ds.label_names[0] == "T-shirt/top" and ds.label_names[9] == "Ankle boot"


def test_emoji_is_composited_on_white():
    ds = load_dataset("emoji-32")
    corners = ds.images[:, :, 0, 0]
    assert (corners == 255).all(dim=1).float().mean() > 0.5  # most emoji leave the corner transparent


@pytest.mark.parametrize("name,shape,k", [("shapes", (1, 64, 64), 5), ("color-shapes", (3, 32, 32), 6)])
def test_procedural_is_deterministic_with_factors(name, shape, k):
    a = load_dataset(name, seed=3, size=300)
    b = load_dataset(name, seed=3, size=300)
    c = load_dataset(name, seed=4, size=300)
    t = load_dataset(name, seed=3, size=300, split="test")
    assert a.image_shape == shape and len(a) == 300
    assert torch.equal(a.images, b.images) and torch.equal(a.factors, b.factors)
    assert not torch.equal(a.images, c.images) and not torch.equal(a.factors, t.factors)
    assert a.factors.shape == (300, k) and len(a.factor_names) == k
    assert torch.equal(a.labels, a.factors[:, 0]) and a.label_names == ["square", "ellipse", "heart"]
    assert (a.images.flatten(1).amax(1) == 255).all()  # every image shows a shape


def test_shapes_factors_match_pixels():
    ds = load_dataset("shapes", seed=0, size=400)
    f = {n: ds.factors[:, i].float() for i, n in enumerate(ds.factor_names)}
    img = ds.images[:, 0].float()
    grid = torch.arange(64).float() + 0.5
    mass = img.sum((1, 2))
    cx = (img.sum(1) * grid).sum(1) / mass / 64
    cy = (img.sum(2) * grid).sum(1) / mass / 64
    err = torch.hypot(cx - (0.22 + 0.56 * f["pos_x"] / 31), cy - (0.22 + 0.56 * f["pos_y"] / 31))
    symmetric = f["shape"] < 2  # squares and ellipses: centroid exactly at the stated position
    assert err[symmetric].max() < 0.01 and err[~symmetric].max() < 0.06
    corr = torch.corrcoef(torch.stack([mass, f["scale"]]))[0, 1]
    assert corr > 0.8  # bigger scale, more ink


def test_color_shapes_colour_factor():
    ds = load_dataset("color-shapes", seed=1, size=200)
    color = ds.factors[:, ds.factor_names.index("color")]
    brightest = ds.images.flatten(2).amax(2).float()  # (N, 3) peak per channel
    red = color == 0
    assert (brightest[red, 0] > 200).all() and (brightest[red, 2] < 100).all()
    blue = color == 4
    assert (brightest[blue, 2] > 200).all() and (brightest[blue, 0] < 100).all()


def test_procedural_native_resolution_and_channels():
    ds = load_dataset("shapes", size=20, resolution=32, channels=3)
    assert ds.image_shape == (3, 32, 32)
    assert torch.equal(ds.images[:, 0], ds.images[:, 1])


def test_resolution_and_channel_conversion():
    ds = load_dataset("mnist-5k", split="test", resolution=32, channels=3)
    assert ds.image_shape == (3, 32, 32) and ds.images.dtype == torch.uint8
    assert torch.equal(ds.images[:, 0], ds.images[:, 2])
    gray = load_dataset("emoji-32", split="test", resolution=16, channels=1)
    assert gray.image_shape == (1, 16, 16)
    rgb = load_dataset("emoji-32", split="test", resolution=16)
    luma = (rgb.images.float() * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    assert (luma.round() - gray.images.float()).abs().max() <= 1


def test_size_takes_a_seeded_subset():
    a = load_dataset("fashion-mnist-5k", size=100, seed=1)
    b = load_dataset("fashion-mnist-5k", size=100, seed=1)
    c = load_dataset("fashion-mnist-5k", size=100, seed=2)
    assert len(a) == 100 and torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    assert len(load_dataset("mnist-5k", split="test", size=10**6)) == 500  # a cap, not a demand


def test_unit_range_round_trip():
    x = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    y = to_unit_range(x)
    assert y.dtype == torch.float32 and y.min() == -1 and y.max() == 1
    assert torch.equal(to_uint8(y), x)
    assert to_uint8(torch.tensor([-5.0, 5.0, float("nan")])).tolist() == [0, 255, 0]


def test_unknown_name_lists_known_ones():
    with pytest.raises(DatasetError) as err:
        load_dataset("fashion-mnist-50k")
    for name in dataset_names():
        assert name in str(err.value)
    assert "folder:" in str(err.value)


def test_bad_arguments():
    for kwargs in ({"split": "val"}, {"channels": 2}, {"size": 0}, {"resolution": 2}):
        with pytest.raises(DatasetError):
            load_dataset("mnist-5k", **kwargs)


def test_names_and_descriptions():
    names = dataset_names()
    assert names[:3] == ["fashion-mnist-5k", "mnist-5k", "emoji-32"]
    assert {"shapes", "color-shapes", "mnist", "fashion-mnist", "cifar10"} <= set(names)
    assert all(describe_dataset(n) for n in names)


def test_dataset_validates_its_tensors():
    with pytest.raises(DatasetError):
        ImageDataset("x", torch.zeros(2, 1, 4, 4), None, None)  # float, not uint8
    with pytest.raises(DatasetError):
        ImageDataset("x", torch.zeros(2, 2, 4, 4, dtype=torch.uint8), None, None)  # 2 channels
    with pytest.raises(DatasetError):
        ImageDataset("x", torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3), ["a"])


def test_shipped_npz_match_recorded_hashes():
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_datasets.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok ") == 3


def test_npz_files_hold_no_pickles():
    for name in BUNDLED:
        with np.load(REPO / "resources" / "data" / f"{name}.npz", allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)


def test_import_is_light():
    code = "import sys, studio.data; bad = {'torchvision', 'PySide6', 'PIL'} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
