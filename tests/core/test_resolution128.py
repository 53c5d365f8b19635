"""128×128 px: every family builds, trains a step and samples at 128 px (tiny widths), the nets
gain a stage over 64 px, a folder at 128 px trains, and a CPU user is told it will be slow."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from studio.models import build_model, config_from_dict, family_names, get_family
from studio.models.base import no_autocast

torch.set_num_threads(1)

SHAPE = (3, 128, 128)
CLASSES = 3


def tiny(family: str, tiny_options, shape=SHAPE):
    torch.manual_seed(0)
    cls, options = get_family(family), tiny_options.get(family, {})
    classes = CLASSES if cls.needs_labels(config_from_dict(cls.Config, options)) else 0
    return build_model(family, options, shape, classes)


def labels(model, n: int) -> dict:
    return {"labels": torch.arange(n) % model.num_classes} if model.capabilities.class_conditional else {}


@pytest.mark.parametrize("family", family_names())
def test_every_family_trains_a_step_and_samples_at_128_px(family, tiny_options):
    model = tiny(family, tiny_options)
    x = torch.rand(2, *SHAPE, generator=torch.Generator().manual_seed(1)) * 2 - 1
    y = torch.arange(2) % CLASSES if model.num_classes else None
    values = model.train_step(x, y, model.configure_optimizers(1e-3), no_autocast)
    assert values and all(torch.isfinite(torch.as_tensor(v)) for v in values.values())
    if family == "pixelcnn":  # an autoregressive sampler pays 128·128 passes: the slow test below
        return
    out = model.sample(2, **labels(model, 2))
    assert out.shape == (2, *SHAPE) and torch.isfinite(out).all() and out.abs().max() <= 1


@pytest.mark.slow
def test_pixelcnn_samples_at_128_px(tiny_options):
    model = tiny("pixelcnn", tiny_options, (1, 128, 128))
    out = model.sample(1, **labels(model, 1))
    assert out.shape == (1, 1, 128, 128) and torch.isfinite(out).all()


def test_nets_gain_a_stage_per_doubling():
    from studio.models.convnets import grid_sizes
    from studio.models.unet import resolutions

    assert grid_sizes(128) == [128, 64, 32, 16, 8] and len(grid_sizes(128)) == len(grid_sizes(64)) + 1
    assert resolutions(128) == [128, 64, 32, 16, 8] and len(resolutions(128)) == len(resolutions(64)) + 1


def test_a_folder_trains_at_128_px_and_the_cpu_user_is_warned(tmp_path):
    from PIL import Image

    from studio.engine import TrainJob, TrainSpec
    from studio.engine.reporting import Reporter

    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (150, 170, 3), dtype=np.uint8)).save(folder / f"{i}.png")

    class Said(Reporter):
        lines: list[str] = []

        def status(self, message: str) -> None:
            self.lines.append(message)

    spec = TrainSpec(family="autoencoder", data=f"folder:{folder}", steps=2, batch_size=2, device="cpu",
                     precision="fp32", checkpoint_every=2, preview_every=0, options={"width": 8, "latent_dim": 4},
                     data_options={"resolution": 128})
    job = TrainJob.create(spec, tmp_path / "run", reporter=Said())
    job.threads = 1
    assert job.run() == "finished"
    assert job.run_folder.meta["image_shape"] == [3, 128, 128]
    assert any(line.startswith("128×128 px on the CPU is slow") for line in Said.lines)


def test_resolution_note_only_for_large_pictures_on_the_cpu():
    from studio.engine.trainer import resolution_note

    assert "slow" in resolution_note(128, "cpu") and "--device cuda" in resolution_note(128, "cpu")
    assert resolution_note(64, "cpu") is None and resolution_note(32, "cpu") is None
    if not torch.cuda.is_available():
        assert resolution_note(128, "cuda") is None  # not available here: the spec's check says so, not this


# --- torch.compile (issue 18's "bigger pictures" item: --compile, off by default) --------------
def test_compile_is_skipped_with_a_reason_where_it_cannot_work(monkeypatch):
    import shutil

    from studio.engine.trainer import compile_networks

    model = build_model("autoencoder", {"width": 8, "latent_dim": 4}, (1, 28, 28), 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert compile_networks(model, torch.device("cpu")).startswith("--compile: no C++ compiler found")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert "not available in the app bundle" in compile_networks(model, torch.device("cpu"))
    assert not any(type(m).__name__ == "OptimizedModule" or getattr(m, "_compiled_call_impl", None)
                   for m in model.children())  # left uncompiled


@pytest.mark.slow
def test_a_compiled_run_trains_and_saves_the_usual_weights(tmp_path):
    """TorchInductor compiles for minutes on a busy 2-core CPU: slow."""
    from safetensors.torch import load_file

    from studio.engine import TrainJob, TrainSpec
    from studio.engine.reporting import Reporter

    spec = TrainSpec(family="autoencoder", data="fashion-mnist-5k", steps=3, batch_size=8, device="cpu",
                     precision="fp32", checkpoint_every=3, preview_every=0, options={"width": 8, "latent_dim": 4},
                     data_options={"size": 64})
    said = []

    class Said(Reporter):
        def status(self, message: str) -> None:
            said.append(message)

    job = TrainJob.create(spec, tmp_path / "run", reporter=Said())
    job.threads, job.compile = 1, True
    assert job.run() == "finished"
    assert "compiling encoder, decoder with torch.compile (the first steps take longer)" in said
    keys = set(load_file(tmp_path / "run" / "checkpoints" / "step-0000003.safetensors"))
    fresh = build_model("autoencoder", {"width": 8, "latent_dim": 4}, (1, 28, 28), 0)
    assert keys == set(fresh.state_dict()) and not any("_orig_mod" in k for k in keys)  # resumable as ever
