"""The conditional VAE: labels in encode/decode/sample, the conditional ELBO falls,
capabilities, test metrics with labels through the engine."""

import json
import math

import pytest
import torch

from studio.models import build_model

torch.set_num_threads(1)
SMALL = {"latent_dim": 4, "width": 8}


def make(shape=(1, 28, 28), classes=10, seed=0):
    torch.manual_seed(seed)
    return build_model("cvae", SMALL, shape, classes)


def labelled(n=32, shape=(1, 28, 28), classes=10, seed=0):
    """Class k: a bright square at a class-specific place on a dark background."""
    y = torch.arange(n) % classes
    x = -torch.ones(n, *shape)
    for i, k in enumerate(y.tolist()):
        r, c = 4 + 4 * (k % 3), 4 + 4 * (k // 3 % 4)
        x[i, :, r:r + 6, c:c + 6] = 1
    return x + 0.02 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)), y


@pytest.mark.parametrize("shape,classes", [((3, 32, 32), 4)])  # every shape: test_family_contract.py
def test_shapes(shape, classes):
    m = make(shape, classes)
    x, y = labelled(6, shape, classes)
    z = m.encode(x, labels=y)
    assert z.shape == (6, 4)
    assert m.decode(z, labels=y).shape == (6, *shape)
    assert m.reconstruct(x, labels=y).shape == (6, *shape)
    noise = m.sample_noise(5, torch.Generator().manual_seed(0))
    out = m.sample(5, noise=noise)
    assert out.shape == (5, *shape) and out.abs().max() <= 1
    assert torch.equal(out, m.decode(noise, labels=torch.arange(5) % classes))  # None cycles classes
    assert m.preview(noise, x, labels=y).shape == (11, *shape)


def test_capabilities_and_label_errors():
    m = make()
    caps = m.capabilities
    assert caps.class_conditional and caps.encode and caps.decode and caps.reconstruct
    assert caps.latent_dim == 4
    x, y = labelled(4)
    with pytest.raises(ValueError, match=r"cvae.encode needs labels="):
        m.encode(x)
    with pytest.raises(ValueError, match="labels must lie"):
        m.decode(torch.zeros(1, 4), labels=torch.tensor([10]))
    with pytest.raises(ValueError, match="needs a labelled dataset"):
        build_model("cvae", SMALL, (1, 28, 28), 0)
    # the class is an input: the same z decodes differently per class
    z = torch.zeros(2, 4)
    assert not torch.equal(*m.decode(z, labels=torch.tensor([0, 1])))


def test_one_step_and_elbo_falls():
    m = make()
    x, y = labelled(32)
    opts = m.configure_optimizers(2e-3)
    out = m.train_step(x[:16], y[:16], opts)
    assert list(out) == ["loss", "recon", "kl"] and all(math.isfinite(v) for v in out.values())
    torch.manual_seed(0)
    before = m.evaluate(x, labels=y)["neg_elbo_nats"]
    for i in range(40):
        m.train_step(x[(i * 16) % 32:][:16], y[(i * 16) % 32:][:16], opts)
    torch.manual_seed(0)
    assert m.evaluate(x, labels=y)["neg_elbo_nats"] < 0.7 * before
    assert m.evaluate(x) == {}


def test_engine_passes_test_labels(trained_run):
    from studio.runs import Run, load_model

    run = Run.open(trained_run("cvae", steps=4))
    assert run.meta["evaluation"]["neg_elbo_nats"] > 0
    model = load_model(run)
    x = torch.zeros(3, 1, 28, 28)
    assert model.reconstruct(x, labels=torch.tensor([0, 5, 9])).shape == (3, 1, 28, 28)
    lines = [json.loads(s) for s in (run.path / "metrics.jsonl").read_text().splitlines()]
    assert any("test/neg_elbo_nats" in line for line in lines)
