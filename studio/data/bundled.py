"""Datasets shipped with the app in resources/data/NAME.npz (built by scripts/build_datasets.py)."""

from __future__ import annotations

import numpy as np
import torch

from studio.resources import resource_path

from .base import DatasetError, ImageDataset
from .names import BUNDLED  # noqa: F401 (the names, torch-free, are listed there)


def load_bundled(name: str, split: str) -> ImageDataset:
    path = resource_path("data", f"{name}.npz")
    if not path.is_file():
        raise DatasetError(f"bundled dataset file {path} is missing; reinstall the app "
                           f"or rebuild it with scripts/build_datasets.py")
    with np.load(path, allow_pickle=False) as z:
        images = torch.from_numpy(z[f"{split}_images"])
        key = f"{split}_labels"
        labels = torch.from_numpy(z[key].astype(np.int64)) if key in z.files else None
        names = [str(s) for s in z["label_names"]] if "label_names" in z.files else None
        license = str(z["license"]) if "license" in z.files else ""
    return ImageDataset(name, images, labels, names if labels is not None else None, license=license, split=split)
