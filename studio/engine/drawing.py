"""Draw fresh samples from a trained run, for the window's "Draw" button.

Most families produce a batch in one call; an autoregressive one (``sample_pixels``)
reports the partial grid as it goes, so the viewer can show the images being drawn
pixel by pixel (van den Oord et al. 2016 sample in raster order).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .. import rng
from ..imaging import make_grid
from ..runs import Run, load_model

# progress(done, total, grid): the grid so far (uint8 H×W×C) or None; it may raise to stop
Progress = Callable[..., None]

FRAMES_PER_ROW = 4  # partial grids per image row of a pixel-by-pixel sampler


def draw_samples(run_path: str, n: int = 8, label: int | None = None, seed: int = 0,
                 progress: Progress | None = None) -> np.ndarray:
    """``n`` samples of ``run_path``'s latest weights as one grid (uint8, H×W×C).

    A class-conditional model draws class ``label``, or, when it is None, every class in turn
    (at least ``num_classes`` images, so none is left out); an unconditional model refuses a
    label. The same seed gives the same grid."""
    run = Run.open(run_path)
    model = load_model(run)
    conditional = bool(model.capabilities.class_conditional)
    options = {}
    if label is not None:
        if not conditional:
            raise ValueError(f"this {run.family} run is unconditional: it draws no chosen class")
        if not 0 <= label < model.num_classes:
            raise ValueError(f"class {label} is not one of the run's 0…{model.num_classes - 1}")
        options["labels"] = torch.full((n,), label, dtype=torch.long)
    elif conditional:  # one of each class: every class, once (8 images left the last classes out)
        n = max(n, model.num_classes)
        options["labels"] = torch.arange(n) % model.num_classes
    # x_T and a sampler's per-step noise from separate streams of the seed (studio.rng)
    noise_generator, step_generator = rng.streams(seed)
    # 8 images as 2 rows of 4: big enough to watch them grow; 10 classes as 2 rows of 5
    ncol = min(n, 8) if n > 16 else -(-n // 2) if n > 8 else min(n, 4)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(rng.derived_seed(seed, rng.GLOBAL))
        noise = model.sample_noise(n, generator=noise_generator)
        if not hasattr(model, "sample_pixels"):
            if progress:
                progress(0, 1, None)
            grid = make_grid(model.sample(n, noise=noise, generator=step_generator, **options), ncol=ncol)
            if progress:
                progress(1, 1, grid)
            return grid
        _, height, width = model.image_shape
        every = max(1, width // FRAMES_PER_ROW)
        images = None
        for i, j, images in model.sample_pixels(n, noise=noise, **options):
            done = i * width + j + 1
            if progress and (done % every == 0 or done == height * width):
                progress(done, height * width, make_grid(images, ncol=ncol))
        return make_grid(images, ncol=ncol)


def draw_classes(run_path: str) -> list[str]:
    """The class names a run can be asked to draw: its label names if its model is
    class-conditional, else none (builds the model without loading weights)."""
    from ..models import build_model

    run = Run.open(run_path)
    meta = run.meta
    num_classes = int(meta.get("num_classes", 0))
    model = build_model(run.family, meta.get("options", {}), tuple(meta["image_shape"]), num_classes)
    if not model.capabilities.class_conditional:
        return []
    names = list(meta.get("label_names") or [])
    return names if len(names) == num_classes else [str(i) for i in range(num_classes)]
