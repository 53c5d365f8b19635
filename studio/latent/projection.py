"""2D maps of latent codes: PCA (instant, invertible) and t-SNE (openTSNE, in the background).

PCA's inverse lets a click on empty map space decode a latent (the other components at their
mean); its top components also give the explorer's sliders their directions and scales.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import Cancelled

ProgressFn = Callable[[int, int], None]


class PCA:
    """Principal components of codes (N, d): ``components`` (d, d) orthonormal rows, sorted by
    ``variances`` (descending)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray, variances: np.ndarray):
        self.mean = mean.astype(np.float32)
        self.components = components.astype(np.float32)
        self.variances = variances.astype(np.float32)

    @classmethod
    def fit(cls, codes: np.ndarray) -> "PCA":
        x = np.asarray(codes, np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"PCA needs at least 2 codes of shape (N, d), got {x.shape}")
        mean = x.mean(0)
        # eigenvectors of the d×d covariance: O(N d²), cheap for d ≤ 512
        values, vectors = np.linalg.eigh(np.cov(x - mean, rowvar=False).reshape(x.shape[1], x.shape[1]))
        order = np.argsort(values)[::-1]
        values = np.clip(values[order], 0.0, None)
        vectors = vectors[:, order].T
        # a deterministic sign: the largest coordinate of each component is positive
        signs = np.sign(vectors[np.arange(len(vectors)), np.abs(vectors).argmax(1)])
        return cls(mean, vectors * signs[:, None], values)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.variances)

    @property
    def explained(self) -> np.ndarray:
        total = float(self.variances.sum())
        return self.variances / total if total > 0 else np.zeros_like(self.variances)

    def transform(self, z: np.ndarray, k: int = 2) -> np.ndarray:
        return ((np.asarray(z, np.float32) - self.mean) @ self.components[:k].T).astype(np.float32)

    def inverse(self, coords: np.ndarray) -> np.ndarray:
        """Latents whose first len(coords) components are ``coords`` and the rest at the mean."""
        coords = np.asarray(coords, np.float32)
        k = coords.shape[-1]
        return (self.mean + coords @ self.components[:k]).astype(np.float32)




def tsne(codes: np.ndarray, progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
         perplexity: float = 30.0, seed: int = 0, threads: int = 1) -> np.ndarray:
    """t-SNE (van der Maaten & Hinton 2008) through openTSNE's FFT-accelerated gradients
    (Linderman et al. 2019): early exaggeration (12, 250 iterations) then 500 normal ones,
    as openTSNE's ``fit`` does, run phase by phase so progress is reported and a cancel
    stops within ~25 iterations. One thread by default: the UI and the decoder keep a core."""
    try:
        from openTSNE import TSNEEmbedding, affinity, initialization
        from openTSNE.tsne import OptimizationInterrupt
    except ImportError:
        raise ValueError("t-SNE needs openTSNE: pip install openTSNE") from None
    x = np.asarray(codes, np.float32)
    if len(x) < 10:
        raise ValueError(f"t-SNE needs at least 10 points (got {len(x)})")
    stop = should_stop or (lambda: False)
    phases, every = (250, 500), 25
    total = sum(phases) + every  # the affinity computation counts as one chunk
    progress = progress or (lambda done, total: None)
    progress(0, total)
    perplexity = min(perplexity, (len(x) - 1) / 3)
    aff = affinity.PerplexityBasedNN(x, perplexity=perplexity, n_jobs=threads, random_state=seed, verbose=False)
    if stop():
        raise Cancelled("cancelled")
    progress(every, total)
    init = initialization.pca(x, random_state=seed)
    embedding = TSNEEmbedding(init, aff, n_jobs=threads, random_state=seed, verbose=False)
    done = [every]

    def callback(iteration: int, error: float, current) -> bool:
        done[0] += every
        progress(min(done[0], total), total)
        return stop()

    try:
        embedding = embedding.optimize(phases[0], exaggeration=12, momentum=0.5, callbacks=callback,
                                       callbacks_every_iters=every, propagate_exception=True)
        embedding = embedding.optimize(phases[1], momentum=0.8, callbacks=callback, callbacks_every_iters=every,
                                       propagate_exception=True)
    except OptimizationInterrupt:
        raise Cancelled("cancelled") from None
    progress(total, total)
    return np.asarray(embedding, np.float32)
