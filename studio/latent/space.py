"""A run's latent space: its model, the latent codes of (a sample of) its dataset with their
images and labels, and the PCA of those codes.

For models with an encoder (autoencoder, VAE) the codes are the encodings of the training
images (the posterior means for a VAE). GANs have no encoder: their map holds random z
samples with the images the generator makes from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..engine.jobs import ProgressFn
from ..errors import Cancelled
from ..runs import Run, load_model
from .projection import PCA

MAP_LIMIT = 10_000  # larger datasets are mapped through a seeded random sample
GAN_SAMPLES = 2_000  # random z drawn for a model without an encoder
BATCH = 500

__all__ = ["Cancelled", "GAN_SAMPLES", "LatentSpace", "MAP_LIMIT", "open_space"]


def _with_labels(fn: Callable, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Class-conditional families take ``labels=`` (LongTensor (N,)) in encode and decode."""
    return fn(x) if labels is None else fn(x, labels=labels)


def _to_hwc(images: torch.Tensor) -> np.ndarray:
    """float [-1, 1] or uint8 (N, C, H, W) -> uint8 (N, H, W, C)."""
    from ..data import to_uint8

    if images.dtype != torch.uint8:
        images = to_uint8(images)
    return images.permute(0, 2, 3, 1).contiguous().numpy()


@dataclass(eq=False)
class LatentSpace:
    run_path: Path
    name: str
    family: str
    model: Any
    codes: np.ndarray  # float32 (N, d)
    images: np.ndarray  # uint8 (N, H, W, C): dataset images, or generated ones (GAN)
    labels: np.ndarray | None  # int64 (N,)
    label_names: list[str]
    encoded: bool  # codes are encodings of dataset images (else random z samples)
    pca: PCA
    errors: np.ndarray | None = None  # per-image reconstruction MSE, from reconstruction_errors()

    @property
    def capabilities(self):
        return self.model.capabilities

    @property
    def latent_dim(self) -> int:
        return self.codes.shape[1]

    @property
    def class_conditional(self) -> bool:
        return bool(self.model.capabilities.class_conditional)

    @property
    def num_classes(self) -> int:
        return int(getattr(self.model, "num_classes", 0) or len(self.label_names))

    def label_name(self, label: int) -> str:
        return self.label_names[label] if 0 <= label < len(self.label_names) else str(label)

    def _labels_for(self, n: int, label: int | np.ndarray | None) -> torch.Tensor | None:
        if not self.class_conditional:
            return None
        if label is None:
            raise ValueError(f"this {self.family} model is class-conditional: choose a class to decode")
        return torch.as_tensor(np.broadcast_to(np.asarray(label, np.int64), (n,)).copy())

    @torch.no_grad()
    def decode(self, z: np.ndarray, label: int | np.ndarray | None = None) -> np.ndarray:
        """Latents (n, d) or (d,) -> uint8 images (n, H, W, C)."""
        z = np.asarray(z, np.float32).reshape(-1, self.latent_dim)
        out = []
        for i in range(0, len(z), BATCH):
            chunk = torch.from_numpy(np.ascontiguousarray(z[i:i + BATCH]))
            labels = self._labels_for(len(chunk), label if np.ndim(label) == 0 else np.asarray(label)[i:i + BATCH])
            out.append(_to_hwc(_with_labels(self.model.decode, chunk, labels)))
        return np.concatenate(out)

    def decode_one(self, request: tuple[np.ndarray, int | None]) -> np.ndarray:
        """(z, label) -> one uint8 image (H, W, C); the decoder thread's function."""
        z, label = request
        return self.decode(z, label)[0]

    def random_latent(self, seed: int) -> np.ndarray:
        """A latent drawn from a Gaussian fitted to the map's codes (mean and principal
        variances): the prior for a VAE or GAN, and the right spread for a plain autoencoder,
        whose codes are not N(0, I)."""
        eps = np.random.default_rng(int(seed)).standard_normal(self.latent_dim).astype(np.float32)
        return (self.pca.mean + (eps * self.pca.std) @ self.pca.components).astype(np.float32)

    @torch.no_grad()
    def reconstruction_errors(self, progress: ProgressFn | None = None) -> np.ndarray:
        """Mean squared error per pixel (images in [-1, 1]) between each image and its
        reconstruction decode(encode(x)), float32 (N,); high error = unlike what the model
        learnt, the classic autoencoder anomaly score (e.g. Sakurada & Yairi 2014).
        ``progress(done, total)`` counts images, before each batch and at the end; one that
        raises (``Cancelled``) stops it between batches. Sets ``self.errors``."""
        if not self.encoded:
            raise ValueError(f"a {self.family} model has no encoder, so nothing to reconstruct")
        errors = np.empty(len(self.codes), np.float32)
        progress = progress or (lambda done, total: None)
        for i in range(0, len(self.codes), BATCH):
            progress(i, len(errors))
            labels = None if self.labels is None or not self.class_conditional else self.labels[i:i + BATCH]
            recon = self.decode(self.codes[i:i + BATCH], labels).astype(np.float32)
            real = self.images[i:i + BATCH].astype(np.float32)
            errors[i:i + BATCH] = (((recon - real) / 127.5) ** 2).reshape(len(real), -1).mean(1)
        progress(len(errors), len(errors))
        self.errors = errors
        return errors


def _training_images(run: Run, limit: int, seed: int):
    from ..data import subsample
    spec = run.spec()  # RunError naming the bad field
    try:
        dataset = run.dataset("train")
    except ValueError as exc:
        raise ValueError(f"cannot load the dataset this run was trained on ({spec.data}): {exc}") from None
    return subsample(dataset, limit, seed) if len(dataset) > limit else dataset


@torch.no_grad()
def open_space(path: str | Path, limit: int = MAP_LIMIT, progress: ProgressFn | None = None,
               samples: int = GAN_SAMPLES, seed: int = 0, precision: str = "auto") -> LatentSpace:
    """Load the run's model and map its latent space (see the module docstring).
    ``progress(done, total)`` counts images encoded (or samples generated), before each
    batch of ``BATCH`` and at the end; a ``progress`` that raises (``Cancelled``, from
    ``studio.engine.jobs.progress_callback``) stops the encoding there. ``precision``
    of the map's encoding: "auto" follows training's rule (bf16 autocast on CUDA and on CPUs
    with AMX tiles, codes within ~2 % of fp32; fp32 elsewhere); single latents are always
    decoded in fp32."""
    from ..engine.devices import autocast_factory, resolve_precision

    autocast = autocast_factory(torch.device("cpu"), resolve_precision(precision, torch.device("cpu")))
    run = Run.open(path)
    model = load_model(run)
    caps = model.capabilities
    if not caps.decode:
        raise ValueError(f"a {run.family} model has no latent space to explore (no decoder): "
                         "open an autoencoder, VAE or GAN run")
    progress = progress or (lambda done, total: None)
    conditional = bool(caps.class_conditional)
    if caps.encode:
        dataset = _training_images(run, limit, seed)
        x_all, y_all = dataset.images[:], dataset.labels  # a tensor, also for a folder streamed from disk
        label_names = list(dataset.label_names or [])
        codes = []
        from ..data import to_unit_range

        for i in range(0, len(x_all), BATCH):
            progress(i, len(x_all))
            x = to_unit_range(x_all[i:i + BATCH])
            y = y_all[i:i + BATCH] if conditional and y_all is not None else None
            with autocast():
                codes.append(_with_labels(model.encode, x, y).float())
        progress(len(x_all), len(x_all))
        codes_t = torch.cat(codes)
        images = _to_hwc(x_all)
        labels = None if y_all is None else y_all.numpy()
    else:  # a GAN: random z and what the generator makes of them
        g = torch.Generator().manual_seed(seed)
        codes_t = model.sample_noise(samples, generator=g).float().cpu()
        n_cls = int(getattr(model, "num_classes", 0) or run.meta.get("num_classes", 0))
        labels_t = torch.randint(0, max(n_cls, 1), (samples,), generator=g) if conditional else None
        out = []
        for i in range(0, samples, BATCH):
            progress(i, samples)
            y = None if labels_t is None else labels_t[i:i + BATCH]
            out.append(_to_hwc(_with_labels(model.decode, codes_t[i:i + BATCH], y)))
        progress(samples, samples)
        images = np.concatenate(out)
        labels = None if labels_t is None else labels_t.numpy()
        label_names = list(run.meta.get("label_names") or []) if conditional else []
    codes_np = codes_t.numpy().astype(np.float32)
    return LatentSpace(run.path, run.name, run.family, model, codes_np, images, labels, label_names,
                       encoded=bool(caps.encode), pca=PCA.fit(codes_np))
