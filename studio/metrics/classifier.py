"""The small per-dataset classifier whose features FCD and KID compare, and whose labels
measure class coverage.

Inception features (FID) are a poor fit for 28×28 digits and garments, and need a download;
the pytorch-fid maintainers themselves advise a domain classifier for MNIST-like data. So
each bundled labelled dataset gets a small CNN trained by ``scripts/train_classifiers.py``;
its weights ship as safetensors in ``resources/classifiers/`` with a JSON record (command,
dataset, test accuracy, sha256) beside them. Loading never unpickles anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from ..imaging import to_unit_range
from ..resources import resource_path

FORMAT = "generative-studio-classifier"
FEATURE_WIDTH = 16  # channels of the first conv; the features are 4 × this wide
# datasets whose labels make sense for a classifier (emoji-32 has none)
CLASSIFIER_DATASETS = ("fashion-mnist-5k", "mnist-5k", "shapes", "color-shapes")


class ClassifierError(ValueError):
    """A classifier file is missing, damaged or does not fit the images."""


class FeatureClassifier(nn.Module):
    """Four conv layers, global average pooling (the 64-d features, post-ReLU like
    Inception's pool3 used by FID), and a linear head. Takes images in [-1, 1]."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, width: int = FEATURE_WIDTH):
        super().__init__()
        c, h, _ = image_shape
        self.image_shape, self.num_classes = tuple(image_shape), num_classes
        stem = 2 if h >= 64 else 1  # 64×64 inputs start strided: the same cost as 32×32

        def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(*block(c, width, stem), *block(width, 2 * width, 2),
                                  *block(2 * width, 4 * width, 2), *block(4 * width, 4 * width, 1),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * width, num_classes)
        self.feature_dim = 4 * width

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))

    @torch.no_grad()
    def embed(self, images: Tensor, batch: int = 500, progress=None) -> tuple[Tensor, Tensor]:
        """Features (N, D) and predicted labels (N,) of float images in [-1, 1] (or uint8),
        computed in batches on the classifier's device; returned on the CPU."""
        device = next(self.parameters()).device
        feats, labels = [], []
        for chunk in images.split(batch):
            x = chunk.to(device)
            x = to_unit_range(x) if x.dtype == torch.uint8 else x.float()
            f = self.body(x)
            feats.append(f.float().cpu())
            labels.append(self.head(f).argmax(1).cpu())
            if progress is not None:
                progress(len(chunk))
        return torch.cat(feats), torch.cat(labels)


@dataclass(frozen=True)
class ClassifierInfo:
    dataset: str
    image_shape: tuple[int, int, int]
    num_classes: int
    label_names: list[str] | None
    test_accuracy: float
    weights: Path


def classifier_dir() -> Path:
    return resource_path("classifiers")


def classifier_info(dataset: str, root: Path | None = None) -> ClassifierInfo | None:
    """The record of the shipped classifier for ``dataset`` (a dataset name), or None."""
    root = root or classifier_dir()
    record_path, weights = root / f"{dataset}.json", root / f"{dataset}.safetensors"
    if not record_path.is_file() or not weights.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        return ClassifierInfo(record["dataset"], tuple(record["image_shape"]), int(record["num_classes"]),
                              record.get("label_names"), float(record["test_accuracy"]), weights)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ClassifierError(f"{record_path} is damaged ({exc}); rebuild it with "
                              f"scripts/train_classifiers.py") from None


def classifier_for(dataset: str, image_shape: tuple[int, int, int]) -> ClassifierInfo | None:
    """The classifier that can judge images of ``image_shape`` from ``dataset``, if one ships."""
    info = classifier_info(dataset) if dataset in CLASSIFIER_DATASETS else None
    if info is None or tuple(image_shape) != info.image_shape:
        return None
    return info


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_classifier(dataset: str, device: str | torch.device = "cpu", root: Path | None = None) -> FeatureClassifier:
    """The shipped classifier of ``dataset`` in eval mode (weights checked against the sha256
    in its record; read with safetensors: no code can run from the file)."""
    info = classifier_info(dataset, root)
    if info is None:
        raise ClassifierError(f"no classifier for dataset {dataset!r}; classifiers ship for "
                              f"{', '.join(CLASSIFIER_DATASETS)} (train them with scripts/train_classifiers.py)")
    return _load_cached(str(info.weights), str(torch.device(device)))


@functools.lru_cache(maxsize=8)
def _load_cached(weights_path: str, device: str) -> FeatureClassifier:
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(weights_path)
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if sha256_of(path) != record.get("sha256"):
        raise ClassifierError(f"{path} does not match the sha256 in {path.with_suffix('.json').name}; "
                              f"the file is damaged: rebuild it with scripts/train_classifiers.py")
    try:
        with safe_open(weights_path, framework="pt") as f:
            meta = f.metadata() or {}
        weights = load_file(weights_path)
    except (SafetensorError, OSError) as exc:
        raise ClassifierError(f"cannot read classifier {path}: {exc}") from None
    if meta.get("format") != FORMAT:
        raise ClassifierError(f"{path} is not a Generative Studio classifier (no format marker)")
    model = FeatureClassifier(tuple(record["image_shape"]), int(record["num_classes"]), int(meta.get("width", FEATURE_WIDTH)))
    model.load_state_dict(weights, strict=True)
    return model.to(device).eval()
