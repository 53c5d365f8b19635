"""The DDPM family: U-Net shapes, training, EMA, saving, sampling loop."""

import dataclasses
import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from studio.models import build_model, get_family
from studio.schedulers import SCHEDULERS
from studio.models.ddpm import DDPM
from studio.models.unet import UNet, resolutions

torch.set_num_threads(1)  # tiny nets: one thread is faster, and much faster on a busy machine

TINY = {"base_channels": 8, "channel_mults": "1,2", "num_train_timesteps": 100,
        "preview_steps": 5, "sample_steps": 5}


def tiny(shape=(1, 28, 28), **over):
    torch.manual_seed(0)
    return build_model("ddpm", {**TINY, **over}, shape)


def batch(n=8, shape=(1, 28, 28), seed=0):
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("shape,sides", [((1, 28, 28), [28, 14, 7]), ((3, 32, 32), [32, 16, 8]),
                                         ((1, 64, 64), [64, 32, 16, 8])])
def test_unet_shapes(shape, sides):
    assert resolutions(shape[1]) == sides
    net = UNet(shape[0], shape[1], base_channels=16, channel_mults="1,2,2", attention=True)
    x = torch.randn(2, *shape)
    assert net(x, torch.tensor([0, 999])).shape == x.shape


def test_registry_and_capabilities():
    assert get_family("ddpm") is DDPM
    caps = DDPM.capabilities
    assert caps.sample and caps.denoise_step and {"ddpm", "ddim"} <= set(caps.samplers)
    assert caps.samplers == tuple(SCHEDULERS)  # every registered scheduler drives the model
    for name, preset in DDPM.presets.items():
        fields = {f.name for f in dataclasses.fields(DDPM.Config)}
        assert set(preset) <= fields | {"steps", "batch_size"}, name
        build_model("ddpm", {k: v for k, v in preset.items() if k in fields}, (1, 28, 28))
    m = build_model("ddpm", {"schedule": "linear", "attention": "off", "num_train_timesteps": "50"},
                    (3, 32, 32))
    assert m.config.attention is False and m.config.num_train_timesteps == 50
    with pytest.raises(ValueError):
        build_model("ddpm", {"schedule": "quadratic"}, (1, 28, 28))


def test_train_step_and_optimizer():
    m = tiny()
    opts = m.configure_optimizers(1e-3)
    optimised = {id(p) for g in opts["model"].param_groups for p in g["params"]}
    assert optimised == {id(p) for p in m.unet.parameters()}
    assert not optimised & {id(p) for p in m.ema.parameters()}
    out = m.train_step(batch(4), None, opts)
    assert list(out) == ["eps_mse"]
    loss = out["eps_mse"]
    assert loss.dim() == 0 and not loss.requires_grad and torch.isfinite(loss)
    # bf16 autocast is accepted and the loss stays float32
    bf16 = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    loss = m.train_step(batch(2), None, opts, bf16)["eps_mse"]
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def fixed_loss(m, x, use_ema=False):
    g = torch.Generator().manual_seed(5)
    t = torch.randint(0, m.num_train_timesteps, (x.shape[0],), generator=g)
    eps = torch.randn(x.shape, generator=g)
    pred = m.predict_noise(m.noise_schedule.add_noise(x, eps, t), t, use_ema=use_ema)
    return torch.mean((pred - eps) ** 2).item()


LEARN = (1, 16, 16)  # the learning tests' images: 2.5x cheaper steps than 28×28 (a U-Net level fewer)


def test_loss_falls_and_ema():
    m = tiny(LEARN)
    x = batch(16, LEARN)
    opts = m.configure_optimizers(2e-3)
    before = fixed_loss(m, x)
    assert before == pytest.approx(1.0, abs=0.1)  # zero-initialised output layer predicts ε = 0
    torch.manual_seed(1)
    for _ in range(60):
        m.train_step(x, None, opts)
    assert fixed_loss(m, x) < 0.6 * before
    assert int(m.ema_updates) == 60
    # EMA weights move but lag behind the live ones
    diff = [(e - p).abs().max().item() for e, p in zip(m.ema.parameters(), m.unet.parameters())]
    assert max(diff) > 1e-4
    assert m.evaluate(x)["eps_mse"] == m.evaluate(x)["eps_mse"]
    # sample() uses the EMA copy: breaking the live weights changes nothing
    noise = m.sample_noise(4, torch.Generator().manual_seed(0))
    ref = m.sample(4, noise=noise, eta=0.0)
    with torch.no_grad():
        for p in m.unet.parameters():
            p.add_(torch.randn_like(p))
    assert torch.equal(m.sample(4, noise=noise, eta=0.0), ref)
    assert not torch.equal(m.sample(4, noise=noise, eta=0.0, use_ema=False), ref)


def test_safetensors_round_trip(tmp_path):
    m = tiny((3, 32, 32))
    opts = m.configure_optimizers(1e-3)
    for _ in range(3):
        m.train_step(batch(4, (3, 32, 32)), None, opts)
    state = m.state_dict()
    assert any(k.startswith("ema.") for k in state) and "ema_updates" in state
    save_file(state, tmp_path / "m.safetensors")
    r = tiny((3, 32, 32))
    r.load_state_dict(load_file(tmp_path / "m.safetensors"))
    noise = m.sample_noise(3, torch.Generator().manual_seed(1))
    for sampler in ("ddim", "ddpm"):
        a = m.sample(3, noise=noise, sampler=sampler, generator=torch.Generator().manual_seed(2))
        b = r.sample(3, noise=noise, sampler=sampler, generator=torch.Generator().manual_seed(2))
        assert torch.equal(a, b)


def test_sample_preview_and_modes():
    m = tiny()
    m.train()
    noise = m.sample_noise(2, torch.Generator().manual_seed(0))
    assert noise.shape == (2, 1, 28, 28)
    out = m.preview(noise, batch(2))
    assert out.shape == (2, 1, 28, 28) and out.abs().max() <= 1 and m.training
    assert torch.equal(m.preview(noise, batch(2)), out)  # previews are reproducible
    # DDIM with η = 0 is deterministic whatever the generator; with η > 0 it is not
    runs = [m.sample(2, noise=noise, sampler="ddim", steps=4, eta=eta,
                     generator=torch.Generator().manual_seed(seed))
            for eta in (0.0, 1.0) for seed in (1, 2)]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[2], runs[3])
    c = m.sample(2, sampler="ddpm", generator=torch.Generator().manual_seed(1))
    assert c.shape == (2, 1, 28, 28)
    assert len(m.make_scheduler("ddpm").timesteps) == 100  # ancestral: all T steps
    with pytest.raises(ValueError):
        m.sample(1, sampler="euler")


@pytest.mark.parametrize("sampler,steps", [("ddpm", None), ("ddim", 100)])
def test_exact_eps_model_samples_gaussian(sampler, steps):
    """End to end through ``DDPM.sample``: with the closed-form optimal ε-predictor of
    x_0 ~ N(m, s²) per pixel, ε*(x_t, t) = √(1−ᾱ_t)(x_t − √ᾱ_t m)/(ᾱ_t s² + 1 − ᾱ_t),
    the sampled pixels have mean m and variance s²."""
    m_, s2 = -0.2, 0.3 ** 2
    m = build_model("ddpm", {**TINY, "num_train_timesteps": 1000, "clip_sample": False,
                             "schedule": "linear"}, (1, 28, 28))
    abar = m.noise_schedule.alphas_cumprod.tolist()

    def exact(x_t, t, use_ema=True):
        a = abar[int(t)]
        return math.sqrt(1 - a) * (x_t - math.sqrt(a) * m_) / (a * s2 + 1 - a)

    m.predict_noise = exact
    x = m.sample(8, sampler=sampler, steps=steps, eta=0.0,
                 generator=torch.Generator().manual_seed(0))
    assert x.mean().item() == pytest.approx(m_, abs=0.02)
    assert x.var().item() == pytest.approx(s2, rel=0.1)


# --- class conditioning with classifier-free guidance, v-prediction -------------------------

def test_unconditional_default_is_unchanged_and_rejects_labels():
    m = tiny()
    assert not m.capabilities.class_conditional and not hasattr(m.unet, "label_emb")
    assert not DDPM.needs_labels(m.config)
    with pytest.raises(ValueError, match="without class_conditional"):
        m.sample(2, labels=torch.tensor([0, 1]))


def test_conditional_needs_labels():
    with pytest.raises(ValueError, match="class_conditional=true is class-conditional and needs a labelled"):
        tiny(class_conditional=True)
    m = build_model("ddpm", {**TINY, "class_conditional": True}, (1, 28, 28), 10)
    assert m.capabilities.class_conditional and DDPM.needs_labels(m.config)
    assert m.unet.label_emb.num_embeddings == 11  # 10 classes + the null label
    with pytest.raises(ValueError, match="labelled batches"):
        m.train_step(batch(2), None, m.configure_optimizers(1e-3))


def test_guidance_zero_is_unconditional_and_mixing_is_linear():
    torch.manual_seed(0)
    m = build_model("ddpm", {**TINY, "class_conditional": True}, (1, 28, 28), 3)
    with torch.no_grad():  # a random label embedding and output layer, so labels matter
        m.ema.label_emb.weight.normal_()
        m.ema.conv_out.weight.normal_(0, 0.1)
    x, t, y = batch(3), torch.tensor([5, 50, 90]), torch.tensor([0, 1, 2])
    uncond = m.predict_noise(x, t)
    null = m.ema(x, t, torch.full((3,), 3)).float()
    assert torch.equal(uncond, null)
    assert torch.allclose(m.predict_noise(x, t, labels=y, guidance_scale=0.0), uncond)
    cond = m.predict_noise(x, t, labels=y, guidance_scale=1.0)
    assert torch.allclose(cond, m.ema(x, t, y).float())
    assert not torch.allclose(cond, uncond)
    guided = m.predict_noise(x, t, labels=y, guidance_scale=3.0)
    assert torch.allclose(guided, uncond + 3.0 * (cond - uncond), atol=1e-5)


def test_conditional_training_and_sampling():
    torch.manual_seed(0)
    m = build_model("ddpm", {**TINY, "class_conditional": True, "label_dropout": 0.5}, LEARN, 2)
    x = torch.cat([-torch.ones(8, *LEARN), torch.ones(8, *LEARN)]) * 0.8
    y = torch.tensor([0] * 8 + [1] * 8)
    opts = m.configure_optimizers(2e-3)
    first = m.train_step(x, y, opts)["eps_mse"].item()
    for _ in range(40):
        last = m.train_step(x, y, opts)["eps_mse"].item()
    assert last < 0.7 * first
    assert set(m.evaluate(x, labels=y)) == {"eps_mse"}
    noise = m.sample_noise(4, torch.Generator().manual_seed(0))
    out = m.sample(4, noise=noise, labels=torch.tensor([0, 0, 1, 1]), steps=5, eta=0.0)
    assert out.shape == (4, *LEARN)
    assert torch.equal(m.sample(4, noise=noise, steps=5, eta=0.0, labels=torch.tensor([0, 1, 0, 1])),
                       m.sample(4, noise=noise, steps=5, eta=0.0))  # None cycles the classes
    assert m.preview(noise, x[:2], labels=y[:2]).shape == (4, *LEARN)


def test_v_prediction_returns_eps():
    """With a net that outputs the exact v for known (x0, ε), predict_noise gives back ε,
    and the training loss is the v-MSE."""
    m = tiny(objective="v")
    x0, eps = batch(4), batch(4, seed=1)
    t = torch.tensor([0, 10, 50, 99])
    x_t = m.noise_schedule.add_noise(x0, eps, t)
    a = m.noise_schedule.alphas_cumprod[t].reshape(-1, 1, 1, 1)
    v = a.sqrt() * eps - (1 - a).sqrt() * x0
    m.ema.forward = lambda x, t_, y=None: v
    assert torch.allclose(m.predict_noise(x_t, t), eps, atol=1e-5)
    m = tiny(LEARN, objective="v")
    opts = m.configure_optimizers(2e-3)
    x = torch.cat([-torch.ones(8, *LEARN), torch.ones(8, *LEARN)]) * 0.8
    assert list(m.train_step(x, None, opts)) == ["v_mse"]
    before = m.evaluate(x)["eps_mse"]  # ε-error of the v-net, comparable across objectives
    for _ in range(40):
        m.train_step(x, None, opts)
    assert m.evaluate(x)["eps_mse"] < 0.7 * before


def test_cli_sample_class_and_guidance(trained_run, tmp_path, capsys):
    from studio.cli import main

    run = trained_run("ddpm", options={"class_conditional": True})  # the tiny runs other tests use
    out = tmp_path / "grid.png"
    assert main(["sample", run, "--n", "4", "--out", str(out), "--class", "3", "--guidance", "2.5",
                 "--sample-steps", "2", "--device", "cpu"]) == 0
    assert out.exists()
    assert main(["sample", run, "--n", "2", "--out", str(out), "--class", "10", "--device", "cpu"]) == 2
    assert "--class must be in 0..9, got 10" in capsys.readouterr().err
    plain = trained_run("ddpm")
    assert main(["sample", plain, "--n", "2", "--out", str(out), "--guidance", "2", "--device", "cpu"]) == 2
    assert "--guidance applies to class-conditional diffusion" in capsys.readouterr().err
    assert main(["sample", plain, "--n", "2", "--out", str(out), "--class", "1", "--device", "cpu"]) == 2
    assert "--class is not taken: this ddpm model is unconditional" in capsys.readouterr().err
