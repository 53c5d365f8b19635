"""Sample quality and likelihood of a trained model, for ``studio eval``, the checkpoint
curves, the benchmark and the quality table.

Generated images are quantised to uint8 like the real data before the classifier sees them,
so samples and data are judged on equal terms. The reference is the dataset's train split;
the *floor* is the real test split judged against it (what a perfect model would score with
that many images: FCD is biased upwards for small samples, KID is not).
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Iterator

import torch
from torch import Tensor

from .. import rng
from ..data import load_dataset
from ..imaging import to_uint8, to_unit_range
from .classifier import ClassifierError, classifier_for, load_classifier
from .distances import FeatureStats, class_coverage, frechet_distance, kernel_inception_distance

Progress = Callable[[str, int, int], None]  # (stage, done, total)
SAMPLE_BATCH = 250


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@functools.lru_cache(maxsize=8)
def reference_features(dataset: str, device: str = "cpu") -> tuple[Tensor, FeatureStats]:
    """Classifier features of the dataset's train split (cached per process) and their stats."""
    classifier = load_classifier(dataset, device)
    features, _ = classifier.embed(load_dataset(dataset, split="train", seed=0).images)
    return features, FeatureStats.of(features)


def compare(features: Tensor, labels: Tensor, dataset: str, device: str = "cpu", kid_subsets: int = 50) -> dict[str, Any]:
    """FCD, KID and class coverage of features/labels of some images against the train split."""
    reference, stats = reference_features(dataset, str(device))
    kid, kid_std = kernel_inception_distance(features, reference, subsets=kid_subsets)
    coverage = class_coverage(labels, load_classifier(dataset, device).num_classes)
    return {"n": len(features), "fcd": frechet_distance(FeatureStats.of(features), stats), "kid": kid,
            "kid_std": kid_std, "coverage": coverage.modes, "num_classes": coverage.num_classes,
            "class_entropy_bits": coverage.entropy_bits, "histogram": coverage.histogram}


@functools.lru_cache(maxsize=8)
def floor(dataset: str, device: str = "cpu") -> dict[str, Any]:
    """The real test split against the train split: the best a model can do with as many images."""
    classifier = load_classifier(dataset, device)
    features, labels = classifier.embed(load_dataset(dataset, split="test", seed=0).images)
    return compare(features, labels, dataset, device)


def generate(model, n: int, seed: int = 0, progress: Progress = _no_progress, **options) -> Tensor:
    """``n`` samples as uint8 (N, C, H, W) on the CPU: ``generate_batches`` collected."""
    out = torch.empty((n, *model.image_shape), dtype=torch.uint8)
    done = 0
    for batch in generate_batches(model, n, seed, progress, **options):
        out[done:done + len(batch)] = batch
        done += len(batch)
    return out


def generate_batches(model, n: int, seed: int = 0, progress: Progress = _no_progress,
                     labels: Tensor | None = None, batch: int = SAMPLE_BATCH, **options) -> Iterator[Tensor]:
    """``n`` samples in batches of at most ``batch``, each uint8 (B, C, H, W) on the CPU, so memory
    stays bounded whatever ``n`` is (``studio sample --n 40000``).

    Random numbers (``studio.rng``): x_T from stream NOISE of ``seed`` and the per-step noise of
    stochastic samplers from stream STEPS, on CPU generators (the same images on every device;
    the tensors move to the model's device), and torch's global generator, for anything a family
    draws without one, forked and seeded from stream GLOBAL. Batch i's images do not depend on
    ``n``. Class-conditional models get ``labels`` (N,) sliced per batch; None cycles
    0, 1, …, K−1 over the whole run, as one ``sample`` call would."""
    from ..models.base import class_labels

    noise_generator, step_generator = rng.streams(seed)
    device = next(model.parameters()).device
    if getattr(model.capabilities, "class_conditional", False):
        labels = class_labels(labels, n, model.num_classes, "cpu")
    elif labels is not None:
        raise ValueError(f"this {model.family} model is unconditional: it takes no labels")
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(rng.derived_seed(seed, rng.GLOBAL))
        for start in range(0, n, batch):
            size = min(batch, n - start)
            noise = model.sample_noise(size, generator=noise_generator)
            extra = {"labels": labels[start:start + size].to(device)} if labels is not None else {}
            images = model.sample(size, noise=noise.to(device), generator=step_generator, **extra, **options)
            yield to_uint8(images).cpu()
            progress("sampling", start + size, n)


def sample_quality(model, dataset: str, n: int, seed: int = 0, progress: Progress = _no_progress,
                   kid_subsets: int = 50, **options) -> dict[str, Any]:
    """FCD / KID / coverage of ``n`` samples of ``model`` judged by ``dataset``'s classifier."""
    device = next(model.parameters()).device
    images = generate(model, n, seed, progress, **options)
    classifier = load_classifier(dataset, device)
    done = [0]

    def count(k: int) -> None:
        done[0] += k
        progress("features", done[0], n)

    features, labels = classifier.embed(images, progress=count)
    return compare(features, labels, dataset, str(device), kid_subsets)


@torch.no_grad()
def likelihoods(model, images: Tensor, labels: Tensor | None = None, k: int = 100, batch: int = 100,
                seed: int = 0, progress: Progress = _no_progress) -> dict[str, float]:
    """The family's own held-out metrics (``evaluate``: e.g. a flow's bits/dim) averaged over
    ``images`` (uint8; class-conditional families also get their ``labels``), plus the VAE's
    negative ELBO and IWAE bound (k samples) in nats."""
    device = next(model.parameters()).device
    conditional = model.capabilities.class_conditional and labels is not None
    totals: dict[str, float] = {}
    vae = _has_vae_bounds(model)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        done = 0
        for i, chunk in enumerate(images.split(batch)):
            x = to_unit_range(chunk.to(device))
            extra = {"labels": labels[i * batch:(i + 1) * batch].to(device)} if conditional else {}
            values = {key: float(v) for key, v in model.evaluate(x, **extra).items()}
            if vae:
                bounds = model.likelihood_bounds(x, k)
                values.update({f"{key}_nats": float(v.mean()) for key, v in bounds.items()})
            for key, v in values.items():
                totals[key] = totals.get(key, 0.0) + v * len(chunk)
            done += len(chunk)
            progress("likelihood", done, len(images))
    return {key: v / len(images) for key, v in totals.items()}


def _has_vae_bounds(model) -> bool:
    """An unconditional VAE: ``likelihood_bounds`` (ELBO and IWAE) apply."""
    from ..models.vae import VAE

    return isinstance(model, VAE) and not model.capabilities.class_conditional


def evaluate_run(run, n: int = 5000, seed: int = 0, device: str | torch.device = "cpu", k: int = 100,
                 nll_images: int = 1000, progress: Progress = _no_progress, **sample_options) -> dict[str, Any]:
    """Everything ``studio eval`` prints for a run folder (see the module docstring)."""
    from ..runs import load_model

    model = load_model(run, device)
    data, shape = run.meta["data"], tuple(run.meta["image_shape"])
    result: dict[str, Any] = {"run": str(run.path), "family": run.family, "data": data, "step": run.step,
                              "device": str(device)}
    started = time.perf_counter()
    if model.capabilities.sample and classifier_for(data, shape) is not None:
        progress("reference features", 0, 1)
        result["floor"] = floor(data, str(device))  # also caches the train split's features
        progress("reference features", 1, 1)
        result["samples"] = sample_quality(model, data, n, seed, progress, **sample_options)
    elif model.capabilities.sample:
        result["note"] = (f"no classifier for {data} at {'×'.join(map(str, shape))}: FCD/KID need one of the "
                          f"bundled labelled datasets at their own resolution")
    test = _test_split(run)
    if test is not None:
        labels = test.labels[:nll_images] if test.labels is not None else None
        values = likelihoods(model, test.images[:nll_images], labels, k=k, seed=seed, progress=progress)
        if values:
            result["likelihood"] = values
            if model.capabilities.class_conditional:  # of p(x | y): lower than p(x) would be
                result["likelihood_given_class"] = True
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def _test_split(run):
    """The run's held-out images (None where it has none; a run without a valid spec has none)."""
    from ..runs import RunError

    try:
        return run.dataset("test")
    except RunError:
        return None


class CheckpointMetrics:
    """Cheap FCD / KID / coverage for the training curves, from a fixed number of samples
    chosen once: as many (100–1000) as fit in ``fraction`` of the training time between
    checkpoints; families too slow for 100 samples get no curve. Iterative samplers take ``ITERATIVE_STEPS`` steps here. The noise is fixed,
    so the curve shows learning rather than resampling."""

    MIN_N, MAX_N, ITERATIVE_STEPS, KID_SUBSETS = 100, 1000, 20, 10

    def __init__(self, dataset: str, device: torch.device, seed: int, fraction: float = 0.05):
        self.dataset, self.device, self.seed, self.fraction = dataset, device, seed, fraction
        self.n: int | None = None
        self.last_cost, self.error = 0.0, ""

    @classmethod
    def for_run(cls, data: str, image_shape, model, device, seed: int) -> "CheckpointMetrics | None":
        if not model.capabilities.sample or classifier_for(data, tuple(image_shape)) is None:
            return None
        return cls(data, device, seed)

    def options(self, model) -> dict[str, Any]:
        if not model.capabilities.samplers:
            return {}
        return {"steps": min(self.ITERATIVE_STEPS, model.num_train_timesteps)}

    def __call__(self, model, interval_seconds: float) -> dict[str, float]:
        """Metrics of ``model`` (put in eval mode by the caller); {} once the family turns out
        to sample too slowly for MIN_N samples, or sampling fails (``describe`` says why:
        training goes on either way)."""
        if self.n == 0:
            return {}
        try:
            if self.n is None:
                self.n = self._choose_n(model, interval_seconds)
                if self.n == 0:
                    self.error = "the family samples too slowly for 100 samples per checkpoint"
                    return {}
            started = time.perf_counter()
            result = sample_quality(model, self.dataset, self.n, self.seed, kid_subsets=self.KID_SUBSETS,
                                    **self.options(model))
            self.last_cost = time.perf_counter() - started
            return {"fcd": result["fcd"], "kid": result["kid"], "coverage": float(result["coverage"])}
        except Exception as exc:  # a metric must never stop training
            self.n, self.error = 0, f"{type(exc).__name__}: {exc}"
            return {}

    def describe(self) -> str:
        if self.n:
            return (f"test/fcd, test/kid, test/coverage from {self.n} samples per checkpoint "
                    f"({self.last_cost:.1f} s each)")
        return f"no FCD/KID curves for this run: {self.error}"

    BATCHES = (2, 8, 30, 60)  # timed in turn: MIN_N = 100 samples in all

    def _choose_n(self, model, interval_seconds: float) -> int:
        """Time MIN_N samples in growing batches (``BATCHES``), giving up as soon as the next
        batch, at the cost per sample so far, would pass max(2 s, 5 × the budget): a
        pixel-by-pixel sampler wastes at most the cap (it spent ~20 s on the 30-sample batch a
        check after each batch let start; a 3-step PixelCNN, 2-core AMD EPYC). Then as many
        samples as the budget buys."""
        reference_features(self.dataset, str(self.device))  # one-time cost, not per checkpoint
        classifier, options = load_classifier(self.dataset, self.device), self.options(model)
        classifier.embed(generate(model, 1, self.seed, **options))  # warm-up: first calls set up kernels
        budget = self.fraction * interval_seconds
        cap, tick, done = max(2.0, 5 * budget), time.perf_counter(), 0
        for size in self.BATCHES:
            spent = time.perf_counter() - tick
            if done and spent + size * spent / done > cap:
                return 0
            classifier.embed(generate(model, size, self.seed, **options))
            done += size
        spent = time.perf_counter() - tick
        if spent > cap:
            return 0
        return max(self.MIN_N, min(self.MAX_N, int(budget / (spent / done)) // 100 * 100))
