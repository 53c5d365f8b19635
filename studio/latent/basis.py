"""The explorer's sliders as maths: a set of orthonormal directions with scales, so that a
slider's value is the latent's coordinate along its direction in units of that direction's
spread (σ of the codes), and moving one slider changes that coordinate alone. Names are plain
words ("Variation 1", "Number 1"); the tips give the technical terms (PC1, z₁, σ)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .projection import PCA


@dataclass
class SliderBasis:
    mean: np.ndarray  # (d,)
    vectors: np.ndarray  # (k, d), orthonormal rows
    scales: np.ndarray  # (k,), > 0
    names: list[str]
    tips: list[str]

    @classmethod
    def principal(cls, pca: PCA, k: int) -> "SliderBasis":
        """The top ``k`` principal directions of the codes, in standard deviations."""
        k = min(k, len(pca.components))
        ex = pca.explained
        return cls(pca.mean, pca.components[:k], np.maximum(pca.std[:k], 1e-6),
                   [f"Variation {i + 1}" for i in range(k)],
                   [f"The {_ordinal(i + 1)} biggest way the codes differ: principal component PC{i + 1}, "
                    f"{ex[i]:.1%} of the codes' variance. In standard deviations (σ) from the average code"
                    for i in range(k)])

    @classmethod
    def raw(cls, codes: np.ndarray) -> "SliderBasis":
        """One slider per latent dimension (for small latents), in the codes' standard deviations."""
        d = codes.shape[1]
        return cls(codes.mean(0).astype(np.float32), np.eye(d, dtype=np.float32),
                   np.maximum(codes.std(0), 1e-6).astype(np.float32), [f"Number {i + 1}" for i in range(d)],
                   [f"Number {i + 1} of the code: latent dimension z{i + 1}, in standard deviations (σ) of the "
                    "codes from their average" for i in range(d)])

    def values(self, z: np.ndarray) -> np.ndarray:
        return ((np.asarray(z, np.float32) - self.mean) @ self.vectors.T) / self.scales

    def with_value(self, z: np.ndarray, row: int, value: float) -> np.ndarray:
        """``z`` moved along direction ``row`` until its slider reads ``value``; the other
        sliders keep their values (the directions are orthonormal)."""
        now = float(self.values(z)[row])
        return (np.asarray(z, np.float32) + (value - now) * self.scales[row] * self.vectors[row]).astype(np.float32)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
