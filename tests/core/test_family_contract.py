"""The contract every family keeps (``studio.models.base.GenerativeModel``), checked once for all
of them at their tiny test size (tests/conftest.py TINY_OPTIONS): shapes and ranges of every
capability, a finite training step in fp32 and under bf16 autocast, a safetensors round trip
that reproduces samples and held-out metrics, and the train/eval mode left as it was by
sample / preview / evaluate / encode / decode. Each family's own tests
(tests/core/test_<family>.py) keep only what is specific to it.

Class-conditional families (those whose ``needs_labels``) are built with ``CLASSES`` classes
and get labels wherever the interface takes them."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from studio.models import build_model, config_from_dict, family_names, get_family

torch.set_num_threads(1)

FAMILIES = family_names()
SHAPES = [(1, 28, 28), (3, 32, 32), (1, 64, 64)]
CLASSES = 4


@pytest.fixture(autouse=True)
def _tiny(tiny_options):
    global TINY
    TINY = tiny_options


def make(family: str, shape=(1, 28, 28), seed: int = 0):
    torch.manual_seed(seed)
    cls, options = get_family(family), TINY.get(family, {})
    classes = CLASSES if cls.needs_labels(config_from_dict(cls.Config, options)) else 0
    return build_model(family, options, shape, classes)


def images(n: int, shape, seed: int = 0) -> torch.Tensor:
    """Blurred noise in [-1, 1]: some structure, every value reachable."""
    x = torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return torch.nn.functional.avg_pool2d(x, 3, 1, 1).clamp(-1, 1)


def labels(model, n: int) -> dict:
    """``labels=`` for a class-conditional model, nothing otherwise."""
    return {"labels": torch.arange(n) % model.num_classes} if model.capabilities.class_conditional else {}


def n_samples(family: str) -> int:
    return 1 if family == "pixelcnn" else 3  # an autoregressive sampler pays H·W passes per call


# PixelCNN at 64 px pays 2 × 4096 sampling passes (12 s): the slow run has it; the fast one keeps
# it at 28 and 32 px (3 channels), and test_pixelcnn checks its cone of dependence is exact
SHAPE_CASES = [pytest.param(family, shape, id=f"{family}-shape{i}",
                            marks=[pytest.mark.slow] if (family, shape[1]) == ("pixelcnn", 64) else [])
               for i, shape in enumerate(SHAPES) for family in FAMILIES]


@pytest.mark.parametrize("family, shape", SHAPE_CASES)
def test_shapes_and_ranges(family, shape):
    model = make(family, shape)
    n = n_samples(family)
    noise = model.sample_noise(n, torch.Generator().manual_seed(0))
    assert noise.shape[0] == n
    assert torch.equal(noise, model.sample_noise(n, torch.Generator().manual_seed(0)))  # the generator decides
    out = model.sample(n, noise=noise, **labels(model, n))
    assert out.shape == (n, *shape) and out.dtype == torch.float32
    assert torch.isfinite(out).all() and out.abs().max() <= 1
    preview = model.preview(noise, images(2, shape), **labels(model, 2))
    assert preview.shape[1:] == shape and 1 <= len(preview) <= n + 2 and preview.abs().max() <= 1
    caps = model.capabilities
    if caps.encode:
        z = model.encode(images(2, shape), **labels(model, 2))
        assert z.shape[0] == 2 and torch.isfinite(z).all()
        if caps.latent_dim:
            assert z.shape == (2, caps.latent_dim)
    if caps.decode:
        assert model.decode(noise, **labels(model, n)).shape == (n, *shape)
    if caps.reconstruct:
        assert model.reconstruct(images(2, shape), **labels(model, 2)).shape == (2, *shape)


def _step(model, shape, autocast=None, steps: int = 1) -> dict:
    optimizers = model.configure_optimizers(model.default_lr)
    x = images(8, shape)
    y = torch.arange(8) % model.num_classes if model.capabilities.class_conditional else None
    for _ in range(steps):
        values = model.train_step(x, y, optimizers, *([autocast] if autocast else []))
    return values


@pytest.mark.parametrize("family", FAMILIES)
def test_train_step_gives_named_finite_scalars(family):
    model = make(family)
    model.train()
    values = _step(model, (1, 28, 28))
    assert values and all(isinstance(k, str) for k in values)
    for name, v in values.items():
        assert v.shape == () and v.dtype == torch.float32 and not v.requires_grad, name
        assert math.isfinite(v), name
    assert model.training  # train_step leaves the mode alone


@pytest.mark.parametrize("family", FAMILIES)
def test_bf16_autocast_step_is_finite(family):
    model = make(family)
    values = _step(model, (1, 28, 28), lambda: torch.autocast("cpu", dtype=torch.bfloat16))
    assert all(math.isfinite(v) for v in values.values())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast, not a cast of the weights


@pytest.mark.parametrize("family", FAMILIES)
def test_safetensors_round_trip_reproduces_the_model(family, tmp_path):
    shape = (3, 32, 32)
    model = make(family, shape)
    _step(model, shape, steps=2)
    save_file(model.state_dict(), tmp_path / "w.safetensors")  # refuses shared or non-contiguous tensors
    fresh = make(family, shape, seed=1)
    fresh.load_state_dict(load_file(tmp_path / "w.safetensors"))
    model.eval(), fresh.eval()
    n = n_samples(family)
    noise = model.sample_noise(n, torch.Generator().manual_seed(1))
    drawn = []
    for m in (model, fresh):
        torch.manual_seed(2)  # any noise a sampler draws itself
        drawn.append(m.sample(n, noise=noise, **labels(m, n)))
    assert torch.equal(*drawn)
    x, evaluated = images(4, shape, seed=3), []
    for m in (model, fresh):
        torch.manual_seed(3)  # a VAE's sampled z, a flow's dequantisation noise
        evaluated.append(m.evaluate(x, **labels(m, 4)))
    assert evaluated[0] == evaluated[1] and evaluated[0]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("family", FAMILIES)
def test_mode_is_restored_after_every_call(family, training):
    model = make(family)
    model.train(training)
    x, caps = images(2, (1, 28, 28)), model.capabilities
    calls = {"sample": lambda: model.sample(1, **labels(model, 1)),
             "preview": lambda: model.preview(model.sample_noise(1), x, **labels(model, 2)),
             "evaluate": lambda: model.evaluate(x, **labels(model, 2))}
    if caps.encode:
        calls["encode"] = lambda: model.encode(x, **labels(model, 2))
    if caps.decode:
        calls["decode"] = lambda: model.decode(model.sample_noise(1), **labels(model, 1))
    if caps.reconstruct:
        calls["reconstruct"] = lambda: model.reconstruct(x, **labels(model, 2))
    if hasattr(model, "likelihood_bounds") and not caps.class_conditional:
        calls["likelihood_bounds"] = lambda: model.likelihood_bounds(x, k=2)
    for name, call in calls.items():
        call()
        changed = [m for m in model.modules() if m.training != training]
        assert not changed, f"{family}.{name} left {type(changed[0]).__name__} in the other mode"
