"""The DCGAN family: both players learning, the paper's optimizers, config, capabilities (the
shared contract: test_family_contract.py)."""

import pytest
import torch

from studio.models import build_model, config_from_dict, get_family

torch.set_num_threads(1)

SMALL = {"z_dim": 16, "width": 16}


def stripes(n, shape, seed=0):
    """Smooth random stripes in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    c, h, w = shape
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    f = torch.rand(n, c, 1, 1, 2, generator=g) * 6 + 1
    return torch.sin(f[..., 0] * yy * 3 + f[..., 1] * xx * 2 + torch.rand(n, c, 1, 1, generator=g) * 6.28)


def make(shape=(1, 28, 28), seed=0, **options):
    torch.manual_seed(seed)
    return build_model("dcgan", {**SMALL, **options}, shape)


def test_sample_is_the_generator_and_preview_the_samples():
    """(Shapes, ranges, bf16, modes and round trips of every family: test_family_contract.py.)"""
    model = make()
    noise = model.sample_noise(3, torch.Generator().manual_seed(0))
    samples = model.sample(3, noise=noise)
    assert torch.equal(model.decode(noise), samples)
    assert torch.equal(model.preview(noise, stripes(2, (1, 28, 28))), samples)
    with pytest.raises(NotImplementedError):
        model.encode(stripes(2, (1, 28, 28)))


def test_train_step_metrics_and_players():
    model = make()
    metrics = model.train_step(stripes(4, (1, 28, 28)), None, model.configure_optimizers(model.default_lr))
    assert list(metrics) == ["d_loss", "g_loss", "d_real", "d_fake"]
    assert 0 <= metrics["d_real"] <= 1 and 0 <= metrics["d_fake"] <= 1
    # the G step froze D only for its own backward pass
    assert all(p.requires_grad for p in model.discriminator.parameters())


def test_optimizers_follow_the_paper():
    model = make()
    optimizers = model.configure_optimizers(model.default_lr)
    assert set(optimizers) == {"g", "d"} and model.default_lr == 2e-4
    assert optimizers["g"].defaults["betas"] == (0.5, 0.999)
    g_params = {id(p) for group in optimizers["g"].param_groups for p in group["params"]}
    assert g_params == {id(p) for p in model.generator.parameters()}
    conv = model.discriminator.convs[0].weight
    assert abs(conv.std().item() - 0.02) < 0.005  # N(0, 0.02) init


def test_discriminator_learns_to_tell_real_from_fake():
    model = make()
    data = stripes(64, (1, 28, 28))
    optimizers = model.configure_optimizers(model.default_lr)
    history = [model.train_step(data[(i * 16) % 64:][:16], None, optimizers) for i in range(20)]
    d_real = [h["d_real"].item() for h in history]
    d_loss = [h["d_loss"].item() for h in history]
    assert sum(d_real[-5:]) / 5 > d_real[0] + 0.08
    assert sum(d_loss[-5:]) / 5 < sum(d_loss[:3]) / 3 - 0.1


def test_generator_moves_towards_the_data():
    """On bright images (mean 0.6) G's samples, initially grey (≈ 0), brighten."""
    model = make()
    data = (0.6 + 0.1 * torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    optimizers = model.configure_optimizers(1e-3)
    before = model.sample(64, generator=torch.Generator().manual_seed(0)).mean().item()
    for i in range(40):
        model.train_step(data[(i * 16) % 64:][:16], None, optimizers)
    after = model.sample(64, generator=torch.Generator().manual_seed(0)).mean().item()
    assert abs(before) < 0.1 and after > 0.35


def test_evaluate_reports_discriminator_stats():
    result = make().evaluate(stripes(8, (1, 28, 28)))
    assert set(result) == {"d_real", "d_fake"} and all(0 <= v <= 1 for v in result.values())


@pytest.mark.parametrize("bad", [{"z_dim": 1}, {"z_dim": 4096}, {"width": 2}, {"beta": 1.0}, {"z_dim": "x"}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        config_from_dict(get_family("dcgan").Config, bad)


def test_capabilities_and_presets():
    cls = get_family("dcgan")
    caps = cls.capabilities
    assert caps.decode and caps.sample and not caps.encode and not caps.reconstruct
    assert make().capabilities.latent_dim == 16
    assert set(cls.presets) == {"quick", "standard", "quality"}
    for preset in cls.presets.values():
        config_from_dict(cls.Config, {k: v for k, v in preset.items() if k not in ("steps", "batch_size")})
