"""MNIST, Fashion-MNIST and CIFAR-10 read from torchvision's on-disk layout under a data root.

The files are parsed here (IDX with numpy; CIFAR pickles with an unpickler that only admits
numpy array reconstruction), so a torchvision folder works without running its loaders.
torchvision is imported only to download, and only when asked to.
"""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from .base import DatasetError, ImageDataset
from .names import STANDARD, default_data_root  # noqa: F401 (default_data_root: exported here too)

MNIST_LIKE = {
    # name: (torchvision folder, label names, licence)
    "mnist": ("MNIST", [str(d) for d in range(10)],
              "CC BY-SA 3.0; MNIST by Y. LeCun, C. Cortes, C. J. C. Burges"),
    "fashion-mnist": ("FashionMNIST", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
                      "MIT; Fashion-MNIST (c) 2017 Zalando SE"),
}
CIFAR_DIR = "cifar-10-batches-py"
CIFAR_LICENSE = "CIFAR-10 by A. Krizhevsky, V. Nair, G. Hinton (research use; no explicit licence)"
DESCRIPTIONS = STANDARD  # names.py (torch-free)


# ---------------------------------------------------------------- IDX (MNIST-style)

def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally .gz) of unsigned bytes -> numpy array."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}; delete it and download again") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an IDX file of unsigned bytes; delete it and download again")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise DatasetError(f"{path} is truncated or corrupt (header says {shape}); delete it and download again")
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_mnist_like(name: str, root: Path, split: str) -> ImageDataset:
    sub, label_names, license = MNIST_LIKE[name]
    prefix = "train" if split == "train" else "t10k"
    raw = root / sub / "raw"
    paths = [_find(raw, f"{prefix}-images-idx3-ubyte"), _find(raw, f"{prefix}-labels-idx1-ubyte")]
    if None in paths:
        raise DatasetError(f"{sub} not found under {root}; download it (needs internet: studio train --download) "
                           f"or choose a data root (--data-root) holding {sub}/raw/{prefix}-images-idx3-ubyte[.gz] and "
                           f"{prefix}-labels-idx1-ubyte[.gz]")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1] != images.shape[2] or labels.shape != images.shape[:1]:
        raise DatasetError(f"{paths[0]} and {paths[1]} do not match: {images.shape} vs {labels.shape}")
    return ImageDataset(name, torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64)),
                        list(label_names), license=license, split=split)


# ---------------------------------------------------------------- CIFAR-10 pickles

def _numpy_callables() -> dict[tuple[str, str], object]:
    """The few globals a pickled numpy array refers to, under both numpy 1 and 2 module names."""
    core = getattr(np, "_core", None) or np.core
    allowed = {}
    for mod in ("numpy.core", "numpy._core"):
        allowed[(f"{mod}.multiarray", "_reconstruct")] = core.multiarray._reconstruct
        allowed[(f"{mod}.multiarray", "scalar")] = core.multiarray.scalar
        allowed[(f"{mod}.numeric", "_frombuffer")] = core.numeric._frombuffer
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    allowed[("_codecs", "encode")] = allowed[("codecs", "encode")] = _latin1_encode
    return allowed


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Python 3 bytes pickled at protocol < 3 come back through codecs.encode(str, 'latin1')."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"encoding {encoding!r} not allowed")
    return text.encode("latin1")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    _allowed = None

    def find_class(self, module: str, name: str):
        if _NumpyOnlyUnpickler._allowed is None:
            _NumpyOnlyUnpickler._allowed = _numpy_callables()
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def read_cifar_batch(path: Path) -> dict:
    """A CIFAR python batch, unpickled without running anything but numpy array reconstruction."""
    try:
        with open(path, "rb") as f:
            obj = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a CIFAR batch"
        raise DatasetError(f"{path} is not a valid CIFAR batch ({exc}); delete it and download again") from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{path} is not a valid CIFAR batch (expected a dict); delete it and download again")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def load_cifar10(root: Path, split: str) -> ImageDataset:
    folder = root / CIFAR_DIR
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    missing = [n for n in names + ["batches.meta"] if not (folder / n).is_file()]
    if missing:
        raise DatasetError(f"CIFAR-10 not found under {root} (missing {CIFAR_DIR}/{missing[0]}); download it "
                           f"(needs internet: studio train --download) or choose a data root (--data-root) holding "
                           f"{CIFAR_DIR}/")
    images, labels = [], []
    for n in names:
        batch = read_cifar_batch(folder / n)
        data, lab = batch.get("data"), batch.get("labels")
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 \
                or lab is None or len(lab) != len(data):
            raise DatasetError(f"{folder / n} is not a valid CIFAR-10 batch; delete it and download again")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(np.asarray(lab, dtype=np.int64))
    meta = read_cifar_batch(folder / "batches.meta").get("label_names")
    label_names = [m.decode() if isinstance(m, bytes) else str(m) for m in meta] if meta else None
    return ImageDataset("cifar10", torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels)),
                        label_names, license=CIFAR_LICENSE, split=split)


# ---------------------------------------------------------------- download

def download(name: str, root: Path) -> None:
    """Fetch the raw files with torchvision (imported only here) into root, torchvision's layout."""
    try:
        from torchvision import datasets
        from torchvision.datasets.utils import download_and_extract_archive
    except ImportError as exc:
        raise DatasetError(f"downloading {name} needs torchvision ({exc}); "
                           f"install it or use a local --data-root") from exc
    try:
        root.mkdir(parents=True, exist_ok=True)
        if name == "cifar10":  # fetch and extract only: torchvision's own loader would unpickle
            c = datasets.CIFAR10
            if not (root / CIFAR_DIR / "batches.meta").is_file():
                download_and_extract_archive(c.url, str(root), filename=c.filename, md5=c.tgz_md5)
        else:
            cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
            cls(str(root), train=True, download=True)  # fetches both splits as IDX files
    except Exception as exc:  # noqa: BLE001 - network and disk errors alike
        raise DatasetError(f"could not download {name} into {root}: {exc}; check the internet connection, "
                           f"or copy the files there by hand") from exc


def load_standard(name: str, *, split: str, root: str | os.PathLike | None, download_missing: bool) -> ImageDataset:
    base = Path(root).expanduser() if root else default_data_root()
    load = (lambda: load_cifar10(base, split)) if name == "cifar10" else (lambda: load_mnist_like(name, base, split))
    try:
        return load()
    except DatasetError:
        if not download_missing:
            raise
    download(name, base)
    return load()
