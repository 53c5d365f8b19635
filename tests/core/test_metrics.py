"""Metrics: FCD/KID sanity (the FID tests), coverage, VAE likelihood bounds, classifiers,
checkpoint curves and ``studio eval``."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch
import torch.nn.functional as F

from studio.metrics import (ClassifierError, FeatureStats, class_coverage, frechet_distance,
                            kernel_inception_distance, load_classifier, polynomial_mmd2)
from studio.metrics.classifier import classifier_dir, classifier_for


def test_frechet_distance_of_a_set_with_itself_is_zero_and_matches_the_closed_form():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 16, generator=g) @ torch.randn(16, 16, generator=g)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    # diagonal Gaussians: d² = ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)²
    a = FeatureStats(torch.tensor([0.0, 1.0], dtype=torch.float64), torch.diag(torch.tensor([1.0, 4.0])).double(), 10)
    b = FeatureStats(torch.tensor([3.0, 1.0], dtype=torch.float64), torch.diag(torch.tensor([9.0, 1.0])).double(), 10)
    assert frechet_distance(a, b) == pytest.approx(9 + (1 - 3) ** 2 + (2 - 1) ** 2)


@pytest.fixture(scope="module")
def fashion():
    from studio.data import load_dataset

    if classifier_for("fashion-mnist-5k", (1, 28, 28)) is None:
        pytest.fail("resources/classifiers/fashion-mnist-5k.* missing: run scripts/train_classifiers.py")
    return load_classifier("fashion-mnist-5k"), load_dataset("fashion-mnist-5k", split="test").images[:500]


def _fcd_to_train(classifier, images: torch.Tensor) -> float:
    from studio.metrics.evaluate import reference_features

    features, _ = classifier.embed(images)
    return frechet_distance(FeatureStats.of(features), reference_features("fashion-mnist-5k")[1])


def test_fcd_grows_monotonically_with_noise_and_blur(fashion):
    """The FID sanity test (Heusel et al. 2017, Fig. 1): more disturbance, larger distance."""
    classifier, images = fashion
    x = images.float() / 127.5 - 1
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(x.shape, generator=g)
    noisy = [_fcd_to_train(classifier, (x + s * noise).clamp(-1, 1)) for s in (0.0, 0.1, 0.25, 0.5)]
    assert all(a < b for a, b in zip(noisy, noisy[1:])), noisy

    def blur(t: torch.Tensor, size: int) -> torch.Tensor:
        return F.avg_pool2d(F.pad(t, [size // 2] * 4, mode="replicate"), size, stride=1) if size > 1 else t

    blurred = [_fcd_to_train(classifier, blur(x, k)) for k in (1, 3, 5)]
    assert all(a < b for a, b in zip(blurred, blurred[1:])), blurred
    assert noisy[0] < 0.2 * noisy[-1]


def test_kid_is_unbiased_on_equal_distributions_and_positive_on_different_ones():
    g = torch.Generator().manual_seed(1)
    estimates = [polynomial_mmd2(torch.randn(50, 8, generator=g), torch.randn(50, 8, generator=g)) for _ in range(100)]
    mean, sem = torch.stack(estimates).mean(), torch.stack(estimates).std() / math.sqrt(100)
    assert abs(mean) < 3 * sem  # expectation 0; single estimates are negative about half the time
    assert sum(e < 0 for e in estimates) > 20
    x, y = torch.randn(400, 8, generator=g), torch.randn(400, 8, generator=g) + 0.5
    kid, std = kernel_inception_distance(x, y, subsets=10, subset_size=200)
    assert kid > 5 * std > 0


def test_class_coverage_counts_modes_and_entropy():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 2)
    c = class_coverage(labels, 4)
    assert c.histogram == [50, 30, 2, 0]
    assert c.modes == 2  # class 2 holds 2/82 < 20% of its fair quarter
    p = torch.tensor([50, 30, 2]) / 82
    assert c.entropy_bits == pytest.approx(float(-(p * p.log2()).sum()))
    uniform = class_coverage(torch.arange(10).repeat(10), 10)
    assert uniform.modes == 10 and uniform.normalized_entropy == pytest.approx(1.0)


def test_iwae_bound_is_tighter_than_the_elbo(trained_run):
    from studio.data import load_dataset
    from studio.runs import Run, load_model

    model = load_model(Run.open(trained_run("vae")))
    x = load_dataset("fashion-mnist-5k", split="test").images[:32].float() / 127.5 - 1
    torch.manual_seed(0)
    bounds = model.likelihood_bounds(x, k=100)
    assert bounds["iwae"].shape == (32,)
    assert (bounds["iwae"] <= bounds["neg_elbo"] + 1e-3).all()
    assert bounds["iwae"].mean() < bounds["neg_elbo"].mean() - 0.1
    # with k = 1 the bound is a one-sample ELBO: equal to the ELBO in expectation
    torch.manual_seed(0)
    one = model.likelihood_bounds(x, k=1)
    assert abs(one["iwae"].mean() - one["neg_elbo"].mean()) < 0.1 * one["neg_elbo"].mean()
    with pytest.raises(ValueError, match="k must be at least 1"):
        model.likelihood_bounds(x, k=0)


def test_classifier_files_are_checked_before_loading(tmp_path):
    for suffix in (".safetensors", ".json"):
        shutil.copy(classifier_dir() / f"mnist-5k{suffix}", tmp_path / f"mnist-5k{suffix}")
    record = json.loads((tmp_path / "mnist-5k.json").read_text())
    assert record["test_accuracy"] > 0.9 and "train_classifiers.py" in record["command"]
    data = bytearray((tmp_path / "mnist-5k.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "mnist-5k.safetensors").write_bytes(bytes(data))
    with pytest.raises(ClassifierError, match="sha256"):
        load_classifier("mnist-5k", root=tmp_path)
    with pytest.raises(ClassifierError, match="no classifier for dataset 'emoji-32'"):
        load_classifier("emoji-32")


def test_checkpoints_log_fcd_kid_and_coverage(trained_run):
    from studio.runs import Run

    records = [r for r in Run.open(trained_run("dcgan")).read_metrics() if "test/fcd" in r]
    assert records, "no test/fcd record at the checkpoint"
    last = records[-1]
    assert last["test/fcd"] > 0 and math.isfinite(last["test/kid"]) and 1 <= last["test/coverage"] <= 10


def test_studio_eval_says_a_conditional_likelihood_is_given_the_class(trained_run, capsys):
    from studio.cli import main

    assert main(["eval", trained_run("pixelcnn", steps=3), "--n", "10", "--nll-images", "20"]) == 0
    assert "held-out likelihood given the class (test split" in capsys.readouterr().out


def test_studio_eval_prints_metrics_and_rejects_bad_input(trained_run, capsys, tmp_path):
    from studio.cli import main

    run = trained_run("vae")
    assert main(["eval", run, "--n", "100", "--k", "5", "--nll-images", "100", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["samples"]["n"] == 100 and result["samples"]["fcd"] > result["floor"]["fcd"]
    assert result["likelihood"]["iwae_nats"] <= result["likelihood"]["neg_elbo_nats"] + 1e-3
    assert main(["eval", run, "--n", "100", "--k", "5", "--nll-images", "50"]) == 0
    out = capsys.readouterr().out
    assert "FCD" in out and "real test split (floor)" in out and "iwae_nats" in out
    assert "held-out likelihood (test split" in out  # an unconditional model: of p(x)
    for argv, message in ((["eval", str(tmp_path / "nope")], "does not exist"),
                          (["eval", run, "--n", "0"], "--n must be at least"),
                          (["eval", run, "--sample-steps", "5"], "diffusion")):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err


def test_quality_table_script_writes_rows_and_the_floor(trained_run, tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "quality_table.py"
    spec = importlib.util.spec_from_file_location("quality_table", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out, numbers = tmp_path / "quality.md", tmp_path / "quality.json"
    assert script.main([trained_run("vae"), "--n", "100", "--nll-images", "20", "--out", str(out),
                        "--json", str(numbers)]) == 0
    table = out.read_text()
    # the run's options (here the tiny test size) follow the family name
    assert "| vae (width=8, latent_dim=4) | fashion-mnist-5k | 20 | 100 |" in table
    assert "real test split (floor)" in table
    assert "nats (IWAE k=100)" in table and "cpu fp32" in table
    rows = json.loads(numbers.read_text())
    assert rows[0]["family"] == "vae" and rows[0]["options"] == {"width": 8, "latent_dim": 4}
    assert rows[0]["fcd"] > rows[1]["fcd"] and rows[0]["train_s"] > 0
    assert rows[0]["class_conditional"] is False  # a conditional model's NLL is of p(x | class):
    assert script.nll_text({"bits_per_dim": 2.9512}, conditional=True) == "2.951 bits/dim given the class"


def test_checkpoint_metrics_pick_a_sample_count_and_never_stop_training():
    from studio.metrics import CheckpointMetrics
    from studio.models import build_model

    torch.manual_seed(0)
    model = build_model("vae", {"width": 8, "latent_dim": 4}, (1, 28, 28), 10).eval()
    assert CheckpointMetrics.for_run("emoji-32", (3, 32, 32), model, torch.device("cpu"), 0) is None
    assert CheckpointMetrics.for_run("fashion-mnist-5k", (1, 32, 32), model, torch.device("cpu"), 0) is None
    metrics = CheckpointMetrics.for_run("fashion-mnist-5k", (1, 28, 28), model, torch.device("cpu"), 0)
    values = metrics(model, interval_seconds=1.0)
    assert set(values) == {"fcd", "kid", "coverage"} and metrics.n >= CheckpointMetrics.MIN_N
    assert str(metrics.n) in metrics.describe()

    def broken(*args, **kwargs):
        raise RuntimeError("sampler exploded")

    model.sample = broken
    failing = CheckpointMetrics.for_run("fashion-mnist-5k", (1, 28, 28), model, torch.device("cpu"), 0)
    assert failing(model, 1.0) == {} and failing(model, 1.0) == {}
    assert "sampler exploded" in failing.describe()


def test_checkpoint_metrics_give_up_before_a_batch_that_would_pass_the_cap(monkeypatch):
    """A slow sampler (a PixelCNN draws pixel by pixel) is timed batch by batch; the batch that
    would pass the cap at the cost per sample so far is never started (it was started, and the
    30-sample batch alone took ~20 s before the check after it gave up)."""
    from studio.metrics import CheckpointMetrics, evaluate
    from studio.models import build_model

    model = build_model("vae", {"width": 8, "latent_dim": 4}, (1, 28, 28), 10).eval()
    clock, sizes = [0.0], []

    def slow_generate(model, n, seed=0, progress=None, **options):  # 0.1 s a sample on a fake clock
        sizes.append(n)
        clock[0] += 0.1 * n
        return torch.zeros(n, 1, 28, 28)

    monkeypatch.setattr(evaluate, "generate", slow_generate)
    monkeypatch.setattr(evaluate.time, "perf_counter", lambda: clock[0])
    metrics = CheckpointMetrics.for_run("fashion-mnist-5k", (1, 28, 28), model, torch.device("cpu"), 0)
    assert metrics._choose_n(model, interval_seconds=1.0) == 0  # cap max(2 s, 5 × 0.05 s) = 2 s
    assert sizes == [1, 2, 8]  # warm-up, 0.2 s, 0.8 s; the 30 would reach 4 s: never started
    sizes.clear()
    assert metrics._choose_n(model, interval_seconds=400.0) == 200  # cap 100 s: all 100 (10 s); 20 s buys 200
    assert sizes == [1, *CheckpointMetrics.BATCHES]
