"""The datasets' names, descriptions and spec rules, torch-free: the window's dataset menu and
the Train page's checks (``TrainSpec.resolved``) read them while torch is still importing
(``studio.qt.preload``). The loaders (``bundled``, ``procedural``, ``standard``, ``folder``)
import their names from here."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATASET = "fashion-mnist-5k"
FOLDER_PREFIX = "folder:"
BUNDLED = {  # resources/data/NAME.npz (bundled.py)
    "fashion-mnist-5k": "Fashion-MNIST, 5,000 train / 1,000 test, 28x28 gray, 10 classes",
    "mnist-5k": "MNIST digits, 4,500 train / 500 test, 28x28 gray, 10 classes",
    "emoji-32": "Twemoji, 1,849 train / 100 test, 32x32 RGB on white, no labels",
}
PROCEDURAL = {  # rendered with ground-truth factors (procedural.py)
    "shapes": "dSprites-style 64x64 gray shapes; factors shape x scale(6) x rotation(40) x x(32) x y(32)",
    "color-shapes": "32x32 RGB shapes; factors shape x colour(6) x scale(4) x rotation(8) x x(16) x y(16)",
}
STANDARD = {  # torchvision layout under a data root (standard.py)
    "mnist": "MNIST digits, 60,000 / 10,000, 28x28 gray (local data root or --download)",
    "fashion-mnist": "Fashion-MNIST, 60,000 / 10,000, 28x28 gray (local data root or --download)",
    "cifar10": "CIFAR-10, 50,000 / 10,000, 32x32 RGB, 10 classes (local data root or --download)",
}
_DESCRIPTIONS = {**BUNDLED, **PROCEDURAL, **STANDARD}


def dataset_names() -> list[str]:
    """Named datasets (bundled, procedural, local torchvision roots); folders use ``folder:PATH``."""
    return list(_DESCRIPTIONS)


def describe_dataset(name: str) -> str:
    """One line for menus and --help."""
    if name.startswith(FOLDER_PREFIX):
        return f"images from {name[len(FOLDER_PREFIX):]}"
    return _DESCRIPTIONS.get(name, "")


def canonical_spec(spec: str) -> str:
    """The spec as a run stores it: ``folder:PATH`` with PATH absolute (``~`` expanded, symlinks
    resolved), so resuming from another directory reads the same folder; names are unchanged."""
    spec = spec.strip()
    if spec.startswith(FOLDER_PREFIX) and spec[len(FOLDER_PREFIX):].strip():
        return FOLDER_PREFIX + str(Path(spec[len(FOLDER_PREFIX):]).expanduser().resolve())
    return spec


def default_data_root() -> Path:
    """Where the local torchvision-layout copies live: ``$STUDIO_DATA_ROOT``, else
    ``~/.local/share/generative-studio/datasets``."""
    env = os.environ.get("STUDIO_DATA_ROOT")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "generative-studio" / "datasets"
