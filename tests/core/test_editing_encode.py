"""Your picture in a latent space: encode → decode, GAN inversion by optimising z, denoising."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import load_dataset, to_unit_range
from studio.editing import (InvertJob, decode_latent, denoise_picture, encode_picture, load_picture, psnr,
                            round_trip)
from studio.engine import Control
from studio.engine.jobs import run_job
from studio.engine.reporting import RecordingReporter
from studio.errors import SpecError
from studio.runs import Run, demo_runs_root, load_model


def _model(trained_run, family, **spec):
    return load_model(Run.open(trained_run(family, **spec)))


def _test_images(n, start=0):
    ds = load_dataset("fashion-mnist-5k", split="test")
    return to_unit_range(ds.images[start:start + n]), ds.labels[start:start + n]


@pytest.mark.parametrize("family", ["autoencoder", "vae", "realnvp"])
def test_encode_and_decode_round_trip(trained_run, family):
    model = _model(trained_run, family)
    x, _ = _test_images(3)
    z, recon = round_trip(model, x)
    assert z.shape == (3, model.capabilities.latent_dim) and recon.shape == x.shape
    assert torch.equal(z, encode_picture(model, x)) and torch.equal(recon, decode_latent(model, z))
    if family == "realnvp":  # an exact bijection (up to the dequantisation bin)
        assert (recon - x).abs().max() < 2 / 255


def test_a_cvae_encodes_given_the_class_and_gans_have_no_encoder(trained_run):
    cvae = _model(trained_run, "cvae")
    x, y = _test_images(2)
    with pytest.raises(SpecError, match=r"^label is needed: a cvae encodes a picture given its class \(0\.\.9\)"):
        encode_picture(cvae, x)
    assert encode_picture(cvae, x, y).shape == (2, 4)
    assert encode_picture(cvae, x, 3).shape == (2, 4)  # one class for all
    with pytest.raises(SpecError, match="label must be in 0..9"):
        encode_picture(cvae, x, 12)
    with pytest.raises(SpecError, match=r"run \(dcgan\) has no encoder"):
        encode_picture(_model(trained_run, "dcgan"), x)
    with pytest.raises(SpecError, match="label does not apply: this autoencoder is unconditional"):
        encode_picture(_model(trained_run, "autoencoder"), x, 1)


def test_gan_inversion_lowers_the_error_and_reports_each_iteration():
    """On the demo DCGAN and real test garments (a tiny 20-step GAN barely depends on z)."""
    model = load_model(Run.open(demo_runs_root() / "dcgan-fashion-mnist"))
    target, _ = _test_images(2)
    reporter = RecordingReporter()
    outcome = run_job(InvertJob(model, target, steps=60, lr=0.05, seed=1, candidates=16), reporter)
    assert outcome.status == "finished"
    inv = outcome.result
    errors = inv.errors
    assert len(errors) == 60 and [s for s, _ in reporter.history] == list(range(1, 61))
    assert [p.step for p in reporter.progresses] == list(range(1, 61))
    assert errors[-1] < 0.5 * errors[0], errors
    rises = sum(b > a * 1.001 for a, b in zip(errors, errors[1:]))
    assert rises <= 3, errors  # (near-)monotone: measured 0 rises at lr 0.02-0.1
    assert inv.z.shape == (2, 100) and inv.images.shape == target.shape
    final = (inv.images - target).square().mean().item()
    assert final <= min(errors) + 1e-6  # the best z is the one returned
    assert all(p.grad is None for p in model.parameters())  # the model's own gradients untouched


def test_gan_inversion_cancels_and_refuses_other_families(trained_run):
    model = _model(trained_run, "dcgan")
    control = Control()

    class CancelAtFive(RecordingReporter):
        def metrics(self, step, values):
            super().metrics(step, values)
            if step == 5:
                control.cancel()

    reporter = CancelAtFive()
    target = torch.zeros(1, 1, 28, 28)
    assert run_job(InvertJob(model, target, steps=50, candidates=2), reporter, control).status == "cancelled"
    assert len(reporter.history) == 5
    with pytest.raises(SpecError, match=r"run \(autoencoder\) cannot be inverted by optimising z"):
        InvertJob(_model(trained_run, "autoencoder"), target)
    with pytest.raises(SpecError, match="steps must be in 1..100000"):
        InvertJob(model, target, steps=0)
    cdcgan = _model(trained_run, "cdcgan")
    with pytest.raises(SpecError, match="label is needed"):
        InvertJob(cdcgan, target)
    assert run_job(InvertJob(cdcgan, target, steps=3, labels=4, candidates=2)).status == "finished"


def test_denoise_adds_seeded_noise_and_reconstructs(trained_run):
    model = _model(trained_run, "autoencoder")
    x, _ = _test_images(2)
    noisy, cleaned = denoise_picture(model, x, 0.3, seed=5)
    again, _ = denoise_picture(model, x, 0.3, seed=5)
    assert torch.equal(noisy, again) and noisy.abs().max() <= 1 and cleaned.shape == x.shape
    from studio import rng

    eps = rng.randn(x.shape, rng.generator(5))  # x̃ = clip(x + σε): the seed's own noise
    assert torch.equal(noisy, (x + 0.3 * eps).clamp(-1, 1))
    same, _ = denoise_picture(model, x, 0.0)  # σ 0: the picture is noisy already
    assert torch.equal(same, x)
    with pytest.raises(SpecError, match=r"^sigma must be in \[0, 2\]"):
        denoise_picture(model, x, -1)
    with pytest.raises(SpecError, match=r"run \(realnvp\) cannot denoise"):
        denoise_picture(_model(trained_run, "realnvp"), x, 0.3)
    with pytest.raises(SpecError, match=r"run \(ddpm\) cannot denoise"):
        denoise_picture(_model(trained_run, "ddpm"), x, 0.3)


def test_psnr_in_decibels():
    a = torch.zeros(2, 1, 4, 4)
    b = a.clone()
    b[1] += 0.2  # MSE 0.04 in [-1, 1] units: 10 log10(4 / 0.04) = 20 dB
    assert psnr(a, b)[1].item() == pytest.approx(20.0)
    assert psnr(a, b)[0].item() > 100  # identical: bounded, not infinite


# --- the bundled demos: recognisable round trips, a picture lands near its class -------------------
@pytest.mark.parametrize("demo", ["autoencoder-fashion-mnist", "vae-fashion-mnist"])
def test_demo_round_trips_are_recognisable_and_pictures_land_near_their_class(demo, tmp_path):
    from studio.metrics.classifier import load_classifier

    model = load_model(Run.open(demo_runs_root() / demo))
    x, y = _test_images(200)
    _, recon = round_trip(model, x)
    classifier = load_classifier("fashion-mnist-5k")
    with torch.no_grad():
        accuracy = (classifier(recon).argmax(1) == y).float().mean().item()
    # the classifier reads the garment back (1000 test images: AE 0.80, VAE 0.75; originals 0.87)
    assert accuracy > 0.65, accuracy
    # pictures brought in as files (upscaled RGB PNGs) land among their own class on the map
    train = load_dataset("fashion-mnist-5k", split="train")
    codes = encode_picture(model, to_unit_range(train.images[:2000]))
    hits = 0
    for i in range(20):
        path = tmp_path / f"{i}.png"
        Image.fromarray(((x[i, 0].numpy() + 1) * 127.5).round().astype(np.uint8)).convert("RGB") \
            .resize((112, 112), Image.Resampling.BICUBIC).save(path)
        z = encode_picture(model, load_picture(path, model.image_shape))
        near = (codes - z).norm(dim=1).topk(10, largest=False).indices
        hits += int(train.labels[:2000][near].mode().values.item() == y[i].item())
    assert hits >= 14, hits  # 10-NN class of 1000 test codes: AE 0.86, VAE 0.84
