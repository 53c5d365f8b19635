"""Gated PixelCNN: causality by gradients, exact NLL, pixel-by-pixel sampling, training."""

import math

import pytest
import torch

from studio.models import build_model

torch.set_num_threads(1)
SMALL = {"hidden": 8, "layers": 4, "kernel": 3, "preview_images": 2}


def make(shape=(1, 8, 8), seed=0, **over):
    torch.manual_seed(seed)
    return build_model("pixelcnn", {**SMALL, **over}, shape)


CONDITIONED = {"class_conditional": True}
PLAIN = {"class_conditional": False, "positional": False}


@pytest.mark.parametrize("shape,options", [((1, 8, 8), PLAIN), ((3, 6, 7), {}), ((1, 8, 8), CONDITIONED)])
def test_pixel_depends_only_on_earlier_pixels(shape, options):
    """∂ logits(x_i) / ∂ x_k = 0 for every pixel k ≥ i in raster order (all channels), and
    ≠ 0 for the pixel to the left and the one above-right (no blind spot); the class and
    location terms (§2.3) change nothing about that."""
    torch.manual_seed(0)
    m = build_model("pixelcnn", {**SMALL, **options}, shape, num_classes=3).double()
    labels = torch.tensor([2]) if m.capabilities.class_conditional else None
    c, height, width = shape
    for i, j in [(0, 0), (2, 3), (3, 0), (height - 1, width - 1), (4, width - 1)]:
        x = torch.randn(1, *shape, dtype=torch.float64, requires_grad=True)
        m.logits(x, labels)[0, :, :, i, j].sum().backward()
        g = x.grad[0].abs().sum(0)  # (H, W)
        order = torch.arange(height * width).reshape(height, width)
        assert g[order >= i * width + j].max() == 0, (i, j)
        if j > 0:
            assert g[i, j - 1] > 0
        if i > 0 and j + 1 < width:
            assert g[i - 1, j + 1] > 0  # the gated PixelCNN has no blind spot here


def test_bits_per_dim_is_the_exact_nll():
    m = make()
    x = torch.randint(0, 256, (3, 1, 8, 8)).float() * 2 / 255 - 1
    logp = torch.log_softmax(m.logits(x).double(), dim=2)
    target = ((x + 1) * 127.5).round().long()
    exact = -logp.gather(2, target.unsqueeze(2)).sum((1, 2, 3, 4)) / (64 * math.log(2))
    assert torch.allclose(m.bits_per_dim(x).double(), exact, rtol=1e-5)
    assert m.bits_per_dim(x).mean().item() == pytest.approx(8.0, abs=0.2)  # untrained ≈ uniform


def test_training_lowers_nll_and_capabilities():
    m = make((1, 12, 12))
    caps = m.capabilities
    assert caps.exact_likelihood and caps.sample and not caps.encode and not caps.class_conditional
    yy = torch.arange(12).float()
    x = torch.where((yy[:, None] + yy[None]) % 4 < 2, 0.8, -0.8).expand(16, 1, 12, 12)
    opts = m.configure_optimizers(5e-3)
    first = m.train_step(x, None, opts)
    assert list(first) == ["bits_per_dim"] and math.isfinite(first["bits_per_dim"])
    for _ in range(30):
        last = m.train_step(x, None, opts)
    assert last["bits_per_dim"] < 0.5 * first["bits_per_dim"]
    assert m.evaluate(x)["bits_per_dim"] < 0.5 * first["bits_per_dim"]
    with pytest.raises(ValueError, match="must be odd"):
        build_model("pixelcnn", {"kernel": 4}, (1, 28, 28))


def test_sample_pixels_reports_every_pixel():
    m = make((3, 4, 5))
    noise = m.sample_noise(2, torch.Generator().manual_seed(0))
    steps = [(i, j, x.clone()) for i, j, x in m.sample_pixels(2, noise=noise)]
    assert [(i, j) for i, j, _ in steps] == [(i, j) for i in range(4) for j in range(5)]
    for k, (i, j, x) in enumerate(steps):
        drawn = torch.zeros(4, 5, dtype=torch.bool).flatten()
        drawn[:k + 1] = True
        assert torch.all(x[:, :, ~drawn.reshape(4, 5)] == 0)  # later pixels not drawn yet
        if k:
            assert torch.equal(x[:, :, drawn.reshape(4, 5)][..., :k], steps[k - 1][2][:, :, drawn.reshape(4, 5)][..., :k])
    final = m.sample(2, noise=noise)
    assert torch.equal(final, steps[-1][2]) and final.shape == (2, 3, 4, 5) and final.abs().max() <= 1
    assert m.preview(noise, final).shape == (2, 3, 4, 5)


def test_sampling_follows_a_trained_distribution():
    """A model trained on all-bright images samples bright images."""
    m = make((1, 4, 4))
    x = torch.full((16, 1, 4, 4), 0.6)
    opts = m.configure_optimizers(1e-2)
    for _ in range(60):
        m.train_step(x, None, opts)
    s = m.sample(8, generator=torch.Generator().manual_seed(0))
    assert (s - 0.6).abs().mean() < 0.1


@pytest.mark.parametrize("family", ["pixelcnn", "realnvp", "wgan-gp"])
def test_tiny_run_through_the_engine(trained_run, family):
    from studio.runs import Run, load_model

    run = Run.open(trained_run(family, steps=3))
    model = load_model(run)
    first = next(model.sample_pixels(1))[2] if family == "pixelcnn" else model.sample(1)  # (full: 784 passes)
    assert first.shape == (1, 1, 28, 28) and len(list(run.samples_dir.glob("*.png"))) == 1
    assert run.meta["evaluation"]  # held-out bits/dim or Wasserstein estimate


@pytest.mark.parametrize("layers,kernel,options", [(2, 3, PLAIN), (4, 5, {}), (3, 3, CONDITIONED)])
def test_pixel_logits_equal_the_whole_image_logits(layers, kernel, options):
    """Sampling computes one pixel's cone of dependence only; that is exact for every pixel,
    near the top edge, the left and right edges and far down the image alike."""
    torch.manual_seed(0)
    m = build_model("pixelcnn", {**SMALL, "layers": layers, "kernel": kernel, **options}, (2, 16, 6), num_classes=3)
    x = torch.randn(2, 2, 16, 6)
    labels = torch.tensor([0, 2]) if m.capabilities.class_conditional else None
    full = m.logits(x, labels)
    for i in range(16):
        for j in range(6):
            assert torch.allclose(m.pixel_logits(x, i, j, labels), full[:, :, :, i, j], atol=1e-5), (i, j)
    # the receptive field is exactly receptive_rows high: the row above it changes nothing,
    # the row at its edge does
    far, edge = x.clone(), x.clone()
    far[:, :, 15 - m.receptive_rows - 1] += 1
    edge[:, :, 15 - m.receptive_rows] += 1
    assert torch.allclose(m.logits(far, labels)[..., 15, 5], full[..., 15, 5], atol=1e-6)
    assert not torch.allclose(m.logits(edge, labels)[..., 15, 5], full[..., 15, 5], atol=1e-6)


def test_class_conditional_model_draws_the_chosen_class():
    """Class 0 is bright, class 1 dark: p(x | y) learns each, and sampling follows the label."""
    torch.manual_seed(0)
    m = build_model("pixelcnn", {**SMALL, "class_conditional": True}, (1, 4, 4), num_classes=2)
    assert m.capabilities.class_conditional and type(m).needs_labels(m.config)
    y = torch.arange(16) % 2
    x = torch.where(y == 0, 0.6, -0.6)[:, None, None, None].expand(16, 1, 4, 4)
    opts = m.configure_optimizers(1e-2)
    first = m.train_step(x, y, opts)["bits_per_dim"]
    for _ in range(60):
        m.train_step(x, y, opts)
    assert m.evaluate(x, labels=y)["bits_per_dim"] < 0.3 * first
    s = m.sample(8, generator=torch.Generator().manual_seed(0), labels=torch.tensor([0, 1] * 4))
    assert (s[0::2] - 0.6).abs().mean() < 0.1 and (s[1::2] + 0.6).abs().mean() < 0.1
    cycled = m.sample(2, generator=torch.Generator().manual_seed(0))  # no labels: classes 0, 1
    assert cycled[0].mean() > 0 > cycled[1].mean()
    with pytest.raises(ValueError, match="labels"):
        m.train_step(x, None, opts)


def test_class_conditioning_is_on_when_the_data_has_labels_unless_switched_off():
    def conditional(setting, num_classes):
        return build_model("pixelcnn", {**SMALL, "class_conditional": setting}, (1, 4, 4),
                           num_classes=num_classes).capabilities.class_conditional

    assert conditional("auto", 10) and not conditional("auto", 0) and not conditional("false", 10)
    with pytest.raises(ValueError, match="labelled dataset"):
        build_model("pixelcnn", {**SMALL, "class_conditional": True}, (1, 4, 4), num_classes=0)
    with pytest.raises(ValueError, match="takes no labels"):
        make((1, 4, 4)).sample(2, labels=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="class_conditional='maybe' is not one of auto, true, false"):
        build_model("pixelcnn", {"class_conditional": "maybe"}, (1, 4, 4))
