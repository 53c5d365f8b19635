"""Distances between sets of classifier features, and class coverage.

- Fréchet distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule", eq. 6):
  d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½), on our classifier's features (FCD) instead of
  Inception's.
- KID (Bińkowski et al. 2018, "Demystifying MMD GANs", §4): the unbiased estimator of the
  squared MMD with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over random
  subsets. Its expectation is 0 for two samples of one distribution (it can be negative), and
  unlike FID it is unbiased in the number of samples, so small checkpoint samples are fair.
- Class coverage: the classifier's label histogram over generated images, its entropy and the
  number of classes that get a fair part of it — a collapsing GAN drops classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class FeatureStats:
    mean: Tensor  # (D,) float64
    cov: Tensor  # (D, D) float64
    n: int

    @classmethod
    def of(cls, features: Tensor) -> "FeatureStats":
        f = features.to(torch.float64)
        if f.dim() != 2 or f.shape[0] < 2:
            raise ValueError(f"need at least 2 feature vectors of shape (N, D), got {tuple(features.shape)}")
        return cls(f.mean(0), torch.cov(f.T), f.shape[0])


def _sqrt_psd(matrix: Tensor) -> Tensor:
    """Symmetric square root of a positive semi-definite matrix by eigendecomposition."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: FeatureStats | Tensor, b: FeatureStats | Tensor) -> float:
    """Squared Fréchet distance between Gaussians fitted to two feature sets (eq. 6).

    Tr((Σ₁Σ₂)^½) is computed as Tr((Σ₁^½ Σ₂ Σ₁^½)^½) — the same eigenvalues, but of a
    symmetric PSD matrix, so ``eigh`` is exact and stable where scipy's sqrtm of the
    non-symmetric product can turn complex."""
    a = a if isinstance(a, FeatureStats) else FeatureStats.of(a)
    b = b if isinstance(b, FeatureStats) else FeatureStats.of(b)
    root_a = _sqrt_psd(a.cov)
    cross = torch.linalg.eigvalsh(root_a @ b.cov @ root_a).clamp(min=0).sqrt().sum()
    d2 = (a.mean - b.mean).square().sum() + torch.trace(a.cov) + torch.trace(b.cov) - 2 * cross
    return max(float(d2), 0.0)


def polynomial_mmd2(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased MMD² with k(x, y) = (xᵀy / d + 1)³ (Bińkowski et al. 2018, eq. 3 with §4's kernel):

        1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(mn) Σ_{i,j} k(xᵢ, yⱼ)."""
    m, n, d = x.shape[0], y.shape[0], x.shape[1]

    def kernel_sums(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        # float32 kernels (~1e-7 relative error per entry), float64 sums: 4x less work
        k = torch.addmm(torch.ones(()), a, b.T, alpha=1 / d).pow_(3)
        return k.sum(dtype=torch.float64), k.diagonal().sum(dtype=torch.float64)

    x, y = x.float(), y.float()
    sum_xx, diag_xx = kernel_sums(x, x)
    sum_yy, diag_yy = kernel_sums(y, y)
    sum_xy, _ = kernel_sums(x, y)
    return (sum_xx - diag_xx) / (m * (m - 1)) + (sum_yy - diag_yy) / (n * (n - 1)) - 2 * sum_xy / (m * n)


def kernel_inception_distance(x: Tensor, y: Tensor, subsets: int = 50, subset_size: int = 1000,
                              seed: int = 0) -> tuple[float, float]:
    """KID between feature sets ``x`` and ``y``: the mean (and standard deviation) of the
    unbiased polynomial MMD² over ``subsets`` random subsets of ``subset_size`` from each
    (fewer when a set is smaller), as in Bińkowski et al. §4."""
    size = min(subset_size, x.shape[0], y.shape[0])
    if size < 2:
        raise ValueError(f"KID needs at least 2 feature vectors in each set, got {x.shape[0]} and {y.shape[0]}")
    generator = torch.Generator().manual_seed(seed)
    values = torch.stack([polynomial_mmd2(x[torch.randperm(x.shape[0], generator=generator)[:size]],
                                          y[torch.randperm(y.shape[0], generator=generator)[:size]])
                          for _ in range(subsets)])
    return float(values.mean()), float(values.std()) if subsets > 1 else 0.0


@dataclass(frozen=True)
class Coverage:
    histogram: list[int]  # predicted labels per class
    entropy_bits: float  # of the label distribution; log2(K) when uniform
    modes: int  # classes holding at least MODE_SHARE of their fair share
    num_classes: int

    @property
    def normalized_entropy(self) -> float:
        return self.entropy_bits / math.log2(self.num_classes) if self.num_classes > 1 else 1.0


# a class counts as covered when it gets at least a fifth of the 1/K a uniform model gives it
MODE_SHARE = 0.2


def class_coverage(labels: Tensor, num_classes: int) -> Coverage:
    """Histogram of predicted ``labels`` (N,), its entropy in bits and the covered modes."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    counts = torch.bincount(labels.flatten().long(), minlength=num_classes)[:num_classes]
    total = int(counts.sum())
    p = counts.double() / max(total, 1)
    entropy = float(-(p[p > 0] * p[p > 0].log2()).sum())
    modes = int((p >= MODE_SHARE / num_classes).sum()) if total else 0
    return Coverage([int(c) for c in counts], entropy, modes, num_classes)
