"""Your own pictures in a run's latent space, Qt-free: a picture brought in (already fitted to
the model by ``studio.editing.picture``) becomes a latent z and a point on the map.

- Families with an encoder (autoencoder, VAE, cVAE, RealNVP): ``encode_user_picture`` — z is
  the encoder's code (a VAE's posterior mean, RealNVP's exact f(x)); a cVAE encodes for the
  class chosen in the explorer.
- GANs (dcgan, cdcgan, wgan-gp): ``InvertPictureJob`` — z found by optimising ‖G(z) − x‖²
  (``studio.editing.encoding.InvertJob``; Zhu et al. 2016 §3.1), a job of the one protocol that
  reports the error per iteration and a preview of G(z) as uint8 pictures.
- ``place``: where a latent sits on the map. PCA: its first two principal components (exact,
  the same projection as every map point). t-SNE has no transform for a new point, so it is
  placed at the mean map position of its ``PLACE_K`` nearest codes in the latent space (the
  neighbours t-SNE itself keeps together).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..engine.jobs import Control, Reporter
from ..editing.picture import to_pixels
from ..errors import SpecError

PLACE_K = 5  # nearest codes whose t-SNE positions place a new latent
NEIGHBOURS = 10  # nearest codes named in a picture's caption


@dataclass(eq=False)
class UserPicture:
    """A picture in the latent space: ``image`` the fitted picture and ``recon`` = decode(z),
    both uint8 (H, W, C); ``z`` float32 (d,); ``label`` the class it was encoded / inverted for
    (class-conditional models; else None); ``error`` the mean squared error per pixel between
    the two in [−1, 1] units; ``how`` "encoded" or "inverted"; ``errors`` the inversion's error
    after every iteration (empty when encoded); ``source`` where it came from (a
    ``studio.editing.session.PictureSource``, or None), to bring it into another model."""

    name: str
    image: np.ndarray
    z: np.ndarray
    recon: np.ndarray
    label: int | None
    error: float
    how: str
    errors: list[float] = field(default_factory=list)
    source: object = None

    @property
    def psnr(self) -> float:
        """10 log₁₀(2² / MSE) in dB (peak-to-peak 2 in [−1, 1] units)."""
        return float(10 * np.log10(4.0 / max(self.error, 1e-12)))


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float((((a.astype(np.float32) - b.astype(np.float32)) / 127.5) ** 2).mean())


def _label(space, label: int | None) -> int | None:
    if not space.class_conditional:
        return None
    if label is None or not 0 <= int(label) < space.num_classes:
        raise SpecError(f"is needed: a {space.family} encodes a picture given its class "
                        f"(0..{space.num_classes - 1}), got {label}", field="label")
    return int(label)


def check_picture(space, picture: torch.Tensor) -> torch.Tensor:
    """``picture`` float (1, C, H, W) fitted to ``space``'s model, else ``SpecError``."""
    shape = tuple(int(v) for v in space.model.image_shape)
    if picture.dim() != 4 or picture.shape[0] != 1 or tuple(picture.shape[1:]) != shape:
        raise SpecError(f"must be fitted to this model's {shape[2]}×{shape[1]}×{shape[0]} pictures first, "
                        f"got shape {tuple(picture.shape)}", field="image")
    return picture.float()


@torch.no_grad()
def encode_user_picture(space, picture: torch.Tensor, name: str, label: int | None = None) -> UserPicture:
    """``picture`` float (1, C, H, W) in [−1, 1], fitted to the model → a ``UserPicture`` with
    z = encode(x) and its reconstruction decode(z). ``SpecError`` for a model without an encoder
    (GANs: ``InvertPictureJob``), a picture of another shape, or a cVAE without a class."""
    from ..editing.encoding import encode_picture

    if not space.encoded:
        raise SpecError(f"({space.family}) has no encoder: a GAN's picture is found by optimising z "
                        "(invert it)", field="run")
    x = check_picture(space, picture)
    y = _label(space, label)
    z = encode_picture(space.model, x, None if y is None else [y]).float().cpu().numpy()[0]
    image, recon = to_pixels(x)[0], space.decode(z, y)[0]
    return UserPicture(name, image, z.astype(np.float32), recon, y, _mse(image, recon), "encoded")


class _PictureReporter(Reporter):
    """Passes the inversion's reports on, its previews (float (1, C, H, W) tensors) as uint8
    (H, W, C) pictures: only pictures, numbers and finished objects cross to a window."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter

    def progress(self, progress) -> None:
        self.reporter.progress(progress)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.reporter.metrics(step, values)

    def preview(self, step: int, grid) -> None:
        self.reporter.preview(step, to_pixels(grid[:1])[0])


class InvertPictureJob:
    """A GAN's latent for ``picture`` (float (1, C, H, W) in [−1, 1], fitted to the model):
    ``InvertJob`` run for ``steps`` Adam iterations, the result a ``UserPicture`` (how
    "inverted", its error list falling from the best random start). A job of the one protocol:
    ``job(reporter, control) -> UserPicture``; reports ``Progress(i, steps)``,
    ``metrics(i, {"mse": e})`` and every ``preview_every`` iterations ``preview(i, uint8 (H, W, C))``;
    raises ``Cancelled`` once cancelled (between iterations). ``SpecError`` at construction for a
    family with an encoder, a picture of another shape, a conditional GAN without a class or
    ``steps`` outside 1..100000."""

    def __init__(self, space, picture: torch.Tensor, name: str, label: int | None = None, steps: int = 300,
                 seed: int = 0, preview_every: int = 10):
        from ..editing.encoding import InvertJob

        x = check_picture(space, picture)
        self.space, self.name, self.label = space, name, _label(space, label)
        self.image = to_pixels(x)[0]
        self.job = InvertJob(space.model, x, steps=steps, seed=seed,
                             labels=None if self.label is None else [self.label], preview_every=preview_every)

    def __call__(self, reporter: Reporter, control: Control) -> UserPicture:
        result = self.job(_PictureReporter(reporter), control)
        z = result.z.float().cpu().numpy()[0].astype(np.float32)
        recon = self.space.decode(z, self.label)[0]
        return UserPicture(self.name, self.image, z, recon, self.label, _mse(self.image, recon), "inverted",
                           list(result.errors))


# --- the map ---------------------------------------------------------------------------------------
def nearest_codes(space, z: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Indices (k,) of the map's codes nearest to ``z`` (Euclidean, in the latent space), nearest first."""
    d = np.square(space.codes - np.asarray(z, np.float32)[None]).sum(1)
    k = min(int(k), len(d))
    idx = np.argpartition(d, k - 1)[:k]
    return idx[np.argsort(d[idx])]


def place(space, positions: np.ndarray, projection: str, z: np.ndarray) -> tuple[float, float]:
    """Where latent ``z`` goes on the map of ``projection`` whose points are at ``positions``
    (N, 2): PCA's transform, else (t-SNE) the mean position of its ``PLACE_K`` nearest codes."""
    if projection == "pca":
        x, y = space.pca.transform(z)
        return float(x), float(y)
    return tuple(float(v) for v in np.asarray(positions)[nearest_codes(space, z, PLACE_K)].mean(0))


def neighbours_text(space, z: np.ndarray, k: int = NEIGHBOURS) -> str:
    """Words for the classes of ``z``'s ``k`` nearest codes, e.g. "nearest images: 8 of 10
    Sneaker" ("" for a map without labels)."""
    if space.labels is None:
        return ""
    near = space.labels[nearest_codes(space, z, k)]
    counts = np.bincount(near, minlength=space.num_classes)
    top = int(counts.argmax())
    kind = "images" if space.encoded else "samples"
    return f"nearest {kind}: {int(counts[top])} of {len(near)} {space.label_name(top)}"


def dataset_images(run_path) -> np.ndarray:
    """The run's held-out images (its training ones where it has none) to pick from, uint8 (N, C, H, W)."""
    from ..engine.sampling import run_images
    from ..runs import Run

    return run_images(Run.open(run_path).meta)


__all__ = ["InvertPictureJob", "NEIGHBOURS", "PLACE_K", "UserPicture", "check_picture", "dataset_images",
           "encode_user_picture", "nearest_codes", "neighbours_text", "place"]
