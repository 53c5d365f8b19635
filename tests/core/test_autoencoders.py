"""The autoencoder and VAE families: what is theirs alone (preview layout, metric names, the
latent Gaussian, the ELBO terms, config, traversals); the shared contract is in
test_family_contract.py."""

import math

import pytest
import torch

from studio.models import build_model, config_from_dict, get_family
from studio.models.vae import bernoulli_nll, gaussian_kl

torch.set_num_threads(1)

FAMILIES = ["autoencoder", "vae"]
SMALL = {"latent_dim": 8, "width": 8}
METRICS = {"autoencoder": ["recon"], "vae": ["loss", "recon", "kl"]}


def patterns(n, shape, seed=0):
    """Smooth random stripes in [-1, 1]: learnable structure, unlike white noise."""
    g = torch.Generator().manual_seed(seed)
    c, h, w = shape
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    f = torch.rand(n, c, 1, 1, 2, generator=g) * 6 + 1
    phase = torch.rand(n, c, 1, 1, generator=g) * 6.28
    return torch.sin(f[..., 0] * yy * 3 + f[..., 1] * xx * 2 + phase).clamp(-1, 1)


def assert_close(a, b, atol=1e-6, rtol=1e-5):
    # (torch.testing.assert_close imports torch.distributed: seconds per test session)
    assert a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=rtol), (a - b).abs().max()


def make(family, shape=(1, 28, 28), **options):
    torch.manual_seed(0)
    return build_model(family, {**SMALL, **options}, shape)


@pytest.mark.parametrize("family", FAMILIES)
def test_preview_is_samples_then_reconstructions(family):
    """(Shapes, ranges, modes and round trips of every family: test_family_contract.py.)"""
    model = make(family)
    x = patterns(5, (1, 28, 28))
    assert model.encode(x).shape == (5, 8)
    noise = model.sample_noise(3, torch.Generator().manual_seed(0))
    preview = model.preview(noise, x[:2])
    assert preview.shape == (5, 1, 28, 28)
    assert_close(preview[:3], model.sample(3, noise=noise))
    assert_close(preview[3:], model.reconstruct(x[:2]))


@pytest.mark.parametrize("family", FAMILIES)
def test_train_step_metric_names(family):
    model = make(family)
    assert list(model.train_step(patterns(4, (1, 28, 28)), None, model.configure_optimizers(1e-3))) == METRICS[family]


@pytest.mark.parametrize("family", FAMILIES)
def test_group_norm_variant_trains(family):
    model = make(family, (3, 32, 32), norm="group")
    metrics = model.train_step(patterns(4, (3, 32, 32)), None, model.configure_optimizers(1e-3))
    assert all(math.isfinite(v) for v in metrics.values())
    assert model.sample(2).shape == (2, 3, 32, 32)


@pytest.mark.parametrize("family", FAMILIES)
def test_loss_falls_on_a_tiny_dataset(family):
    model = make(family, width=16)
    data = patterns(64, (1, 28, 28))
    optimizers = model.configure_optimizers(model.default_lr)
    head = METRICS[family][0]
    curve = [model.train_step(data[(i * 16) % 64:][:16], None, optimizers)[head].item() for i in range(40)]
    # (the VAE's Bernoulli cross-entropy has a floor, the entropy of the grey levels)
    assert sum(curve[-5:]) / 5 < (0.7 if family == "autoencoder" else 0.8) * sum(curve[:3]) / 3
    before = model.evaluate(data)
    assert set(before) == ({"mse"} if family == "autoencoder" else {"neg_elbo_nats", "recon", "kl"})


@pytest.mark.parametrize("bad", [{"latent_dim": 1}, {"latent_dim": 10_000}, {"width": 0},
                                 {"norm": "layer"}, {"nonsense": 1}, {"latent_dim": "many"}])
@pytest.mark.parametrize("family", FAMILIES)
def test_config_rejects_bad_values(family, bad):
    with pytest.raises(ValueError):
        config_from_dict(get_family(family).Config, bad)


def test_vae_config_rejects_negative_beta():
    with pytest.raises(ValueError):
        config_from_dict(get_family("vae").Config, {"beta": -1.0})


@pytest.mark.parametrize("family", FAMILIES)
def test_capabilities_and_presets(family):
    cls = get_family(family)
    caps = cls.capabilities
    assert caps.encode and caps.decode and caps.sample and caps.reconstruct
    assert not caps.denoise_step and not caps.class_conditional
    assert make(family).capabilities.latent_dim == 8
    assert set(cls.presets) == {"quick", "standard", "quality"}
    for preset in cls.presets.values():
        config_from_dict(cls.Config, {k: v for k, v in preset.items() if k not in ("steps", "batch_size")})


def test_autoencoder_samples_from_the_fitted_latent_gaussian():
    model = make("autoencoder", latent_momentum=1.0)  # the running fit is the last batch's
    x = patterns(32, (1, 28, 28))
    z = model.encoder(x).detach()  # the codes train_step sees (BN in train mode)
    model.train_step(x, None, model.configure_optimizers(1e-3))
    assert_close(model.latent_mean, z.mean(0), atol=1e-4, rtol=1e-4)
    assert_close(model.latent_cov, torch.cov(z.T), atol=1e-4, rtol=1e-4)
    noise = model.sample_noise(20000, torch.Generator().manual_seed(0))
    latents = model._prior_latent(noise)
    assert_close(latents.mean(0), model.latent_mean, atol=0.05 * z.std(), rtol=0)
    assert_close(torch.cov(latents.T), model.latent_cov, atol=0.05 * z.var(), rtol=0.05)


def test_vae_terms_match_the_formulas():
    mu, logvar = torch.randn(4, 6), torch.randn(4, 6)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(6), torch.ones(6))
    assert_close(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1))
    logits, x = torch.randn(2, 1, 3, 3), torch.tensor([-1.0, 1.0]).view(2, 1, 1, 1).expand(2, 1, 3, 3)
    expected = -torch.distributions.Bernoulli(logits=logits).log_prob((x + 1) / 2).flatten(1).sum(1)
    assert_close(bernoulli_nll(logits, x), expected)


def test_vae_evaluate_is_a_negative_elbo_in_nats():
    model = make("vae")
    result = model.evaluate(patterns(8, (1, 28, 28)))
    assert result["neg_elbo_nats"] == pytest.approx(result["recon"] + result["kl"])
    assert result["kl"] >= 0 and result["recon"] > 0
    # decode() maps logits to [-1, 1] as 2σ(logit) − 1
    assert model.decode(torch.zeros(1, 8)).abs().max() <= 1


# --- the disentanglement helper (β-VAE traversals, factor report) ---------------------------

def test_latent_traversals_sweep_one_dimension():
    from studio.models.traversal import latent_traversals, traversal_grid

    torch.manual_seed(0)
    model = build_model("vae", {"latent_dim": 4, "width": 8, "beta": 4.0}, (1, 28, 28))
    z = torch.randn(4)
    t = latent_traversals(model, z, dims=[2, 0], span=2.0, steps=5)
    assert t.shape == (2, 5, 1, 28, 28)
    expected = z.repeat(5, 1)
    expected[:, 0] = torch.linspace(-2, 2, 5)
    assert torch.allclose(t[1], model.decode(expected), atol=1e-6)
    assert traversal_grid(t).shape == (2 * 30 + 2, 5 * 30 + 2, 1)
    with pytest.raises(ValueError, match="out of range"):
        latent_traversals(model, z, dims=[4])
    with pytest.raises(ValueError, match="encodes and decodes"):
        latent_traversals(build_model("dcgan", {"width": 8, "z_dim": 4}, (1, 28, 28)), z)


def test_factor_report_finds_the_matching_dimension():
    from studio.models.traversal import factor_report

    g = torch.Generator().manual_seed(0)
    factors = torch.randint(0, 5, (500, 2), generator=g)
    codes = torch.randn(500, 3, generator=g) * 0.1
    codes[:, 1] += factors[:, 0].float()  # dim 1 carries factor 0 alone
    codes[:, 0] += factors[:, 1].float()  # dim 0 carries factor 1
    rep = factor_report(codes, factors, ["a", "b"])
    assert rep.best_dim == [1, 0] and min(rep.gap) > 0.8 and rep.correlation.shape == (3, 2)
    assert "a" in rep.table() and rep.activity[2] < 0.05


def test_disentanglement_view_on_shapes_factors():
    from studio.data import load_dataset
    from studio.models.traversal import disentanglement_view

    data = load_dataset("shapes", split="test", size=64)
    torch.manual_seed(0)
    model = build_model("vae", {"latent_dim": 6, "width": 8, "beta": 4.0}, data.image_shape)
    grid, order, report = disentanglement_view(model, data, n=64, steps=4, max_rows=3)
    assert grid.shape == (3 * 66 + 2, 4 * 66 + 2, 1) and len(order) == 3
    assert report.factor_names == data.factor_names and report.correlation.shape == (6, len(data.factor_names))


def test_cvae_traversals_take_a_class():
    from studio.models.traversal import latent_traversals

    torch.manual_seed(0)
    model = build_model("cvae", {"latent_dim": 3, "width": 8}, (1, 28, 28), 10)
    a = latent_traversals(model, torch.zeros(3), steps=3, labels=torch.tensor([2]))
    assert a.shape == (3, 3, 1, 28, 28)
    assert torch.allclose(a[0, 1], model.decode(torch.zeros(1, 3), labels=torch.tensor([2]))[0], atol=1e-6)
