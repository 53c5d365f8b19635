"""The class-conditional DCGAN: labels reach both players, sampling by class, capabilities,
and a clear error before training on a dataset without labels."""

import math

import pytest
import torch

from studio.engine import TrainJob, TrainSpec
from studio.models import build_model, get_family

torch.set_num_threads(1)
SMALL = {"z_dim": 8, "width": 8}


def make(shape=(1, 28, 28), classes=10, seed=0):
    torch.manual_seed(seed)
    return build_model("cdcgan", SMALL, shape, classes)


def labelled(n=32, shape=(1, 28, 28), classes=10, seed=0):
    """Class k is a flat image of brightness −1 + 2k/(K−1): easy to tell apart."""
    y = torch.arange(n) % classes
    x = (-1 + 2 * y.float() / (classes - 1))[:, None, None, None].expand(n, *shape).clone()
    return x + 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)), y


@pytest.mark.parametrize("shape,classes", [((3, 32, 32), 4)])  # every shape: test_family_contract.py
def test_shapes_and_labels(shape, classes):
    m = make(shape, classes)
    noise = m.sample_noise(6, torch.Generator().manual_seed(0))
    assert noise.shape == (6, 8)
    y = torch.tensor([0, 1, 2, 0, 1, 2]) % classes
    out = m.sample(6, noise=noise, labels=y)
    assert out.shape == (6, *shape) and out.abs().max() <= 1
    assert torch.equal(m.decode(noise, labels=y), out)
    # labels=None cycles 0, 1, …, K−1
    assert torch.equal(m.decode(noise), m.decode(noise, labels=torch.arange(6) % classes))
    # the class changes the image for the same z
    assert not torch.equal(m.decode(noise[:1], labels=torch.tensor([0])),
                           m.decode(noise[:1], labels=torch.tensor([1])))
    assert m.preview(noise, labelled(6, shape, classes)[0], labels=y).shape == (6, *shape)


def test_capabilities_and_bad_labels():
    m = make()
    caps = m.capabilities
    assert caps.class_conditional and caps.decode and caps.sample and not caps.encode
    assert caps.latent_dim == 8 and get_family("cdcgan").needs_labels(m.config)
    with pytest.raises(ValueError, match="labels must lie in 0…9"):
        m.sample(2, labels=torch.tensor([0, 10]))
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        m.sample(3, labels=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="needs a labelled dataset"):
        build_model("cdcgan", SMALL, (1, 28, 28), 0)


def test_one_step_and_discriminator_learns():
    m = make()
    x, y = labelled()
    opts = m.configure_optimizers(1e-3)
    first = m.train_step(x[:16], y[:16], opts)
    assert list(first) == ["d_loss", "g_loss", "d_real", "d_fake"]
    assert all(v.shape == () and math.isfinite(v) for v in first.values())
    history = [m.train_step(x[(i * 16) % 32:][:16], y[(i * 16) % 32:][:16], opts) for i in range(20)]
    assert sum(h["d_loss"].item() for h in history[-5:]) / 5 < first["d_loss"].item() - 0.1
    with pytest.raises(ValueError, match="labelled"):
        m.train_step(x, None, opts)


def test_unlabelled_dataset_fails_before_the_run_folder_exists(tmp_path):
    spec = TrainSpec(family="cdcgan", data="emoji-32", steps=2, batch_size=4, device="cpu",
                     precision="fp32", options=SMALL)
    with pytest.raises(ValueError, match="emoji-32 has no labels: pick a labelled dataset"):
        TrainJob.create(spec, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_trained_run_loads_and_samples_by_class(trained_run):
    from studio.runs import Run, load_model

    model = load_model(Run.open(trained_run("cdcgan", steps=4)))
    assert model.num_classes == 10 and model.sample(3, labels=torch.tensor([7, 8, 9])).shape == (3, 1, 28, 28)


def test_cli_sample_one_class(trained_run, tmp_path):
    from studio.cli import main

    out = tmp_path / "sevens.png"
    assert main(["sample", trained_run("cdcgan", steps=4), "--n", "4", "--out", str(out), "--class", "7",
                 "--device", "cpu"]) == 0
    assert out.exists()
