"""WGAN-GP: the critic's losses and penalty, the n_critic cadence, sampling, capabilities."""

import math

import pytest
import torch
from torch import nn

from studio.models import build_model, get_family

torch.set_num_threads(1)
SMALL = {"z_dim": 8, "width": 8}


def make(shape=(1, 28, 28), seed=0, **over):
    torch.manual_seed(seed)
    return build_model("wgan-gp", {**SMALL, **over}, shape)


def test_sample_is_the_generator_and_the_critic_has_no_batch_norm():
    """(Shapes, ranges, bf16, modes and round trips of every family: test_family_contract.py.)"""
    m = make()
    noise = m.sample_noise(3, torch.Generator().manual_seed(0))
    assert torch.equal(m.decode(noise), m.sample(3, noise=noise))
    assert not any(isinstance(x, nn.BatchNorm2d) for x in m.discriminator.modules())  # per-sample penalty


def test_capabilities_config_optimizers():
    m = make()
    caps = m.capabilities
    assert caps.sample and caps.decode and not caps.encode and not caps.class_conditional
    assert caps.latent_dim == 8 and get_family("wgan-gp") is type(m)
    assert m.config.gp_weight == 10 and m.config.n_critic == 5
    opts = m.configure_optimizers(1e-4)
    assert opts["d"].defaults["betas"] == (0.0, 0.9) and opts["g"].defaults["betas"] == (0.0, 0.9)
    with pytest.raises(ValueError):
        make(critic_norm="batch")


def test_gradient_penalty_of_a_linear_critic():
    """For D(x) = w·x the gradient is w everywhere: the penalty is (‖w‖ − 1)²."""
    m = make(shape=(1, 28, 28))
    w = torch.randn(784)
    m.discriminator = nn.Sequential(nn.Flatten(), nn.Linear(784, 1, bias=False))
    m.discriminator[1].weight.data = w[None]
    gp = m.gradient_penalty(torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28))
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-4)


def test_steps_cadence_and_critic_learns():
    m = make()
    x = (0.6 + 0.1 * torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    opts = m.configure_optimizers(1e-3)
    g_before = [p.clone() for p in m.generator.parameters()]
    out = [m.train_step(x[(i * 16) % 32:][:16], None, opts) for i in range(4)]
    assert list(out[0]) == ["critic_loss", "wasserstein", "gp", "g_loss"]
    assert all(math.isfinite(v) and v.shape == () and not v.requires_grad for o in out for v in o.values())
    # four critic steps: G not updated yet; the fifth updates it
    assert all(torch.equal(a, b) for a, b in zip(g_before, m.generator.parameters()))
    m.train_step(x[:16], None, opts)
    assert not all(torch.equal(a, b) for a, b in zip(g_before, m.generator.parameters()))
    assert int(m.critic_updates) == 5 and "critic_updates" in m.state_dict()
    # the critic separates bright data from grey samples: the Wasserstein estimate grows
    for i in range(15):
        last = m.train_step(x[(i * 16) % 32:][:16], None, opts)
    assert last["wasserstein"] > out[0]["wasserstein"] + 0.1
    assert all(p.requires_grad for p in m.discriminator.parameters())
    assert set(m.evaluate(x)) == {"wasserstein"}
