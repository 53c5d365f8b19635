"""The disentanglement view, Qt-free: latent traversals per dimension and how each latent
dimension lines up with known generative factors (the ``shapes`` datasets' ground truth).

A β-VAE (Higgins et al. 2017: the ``vae`` family with ``beta`` > 1) is judged by eye from
*latent traversals* (their Figure 1/7): start from one code z, vary a single dimension z_d
over [−span, span] with the others fixed, decode each step. In a disentangled model each
row changes one factor (position, scale, rotation, shape) and leaves the rest alone.

Numbers to go with the picture:
- *active dimensions* (Burda et al. 2016, §5.2): A_d = Var_x(E_q[z_d | x]); with β > 1 many
  dimensions collapse to the prior (A_d ≈ 0) and their rows show no change, so rows are
  ordered by activity;
- *factor correlations*: |Pearson r| between each latent mean and each ground-truth factor,
  and per factor the gap between its best and second-best latent dimension, normalised by
  the best (a linear stand-in for the Mutual Information Gap of Chen et al. 2018: near 1
  when one dimension alone captures the factor, near 0 when it is spread over several).

Works with any model whose capabilities include ``encode`` and ``decode`` (AE, VAE, CVAE
with ``labels=``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..imaging import make_grid, to_unit_range


def _check(model: Any) -> None:
    caps = model.capabilities
    if not (caps.encode and caps.decode):
        raise ValueError(f"latent traversals need a model that encodes and decodes; {model.family} does not "
                         f"(use an autoencoder, vae or cvae run)")


def _label_kw(labels: Tensor | None) -> dict[str, Tensor]:
    return {} if labels is None else {"labels": labels}


@torch.no_grad()
def encode_dataset(model: Any, images_uint8: Tensor, labels: Tensor | None = None, batch: int = 500) -> Tensor:
    """Posterior means E_q[z | x] of uint8 images (N, C, H, W), as float32 (N, D)."""
    _check(model)
    device = next(model.parameters()).device
    codes = []
    for i in range(0, len(images_uint8), batch):
        x = to_unit_range(images_uint8[i:i + batch].to(device))
        lab = None if labels is None else labels[i:i + batch].to(device)
        codes.append(model.encode(x, **_label_kw(lab)).float().cpu())
    return torch.cat(codes)


def active_dims(codes: Tensor) -> Tensor:
    """A_d = Var_x(E_q[z_d | x]) per latent dimension (Burda et al. 2016); > 0.01 is 'active'."""
    return codes.var(0)


@torch.no_grad()
def latent_traversals(model: Any, z: Tensor, dims: list[int] | None = None, span: float = 3.0,
                      steps: int = 9, labels: Tensor | None = None) -> Tensor:
    """Decode z with one dimension swept: (len(dims), steps, C, H, W) images in [-1, 1].

    ``z``: (D,) the base code (e.g. an encoded image, or zeros = the prior's mean); row r
    sets z[dims[r]] to each of ``steps`` values evenly spaced in [−span, span]. For a
    conditional model give ``labels`` (one class, LongTensor (1,))."""
    _check(model)
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (got {steps})")
    z = z.reshape(-1).float()
    dims = list(range(z.shape[0])) if dims is None else list(dims)
    bad = [d for d in dims if not 0 <= d < z.shape[0]]
    if bad:
        raise ValueError(f"latent dimension(s) {bad} out of range 0…{z.shape[0] - 1}")
    values = torch.linspace(-span, span, steps, device=z.device)
    codes = z.repeat(len(dims), steps, 1)  # (R, S, D)
    for r, d in enumerate(dims):
        codes[r, :, d] = values
    flat = codes.reshape(-1, z.shape[0])
    lab = None if labels is None else labels.reshape(-1)[:1].expand(flat.shape[0])
    images = model.decode(flat, **_label_kw(lab))
    return images.reshape(len(dims), steps, *images.shape[1:])


def traversal_grid(traversals: Tensor) -> np.ndarray:
    """One row per dimension, one column per step: a uint8 (H', W', C) image."""
    rows, steps = traversals.shape[:2]
    return make_grid(traversals.reshape(rows * steps, *traversals.shape[2:]), ncol=steps)


@dataclass
class FactorReport:
    """How latent dimensions line up with ground-truth factors."""

    factor_names: list[str]
    correlation: np.ndarray  # (D, K): |Pearson r| of latent mean d and factor k
    activity: np.ndarray  # (D,): Var_x E_q[z_d | x]
    best_dim: list[int]  # per factor: the dimension most correlated with it
    gap: list[float]  # per factor: (best − second best) / best correlation

    def table(self) -> str:
        lines = [f"{'factor':<10} {'best dim':>8} {'|r|':>6} {'gap':>6}"]
        for k, name in enumerate(self.factor_names):
            d = self.best_dim[k]
            lines.append(f"{name:<10} {d:>8} {self.correlation[d, k]:>6.2f} {self.gap[k]:>6.2f}")
        return "\n".join(lines)


def factor_report(codes: Tensor, factors: Tensor, factor_names: list[str] | None = None) -> FactorReport:
    """|corr| between every latent mean (N, D) and every factor (N, K); factors with a
    single value (nothing to explain) get zero correlation."""
    z = codes.double()
    f = factors.double()
    if z.shape[0] != f.shape[0]:
        raise ValueError(f"{z.shape[0]} codes but {f.shape[0]} factor rows")
    zc, fc = z - z.mean(0), f - f.mean(0)
    denom = zc.norm(dim=0)[:, None] * fc.norm(dim=0)[None, :]
    corr = ((zc.T @ fc).abs() / denom.clamp_min(1e-12)).numpy()  # (D, K)
    names = list(factor_names) if factor_names else [f"factor {k}" for k in range(f.shape[1])]
    best, gaps = [], []
    for k in range(corr.shape[1]):
        order = np.argsort(-corr[:, k])
        top = corr[order[0], k]
        second = corr[order[1], k] if len(order) > 1 else 0.0
        best.append(int(order[0]))
        gaps.append(float((top - second) / top) if top > 1e-12 else 0.0)
    return FactorReport(names, corr, active_dims(codes).numpy(), best, gaps)


def disentanglement_view(model: Any, dataset: Any, n: int = 2000, span: float = 3.0, steps: int = 9,
                         max_rows: int = 10, seed_index: int = 0) -> tuple[np.ndarray, list[int], FactorReport | None]:
    """Everything a disentanglement panel shows, in one call: the traversal grid of the
    ``max_rows`` most active dimensions around the code of image ``seed_index``, the
    dimensions in row order, and the factor report when the dataset has factors."""
    images = dataset.images[:n]
    labels = dataset.labels[:n] if model.capabilities.class_conditional else None
    codes = encode_dataset(model, images, labels)
    order = torch.argsort(active_dims(codes), descending=True)[:max_rows].tolist()
    device = next(model.parameters()).device
    lab = None if labels is None else labels[seed_index:seed_index + 1].to(device)
    grid = traversal_grid(latent_traversals(model, codes[seed_index].to(device), order, span, steps, lab))
    report = None
    if getattr(dataset, "factors", None) is not None:
        report = factor_report(codes, dataset.factors[:n], getattr(dataset, "factor_names", None))
    return grid, order, report
