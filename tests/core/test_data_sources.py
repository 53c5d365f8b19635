"""studio.data sources that read the user's disk: folder:PATH, MNIST-style IDX roots, CIFAR-10 pickles."""

import gzip
import json
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import studio.data.standard as standard
from studio.data import DatasetError, load_dataset

UNICODE_NAME = "ñandú 画像.png"


def _save(path: Path, image: Image.Image, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kw)
    return path


def _noise(size=(48, 40), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


@pytest.fixture
def messy_folder(tmp_path):
    root = tmp_path / "pics"
    cats, dogs = root / "cats", root / "dogs"
    _save(cats / "red.png", Image.new("RGB", (40, 30), (255, 0, 0)))
    _save(cats / "noise.jpg", _noise(), quality=90)
    _save(cats / UNICODE_NAME, Image.new("RGB", (20, 20), (0, 0, 255)))
    clear = Image.new("RGBA", (24, 24), (0, 0, 0, 0))  # fully transparent black -> white
    _save(cats / "clear.png", clear)
    _save(dogs / "gray.png", Image.new("L", (64, 32), 100))
    _save(dogs / "sub" / "deep.bmp", Image.new("RGB", (33, 33), (0, 200, 0)))  # nested: still a dog
    frames = [Image.new("P", (16, 16), 1), Image.new("P", (16, 16), 2)]
    frames[0].save(dogs / "anim.gif", save_all=True, append_images=frames[1:])
    (dogs / "zero.png").write_bytes(b"")
    jpeg = io.BytesIO()
    _noise((64, 64), 1).save(jpeg, "JPEG", quality=95)
    (dogs / "trunc.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    (dogs / "fake.png").write_text("this is not a png")
    (dogs / "notes.txt").write_text("hello")
    (root / ".DS_Store").write_bytes(b"\0\0")
    return root


def test_folder_with_classes_and_bad_files(messy_folder):
    calls = []
    ds = load_dataset(f"folder:{messy_folder}", resolution=16, progress=lambda d, t: calls.append((d, t)))
    assert ds.name == f"folder:{messy_folder.resolve()}"
    assert ds.image_shape == (3, 16, 16) and len(ds) == 7
    assert ds.label_names == ["cats", "dogs"] and ds.labels.tolist() == [0] * 4 + [1] * 3
    skipped = {Path(p).name: reason for p, reason in ds.skipped}
    assert set(skipped) == {"zero.png", "trunc.jpg", "fake.png", "notes.txt"}
    assert "0 bytes" in skipped["zero.png"] and "truncated" in skipped["trunc.jpg"]
    assert "not a readable image" in skipped["fake.png"] and ".txt" in skipped["notes.txt"]
    assert ds.info()["skipped"] == 4
    assert calls and calls[-1] == (10, 10)  # the 10 files with image extensions
    # files load in sorted order: cats/{clear, noise, red, ñandú}, dogs/{anim, gray, sub/deep}
    clear, red, blue = ds.images[0], ds.images[2], ds.images[3]
    assert (clear == 255).all()  # transparent composited on white
    assert red[0].min() > 250 and red[1:].max() < 5
    assert blue[2].min() > 250 and blue[:2].max() < 5  # the unicode-named file
    gray = ds.images[5]
    assert (gray == 100).all()


def test_folder_gray_only_defaults_to_one_channel(tmp_path):
    for i in range(3):
        _save(tmp_path / f"g{i}.png", Image.new("L", (10, 14), 50 * i))
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.image_shape == (1, 32, 32) and ds.labels is None and ds.label_names is None
    assert load_dataset(f"folder:{tmp_path}", channels=3).image_shape == (3, 32, 32)


def test_folder_single_subfolder_has_no_labels(tmp_path):
    _save(tmp_path / "only" / "a.png", _noise())
    _save(tmp_path / "b.png", _noise(seed=2))
    ds = load_dataset(f"folder:{tmp_path}", resolution=8)
    assert len(ds) == 2 and ds.labels is None and ds.num_classes == 0


def test_folder_crop_keeps_the_centre(tmp_path):
    im = Image.new("RGB", (90, 30), (0, 0, 0))
    im.paste((255, 255, 255), (30, 0, 60, 30))  # white middle third
    _save(tmp_path / "wide.png", im)
    ds = load_dataset(f"folder:{tmp_path}", resolution=12)
    assert ds.images.float().mean() > 250


def test_folder_test_split_is_a_fixed_sample(tmp_path):
    for i in range(30):
        _save(tmp_path / f"{i:02d}.png", Image.new("RGB", (8, 8), (i * 8, 0, 0)))
    test = load_dataset(f"folder:{tmp_path}", split="test", resolution=8)
    again = load_dataset(f"folder:{tmp_path}", split="test", resolution=8)
    assert len(test) == 3 and torch.equal(test.images, again.images) and test.split == "test"


def test_folder_errors_name_the_path(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="empty") as err:
        load_dataset(f"folder:{empty}")
    assert str(empty) in str(err.value)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "readme.txt").write_text("x")
    (junk / "fake.jpg").write_bytes(b"\xff\xd8 nope")
    with pytest.raises(DatasetError, match="no readable images") as err:
        load_dataset(f"folder:{junk}")
    assert str(junk) in str(err.value)
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(f"folder:{junk / 'readme.txt'}")


# ---------------------------------------------------------------- IDX roots

def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _mnist_root(root: Path, sub: str, gz: bool, n=(12, 5)):
    raw = root / sub / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    out = {}
    for prefix, count in zip(("train", "t10k"), n):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = np.arange(count) % 10
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            data, name = _idx(arr), f"{prefix}-{kind}-ubyte"
            (raw / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
        out[prefix] = (images, labels)
    return out


@pytest.mark.parametrize("name,sub,gz", [("mnist", "MNIST", True), ("fashion-mnist", "FashionMNIST", False)])
def test_idx_roots(tmp_path, name, sub, gz):
    truth = _mnist_root(tmp_path, sub, gz)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        ds = load_dataset(name, root=str(tmp_path), split=split)
        images, labels = truth[prefix]
        assert ds.image_shape == (1, 28, 28) and len(ds) == len(images)
        assert np.array_equal(ds.images[:, 0].numpy(), images) and np.array_equal(ds.labels.numpy(), labels)
        assert ds.num_classes == 10


def test_idx_missing_and_corrupt(tmp_path, monkeypatch):
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", root=str(tmp_path))
    assert "--download" in str(err.value) and str(tmp_path) in str(err.value) and "MNIST/raw" in str(err.value)
    monkeypatch.setenv("STUDIO_DATA_ROOT", str(tmp_path / "env"))
    with pytest.raises(DatasetError, match="env"):
        load_dataset("fashion-mnist")
    _mnist_root(tmp_path, "MNIST", gz=False)
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="truncated"):
        load_dataset("mnist", root=str(tmp_path))


def test_download_fetches_then_reads(tmp_path, monkeypatch):
    fetched = []

    def fake_download(name, root):
        fetched.append(name)
        _mnist_root(root, "MNIST", gz=True)

    monkeypatch.setattr(standard, "download", fake_download)
    with pytest.raises(DatasetError):
        load_dataset("mnist", root=str(tmp_path))
    ds = load_dataset("mnist", root=str(tmp_path), download=True)
    assert fetched == ["mnist"] and len(ds) == 12
    load_dataset("mnist", root=str(tmp_path), download=True)
    assert fetched == ["mnist"]  # present now: no second fetch


# ---------------------------------------------------------------- CIFAR-10 pickles

class _Py2Array:
    """Pickles like an array written by Python 2 numpy (the real CIFAR files): raw data as a str."""

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        a = self.array
        state = (1, a.shape, a.dtype, False, a.tobytes().decode("latin1"))
        return np._core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), state


def _dump(obj, protocol) -> bytes:
    if protocol != "py2":
        return pickle.dumps(obj, protocol=protocol)
    obj = {k.decode(): _Py2Array(v) if isinstance(v, np.ndarray) else v for k, v in obj.items()}
    return pickle.dumps(obj, protocol=2).replace(b"numpy._core", b"numpy.core")


def _cifar_root(root: Path, protocol, n: int = 4) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batch = {b"batch_label": b"batch", b"labels": [(i + j) % 10 for j in range(n)],
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [b"f%d.png" % j for j in range(n)]}
        (folder / name).write_bytes(_dump(batch, protocol))
    meta = {b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                             b"dog", b"frog", b"horse", b"ship", b"truck"], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(_dump(meta, protocol))
    return folder


@pytest.mark.parametrize("protocol", ["py2", 2, pickle.HIGHEST_PROTOCOL])
def test_cifar_root(tmp_path, protocol):
    folder = _cifar_root(tmp_path, protocol)
    ds = load_dataset("cifar10", root=str(tmp_path))
    assert ds.image_shape == (3, 32, 32) and len(ds) == 20 and ds.label_names[0] == "airplane"
    first = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="latin1")
    first = {k.decode() if isinstance(k, bytes) else k: v for k, v in first.items()}
    assert np.array_equal(ds.images[:4].reshape(4, -1).numpy(), first["data"])
    assert ds.labels[:4].tolist() == first["labels"]
    test = load_dataset("cifar10", root=str(tmp_path), split="test", resolution=16, channels=1)
    assert test.image_shape == (1, 16, 16) and len(test) == 4


class _Evil:
    def __init__(self, call, arg):
        self.call, self.arg = call, arg

    def __reduce__(self):
        return self.call, (self.arg,)


@pytest.mark.parametrize("call", [os.system, eval, getattr(np, "load")])
def test_cifar_refuses_code_in_pickles(tmp_path, call):
    folder = _cifar_root(tmp_path, 2)
    marker = tmp_path / "MARKER"
    arg = f"touch {marker}" if call is os.system else (f"open({str(marker)!r}, 'w')" if call is eval else str(marker))
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": _Evil(call, arg), b"labels": []}, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_3") as err:
        load_dataset("cifar10", root=str(tmp_path))
    assert "refusing to load" in str(err.value)
    assert not marker.exists()


def test_cifar_missing_and_malformed(tmp_path):
    with pytest.raises(DatasetError, match="CIFAR-10 not found") as err:
        load_dataset("cifar10", root=str(tmp_path))
    assert "--download" in str(err.value)
    folder = _cifar_root(tmp_path, 2)
    (folder / "test_batch").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DatasetError, match="test_batch"):
        load_dataset("cifar10", root=str(tmp_path), split="test")
    (folder / "test_batch").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="test_batch"):
        load_dataset("cifar10", root=str(tmp_path), split="test")


# ---------------------------------------------------------------- folders through `studio train`

def test_train_lists_skipped_files_and_stores_the_absolute_folder(messy_folder, tmp_path, monkeypatch, capsys,
                                                                  tiny_options):
    from studio.cli import main

    monkeypatch.chdir(messy_folder.parent)
    run = tmp_path / "run"
    sets = [a for k, v in tiny_options["autoencoder"].items() for a in ("--set", f"{k}={v}")]
    assert main(["train", "--family", "autoencoder", "--data", f"folder:{messy_folder.name}", "--steps", "2",
                 "--batch-size", "4", "--device", "cpu", "--precision", "fp32", "--preview-every", "0",
                 "--run-dir", str(run), *sets]) == 0
    err = capsys.readouterr().err
    assert f"skipped 4 files in {messy_folder.resolve()}:" in err
    assert "  dogs/zero.png: empty file (0 bytes)" in err and "  dogs/notes.txt: not an image type (.txt)" in err
    assert f"full list: {run / 'skipped.txt'}" in err
    lines = (run / "skipped.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# 4 files skipped (path, tab, reason)"
    listed = dict(line.split("\t") for line in lines[1:])
    assert {Path(p).name for p in listed} == {"zero.png", "trunc.jpg", "fake.png", "notes.txt"}
    assert listed[str(messy_folder.resolve() / "dogs" / "zero.png")] == "empty file (0 bytes)"
    meta = json.loads((run / "run.json").read_text())
    assert meta["data"] == meta["spec"]["data"] == f"folder:{messy_folder.resolve()}"
    # resuming from another directory reads the same folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["resume", str(run), "--steps", "1"]) == 0
    assert json.loads((run / "run.json").read_text())["step"] == 3


def test_describe_skipped_shortens_and_counts():
    from studio.data.folder import describe_skipped, skipped_report

    skipped = [(f"/data/pics/{i}.txt", "not an image type (.txt)") for i in range(7)]
    lines = describe_skipped(skipped, "/data/pics", first=3)
    assert lines == ["skipped 7 files in /data/pics:", "  0.txt: not an image type (.txt)",
                     "  1.txt: not an image type (.txt)", "  2.txt: not an image type (.txt)", "  … and 4 more"]
    assert describe_skipped([]) == [] and describe_skipped(skipped[:1])[0] == "skipped 1 file:"
    text = skipped_report([("/a/tab\there\nx.png", "why")]).decode()
    assert text.splitlines()[1] == "/a/tab\\there\\nx.png\twhy"


def test_canonical_spec_resolves_folders_only(tmp_path, monkeypatch):
    from studio.data import canonical_spec

    monkeypatch.chdir(tmp_path)
    assert canonical_spec("folder:small") == f"folder:{tmp_path.resolve() / 'small'}"
    assert canonical_spec(" fashion-mnist-5k ") == "fashion-mnist-5k" and canonical_spec("folder:") == "folder:"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert canonical_spec("folder:~/pics") == f"folder:{tmp_path.resolve() / 'pics'}"


def test_special_files_in_a_folder_are_skipped_not_opened(tmp_path):
    Image.new("RGB", (8, 8), (1, 2, 3)).save(tmp_path / "ok.png")
    os.mkfifo(tmp_path / "pipe.png")  # opening it would block forever
    (tmp_path / "dangling.png").symlink_to(tmp_path / "missing.png")
    ds = load_dataset(f"folder:{tmp_path}", resolution=8)
    assert len(ds) == 1
    assert {Path(p).name: r for p, r in ds.skipped} == {"dangling.png": "not a regular file",
                                                        "pipe.png": "not a regular file"}
