"""RealNVP: exact invertibility, the log-likelihood against a brute-force change of
variables, masks, training lowers bits/dim, sampling, capabilities."""

import math

import pytest
import torch

from studio.models import build_model
from studio.models.realnvp import checkerboard, squeeze, unsqueeze

torch.set_num_threads(1)
SMALL = {"hidden": 8, "res_blocks": 1, "num_scales": 2}


def make(shape=(1, 28, 28), seed=0, perturb=True, **over):
    torch.manual_seed(seed)
    m = build_model("realnvp", {**SMALL, **over}, shape)
    if perturb:  # the couplings start as the identity: give them something to do
        with torch.no_grad():
            for p in m.parameters():
                p.add_(0.05 * torch.randn_like(p))
    return m


def test_squeeze_and_masks():
    x = torch.randn(2, 3, 4, 6)
    assert squeeze(x).shape == (2, 12, 2, 3) and torch.equal(unsqueeze(squeeze(x)), x)
    b0, b1 = checkerboard(4, 4, 0, x), checkerboard(4, 4, 1, x)
    assert torch.equal(b0 + b1, torch.ones(1, 1, 4, 4)) and b0[0, 0, 0, 0] == 1 and b0[0, 0, 0, 1] == 0


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_encode_decode_are_exact_inverses(shape):
    m = make(shape)
    x = torch.rand(3, *shape) * 2 - 1
    z = m.encode(x)
    assert z.shape == (3, math.prod(shape)) and m.capabilities.latent_dim == math.prod(shape)
    assert torch.allclose(m.decode(z), x, atol=1e-4)
    assert torch.allclose(m.reconstruct(x), x, atol=1e-4)
    s = m.sample(2, generator=torch.Generator().manual_seed(0))
    assert s.shape == (2, *shape) and s.abs().max() <= 1


def test_log_likelihood_matches_brute_force_change_of_variables():
    """log p(u) = log N(f(u)) + log|det ∂f/∂u| with the Jacobian of the whole map (logit
    preprocessing + every coupling) computed densely by autograd."""
    m = make((1, 4, 4), perturb=True).double()
    u = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.9 + 0.05

    def f(flat):
        p = 0.05 + 0.9 * flat.reshape(1, 1, 4, 4)
        return m._flow(torch.log(p) - torch.log1p(-p))[0].flatten()

    for i in range(2):
        jac = torch.autograd.functional.jacobian(f, u[i].flatten())
        z = f(u[i].flatten())
        brute = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum() + torch.linalg.slogdet(jac)[1]
        assert m.log_density(u[i:i + 1]).item() == pytest.approx(brute.item(), abs=1e-8)
        assert torch.linalg.slogdet(jac)[0] != 0


def test_bits_per_dim_definition_and_training():
    m = make(perturb=False)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    noise = torch.full_like(x, 0.5)
    bpd = m.bits_per_dim(x, noise)
    u = (m._levels(x) + 0.5) / 256
    assert torch.allclose(bpd, -m.log_density(u) / (784 * math.log(2)) + 8)
    # stripes are easy to model: bits/dim fall fast
    yy = torch.linspace(-1, 1, 28)
    data = torch.sin(yy[None, None, :, None] * torch.arange(1, 9)[:, None, None, None] * 2).expand(8, 1, 28, 28)
    opts = m.configure_optimizers(2e-3)
    first = m.train_step(data, None, opts)
    assert list(first) == ["bits_per_dim"] and math.isfinite(first["bits_per_dim"])
    for _ in range(25):
        last = m.train_step(data, None, opts)
    assert last["bits_per_dim"] < first["bits_per_dim"] - 1.0
    assert set(m.evaluate(data)) == {"bits_per_dim"}


def test_capabilities_and_config():
    m = make()
    caps = m.capabilities
    assert caps.exact_likelihood and caps.encode and caps.decode and caps.sample and caps.reconstruct
    with pytest.raises(ValueError, match="divisible by 8"):
        build_model("realnvp", {"num_scales": 4}, (1, 28, 28))
    bf16 = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    out = m.train_step(torch.rand(4, 1, 28, 28) * 2 - 1, None, m.configure_optimizers(1e-3), bf16)
    assert math.isfinite(out["bits_per_dim"])
