"""Honest numbers for generators: Fréchet classifier distance (FCD), KID and class coverage
on the features of a small per-dataset classifier (``resources/classifiers/``), and
likelihoods (the VAE's negative ELBO and IWAE bound from ``VAE.likelihood_bounds``; flows' and
PixelCNN's bits/dim come from their own ``evaluate``). Qt-free; used by ``studio eval``, the training curves
(``test/fcd``, ``test/kid``, ``test/coverage``), ``studio bench metrics`` and
``scripts/quality_table.py``."""

from .classifier import (CLASSIFIER_DATASETS, ClassifierError, FeatureClassifier, classifier_for, classifier_info,
                         load_classifier)
from .distances import (Coverage, FeatureStats, class_coverage, frechet_distance, kernel_inception_distance,
                        polynomial_mmd2)
from .evaluate import CheckpointMetrics, evaluate_run, floor, generate, likelihoods, sample_quality

__all__ = ["CLASSIFIER_DATASETS", "CheckpointMetrics", "ClassifierError", "Coverage", "FeatureClassifier",
           "FeatureStats", "class_coverage", "classifier_for", "classifier_info", "evaluate_run",
           "floor", "frechet_distance", "generate", "kernel_inception_distance", "likelihoods",
           "load_classifier", "polynomial_mmd2", "sample_quality"]
