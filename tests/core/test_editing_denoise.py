"""The denoising autoencoder option (Vincent et al. 2008) and the denoise tool."""

from __future__ import annotations

import pytest
import torch

from studio.models import build_model
from studio.models.autoencoder import add_pixel_noise

SHAPE = (1, 28, 28)


def test_pixel_noise_has_the_asked_sigma_and_stays_in_range():
    x = torch.zeros(8, *SHAPE)
    g = torch.Generator().manual_seed(0)
    noisy = add_pixel_noise(x, 0.3, g)
    assert noisy.std().item() == pytest.approx(0.3, rel=0.03)  # zero mean image: no clipping at 0.3 σ
    assert add_pixel_noise(x, 0.0) is x
    full = add_pixel_noise(torch.ones(4, *SHAPE), 0.5)
    assert full.max().item() <= 1.0 and full.min().item() >= -1.0
    again = add_pixel_noise(x, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)


def test_a_denoising_autoencoder_is_trained_on_noisy_inputs_against_clean_targets(monkeypatch):
    plain = build_model("autoencoder", {"width": 8, "latent_dim": 4}, SHAPE)
    noisy = build_model("autoencoder", {"width": 8, "latent_dim": 4, "denoise": 0.3}, SHAPE)
    noisy.load_state_dict(plain.state_dict())
    seen = []
    for model in (plain, noisy):
        model.encoder.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    x = torch.rand(8, *SHAPE) * 2 - 1
    plain.train_step(x, None, plain.configure_optimizers(1e-3))
    noisy.train_step(x, None, noisy.configure_optimizers(1e-3))
    assert torch.equal(seen[0], x)  # the plain AE encodes the image itself
    gap = (seen[1] - x).std().item()
    assert 0.2 < gap < 0.3  # σ = 0.3, a little less after clipping at ±1
    # evaluation: the clean reconstruction error, and for the denoising AE also the denoising error
    assert set(plain.evaluate(x)) == {"mse"}
    metrics = noisy.evaluate(x)
    assert set(metrics) == {"mse", "denoise_mse"} and metrics["denoise_mse"] > 0
    assert noisy.evaluate(x) == metrics  # a fixed noise seed: comparable across evaluations


def test_denoise_is_validated_like_every_option():
    with pytest.raises(ValueError, match="denoise"):
        build_model("autoencoder", {"denoise": -0.1}, SHAPE)
