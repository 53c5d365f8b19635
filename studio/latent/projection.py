"""2D maps of latent codes: PCA (instant, invertible) and t-SNE (openTSNE, in the background).

Long work takes ``progress(done, total)`` (``studio.engine.jobs.progress_callback``), which
also ends it early by raising ``Cancelled``.

PCA's inverse lets a click on empty map space decode a latent (the other components at their
mean); its top components also give the explorer's sliders their directions and scales.
"""

from __future__ import annotations

import numpy as np

from ..engine.jobs import ProgressFn


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


TSNE_ITERATIONS = (250, 500)  # early exaggeration (12), then normal: openTSNE's ``fit`` defaults
KNN_SHARE = 250  # the neighbour search counts as this many iterations in the progress
CALLBACK_EVERY = 10  # iterations between progress reports (and cancel checks)
KNN_CHUNK = 500  # rows of the distance matrix computed at once


def warm_tsne() -> None:
    """Import openTSNE now (seconds of scipy and scikit-learn), so a later t-SNE starts at once."""
    try:
        import openTSNE  # noqa: F401
    except ImportError:  # reported when t-SNE is asked for
        pass


def nearest_neighbors(x: np.ndarray, k: int, progress: ProgressFn | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` nearest neighbours (Euclidean) of each row of ``x`` (N, d) among the
    other rows: indices (N, k) int64 and distances (N, k), nearest first. Brute force
    (scikit-learn) in chunks of ``KNN_CHUNK`` rows, calling ``progress(rows done, N)`` between
    chunks, so a cancel (a ``progress`` that raises ``Cancelled``) is noticed within one chunk
    (~0.2 s for 5,000 × 32 on one core; openTSNE's default Annoy index took 6.7 s, uncancellable)."""
    from sklearn.neighbors import NearestNeighbors

    n = len(x)
    index = NearestNeighbors(n_neighbors=min(k + 1, n), algorithm="brute").fit(x)
    indices, distances = np.empty((n, k), np.int64), np.empty((n, k), np.float64)
    for start in range(0, n, KNN_CHUNK):
        if progress:
            progress(start, n)
        rows = np.arange(start, min(start + KNN_CHUNK, n))
        dist, idx = index.kneighbors(x[rows])
        # drop each row itself (sorted last, stably), or the farthest if a duplicate hid it
        order = np.argsort(idx == rows[:, None], axis=1, kind="stable")[:, :k]
        indices[rows], distances[rows] = np.take_along_axis(idx, order, 1), np.take_along_axis(dist, order, 1)
    if progress:
        progress(n, n)
    return indices, distances


def tsne(codes: np.ndarray, progress: ProgressFn | None = None, perplexity: float = 30.0, seed: int = 0,
         threads: int = 1) -> np.ndarray:
    """t-SNE (van der Maaten & Hinton 2008) of codes (N, d) -> (N, 2) float32, through
    openTSNE's FFT-accelerated gradients (Linderman et al. 2019) on exact nearest neighbours
    (3 × perplexity of them): early exaggeration (12, 250 iterations) then 500 normal ones, as
    openTSNE's ``fit`` does. ``progress(done, total)`` is called every ``CALLBACK_EVERY``
    iterations and between neighbour chunks; a ``progress`` that raises (``Cancelled``, from
    ``studio.engine.jobs.progress_callback``) stops it there. One thread by default: the UI
    and the decoder keep a core. Raises ValueError without openTSNE or with < 10 points."""
    try:
        from openTSNE import TSNEEmbedding, affinity, initialization
        from openTSNE.nearest_neighbors import PrecomputedNeighbors
    except ImportError:
        raise ValueError("t-SNE needs openTSNE: pip install openTSNE") from None
    x = np.asarray(codes, np.float32)
    if len(x) < 10:
        raise ValueError(f"t-SNE needs at least 10 points (got {len(x)})")
    report = progress or (lambda done, total: None)
    total = KNN_SHARE + sum(TSNE_ITERATIONS)
    report(0, total)
    perplexity = min(perplexity, (len(x) - 1) / 3)
    k = min(len(x) - 1, int(3 * perplexity))
    neighbours = nearest_neighbors(x, k, lambda done, n: report(KNN_SHARE * done // n, total))
    aff = affinity.PerplexityBasedNN(perplexity=perplexity, knn_index=PrecomputedNeighbors(*neighbours),
                                     n_jobs=threads, random_state=seed, verbose=False)
    embedding = TSNEEmbedding(initialization.pca(x, random_state=seed), aff, n_jobs=threads, random_state=seed,
                              verbose=False)
    done = [KNN_SHARE]

    def callback(iteration: int, error: float, current) -> bool:
        done[0] += CALLBACK_EVERY
        report(min(done[0], total), total)  # raises Cancelled once cancelled
        return False

    for n_iter, options in zip(TSNE_ITERATIONS, ({"exaggeration": 12, "momentum": 0.5}, {"momentum": 0.8})):
        embedding = embedding.optimize(n_iter, callbacks=callback, callbacks_every_iters=CALLBACK_EVERY, **options)
    report(total, total)
    return np.asarray(embedding, np.float32)
