"""``studio bench metrics``: the cost of FCD + KID on 5,000 samples, sampling included.

For the VAE and the DCGAN (default configs; random weights cost the same as trained
ones): draw 5k samples, quantise them, run the classifier, fit the Fréchet statistics against
the cached train-split features and estimate KID (50 subsets of 1,000). The studio path
(``studio.metrics``) is timed alternately with a bare baseline written the obvious way —
a plain sampling loop, the classifier body, NumPy covariance, eigh and the polynomial MMD in
NumPy — which also cross-checks the numbers. DDPM's cost (DDIM, 50 steps) is reported
separately, extrapolated from a timed batch: on a CPU its sampling dominates everything.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import torch

from ..imaging import to_uint8, to_unit_range
from . import print_table

DATA = "fashion-mnist-5k"
N = 5000


def _timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _model(family: str):
    from ..data import load_dataset
    from ..models import build_model

    data = load_dataset(DATA, split="test")
    torch.manual_seed(0)
    return build_model(family, {}, data.image_shape, data.num_classes).eval()


def studio_path(model, n: int) -> tuple[float, float, dict]:
    """Sampling seconds, metric seconds, and the result, through ``studio.metrics``."""
    from ..metrics import load_classifier
    from ..metrics.evaluate import compare, generate

    sampling_s, images = _timed(lambda: generate(model, n, seed=0))
    metric_s, result = _timed(lambda: compare(*load_classifier(DATA).embed(images), DATA))
    return sampling_s, metric_s, result


@torch.no_grad()
def bare_path(model, n: int) -> tuple[float, float, dict]:
    """The same measurement as anyone would write it from scratch, in NumPy."""
    from ..metrics import load_classifier
    from ..metrics.evaluate import reference_features

    def sample():
        torch.manual_seed(0)
        return torch.cat([model.sample(250) for _ in range(0, n, 250)])[:n]

    sampling_s, images = _timed(sample)

    def metrics():
        classifier = load_classifier(DATA)
        x = to_unit_range(to_uint8(images))  # quantised like the data
        f = torch.cat([classifier.body(c) for c in x.split(500)]).double().numpy()
        r = reference_features(DATA)[0].double().numpy()
        mu_f, mu_r, cov_f, cov_r = f.mean(0), r.mean(0), np.cov(f, rowvar=False), np.cov(r, rowvar=False)
        w, v = np.linalg.eigh(cov_f)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ cov_r @ root), 0, None)).sum()
        fcd = ((mu_f - mu_r) ** 2).sum() + np.trace(cov_f) + np.trace(cov_r) - 2 * cross
        rng, d, m, kids = np.random.default_rng(0), f.shape[1], 1000, []
        for _ in range(50):
            a, b = f[rng.choice(len(f), m, replace=False)], r[rng.choice(len(r), m, replace=False)]
            kaa, kbb, kab = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
            kids.append((kaa.sum() - np.trace(kaa) + kbb.sum() - np.trace(kbb)) / (m * (m - 1)) - 2 * kab.mean())
        return {"fcd": float(fcd), "kid": float(np.mean(kids))}

    metric_s, result = _timed(metrics)
    return sampling_s, metric_s, result


def ddpm_cost(samples: int, steps: int = 50) -> dict:
    """Seconds for DDIM sampling of ``samples`` images (extrapolated to 5k) plus the metrics."""
    from ..metrics import load_classifier
    from ..metrics.evaluate import compare, generate

    model = _model("ddpm")
    sampling_s, images = _timed(lambda: generate(model, samples, seed=0, sampler="ddim", steps=steps))
    metric_s, _ = _timed(lambda: compare(*load_classifier(DATA).embed(images.repeat(N // samples + 1, 1, 1, 1)[:N]),
                                         DATA))
    per_image = sampling_s / samples
    return {"timed_samples": samples, "ddim_steps": steps, "sampling_s_per_image": per_image,
            "sampling_5k_s": per_image * N, "metrics_5k_s": metric_s, "total_5k_s": per_image * N + metric_s}


def run(quick: bool = False, families: list[str] | None = None, **_) -> dict:
    from ..metrics.evaluate import reference_features

    families = families or ["vae", "dcgan", "ddpm"]
    n, rounds = (1000, 1) if quick else (N, 3)
    reference_s, _ = _timed(lambda: reference_features(DATA))
    rows, results = [], {}
    for family in [f for f in families if f != "ddpm"]:
        model = _model(family)
        ours, bare = [], []
        for _ in range(rounds):  # alternated, so drifting machine load hits both alike
            ours.append(studio_path(model, n))
            bare.append(bare_path(model, n))
        s_sample, s_metric = (statistics.median(r[i] for r in ours) for i in (0, 1))
        b_sample, b_metric = (statistics.median(r[i] for r in bare) for i in (0, 1))
        total, bare_total = s_sample + s_metric, b_sample + b_metric
        results[family] = {"n": n, "sampling_s": s_sample, "metrics_s": s_metric, "total_s": total,
                           "bare_total_s": bare_total, "ratio": total / bare_total, "fcd": ours[-1][2]["fcd"],
                           "bare_fcd": bare[-1][2]["fcd"], "kid": ours[-1][2]["kid"], "bare_kid": bare[-1][2]["kid"]}
        rows.append({"family": family, **results[family]})
    print(f"studio bench metrics — FCD + KID (50 subsets of 1000) on {n} samples of untrained default models "
          f"({DATA} classifier), {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}; "
          f"reference features of the train split once: {reference_s:.1f} s")
    if rows:
        print_table(rows, [("family", ""), ("n", "d"), ("sampling_s", ".2f"), ("metrics_s", ".2f"), ("total_s", ".2f"),
                           ("bare_total_s", ".2f"), ("ratio", ".3f"), ("fcd", ".3f"), ("bare_fcd", ".3f")])
        print("ratio = studio time / bare NumPy baseline time (median of alternated rounds); target total ≤ 60 s")
    out = {"families": results, "reference_s": reference_s, "threads": torch.get_num_threads(),
           "load_average": os.getloadavg()[0]}
    if "ddpm" in families:
        out["ddpm"] = ddpm = ddpm_cost(8 if quick else 16)
        print(f"ddpm (DDIM {ddpm['ddim_steps']} steps, default U-Net): {ddpm['sampling_s_per_image']:.3f} s per sample "
              f"→ {ddpm['sampling_5k_s']:.0f} s to sample 5k (extrapolated from {ddpm['timed_samples']}) "
              f"+ {ddpm['metrics_5k_s']:.1f} s of metrics")
    out["fcd_kid_5k_s"] = max((r["total_s"] for r in results.values()), default=None)
    return out
