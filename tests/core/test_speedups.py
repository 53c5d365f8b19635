"""Issue 18's speedups: the channels-last rule, ``--compile``'s refusals and ``studio bench speedups``
(its options and its table's structure; nothing here asserts a timing)."""

from __future__ import annotations

import pytest
import torch

from studio.models import build_model
from studio.models.convnets import CHANNELS_LAST, set_channels_last, uses_channels_last

TINY = {"vae": {"width": 8, "latent_dim": 4}, "dcgan": {"width": 8, "z_dim": 8},
        "ddpm": {"base_channels": 8, "channel_mults": "1,2", "attention": True}}


def test_the_layout_rule_is_the_measured_table_at_the_nearest_side():
    assert uses_channels_last("conv", 28) is CHANNELS_LAST["conv", 28]
    assert uses_channels_last("unet", 64) is CHANNELS_LAST["unet", 64]
    assert uses_channels_last("conv", 32) is CHANNELS_LAST["conv", 28]  # nearest measured side
    assert uses_channels_last("unet", 128) is CHANNELS_LAST["unet", 64]
    # as measured (README): channels-last for the conv nets and, since then, the U-Net too
    assert build_model("ddpm", TINY["ddpm"], (1, 64, 64), 0).unet.channels_last is True
    assert build_model("dcgan", TINY["dcgan"], (1, 32, 32), 0).generator.channels_last is True
    with pytest.raises(ValueError, match="no layout rule for network 'mlp'"):
        uses_channels_last("mlp", 28)


@pytest.mark.parametrize("family, side", [("vae", 28), ("dcgan", 64), ("ddpm", 28), ("ddpm", 64)])
def test_built_networks_follow_the_rule_and_the_layout_changes_no_value(family, side):
    torch.manual_seed(0)
    model = build_model(family, TINY[family], (1, side, side), 0)
    network = "unet" if family == "ddpm" else "conv"
    flags = [m.channels_last for m in model.modules() if hasattr(m, "channels_last")]
    assert flags and all(flag is uses_channels_last(network, side) for flag in flags)
    if family == "ddpm":
        torch.nn.init.normal_(model.unet.conv_out.weight)  # zero-initialised: would hide any difference
        net, args = model.unet, (torch.tensor([3, 40]),)
    else:
        net, args = (model.encoder if family == "vae" else model.discriminator), ()
    x = torch.rand(2, 1, side, side) * 2 - 1
    layouts = []
    hook = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, out: layouts.append(out.is_contiguous(memory_format=torch.channels_last) and out.shape[1] > 1)
        if isinstance(m, torch.nn.Conv2d) and out.dim() == 4 else None)
    try:
        outputs, counts = {}, {}
        for on in (True, False):
            layouts.clear()
            set_channels_last(model, on)
            outputs[on] = net(x, *args)
            counts[on] = sum(layouts)
    finally:
        hook.remove()
    # the switch reaches the convolutions (in NCHW, attention's reshape may still hand one a channels-last view)
    assert counts[True] > counts[False] + 1 or counts == {True: 1, False: 0}
    assert outputs[True].abs().max() > 0.1
    torch.testing.assert_close(outputs[True], outputs[False], rtol=1e-4, atol=1e-4)


def test_compile_refuses_wgan_gp_in_one_line_and_writes_nothing(tmp_path, capsys):
    from studio.cli import main

    run = tmp_path / "run"
    assert main(["train", "--family", "wgan-gp", "--compile", "--steps", "1", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --compile cannot train wgan-gp: its gradient penalty takes a double backward")
    assert err.rstrip().endswith("train it without --compile") and err.count("\n") == 1
    assert not run.exists()


def test_compile_refusals_name_only_the_families_that_fail():
    from studio.engine.compiling import COMPILE_REFUSED, compile_refusal
    from studio.models import family_names

    assert set(COMPILE_REFUSED) == {"wgan-gp"}
    assert [f for f in family_names() if compile_refusal(f)] == ["wgan-gp"]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["wgan-gp", "dcgan"])
def test_what_compile_refuses_fails_compiled_and_what_it_allows_trains(family, tiny_options):
    """The refusal list is the truth: wgan-gp's double backward fails compiled, a GAN's two
    optimisers train compiled (TorchInductor compiles for a minute or more here: slow)."""
    from studio.engine.compiling import compile_refusal
    from studio.engine.trainer import compile_networks

    torch.manual_seed(0)
    model = build_model(family, tiny_options[family], (1, 28, 28), 0)
    optimizers = model.configure_optimizers(1e-3)
    compile_networks(model, torch.device("cpu"))
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    if compile_refusal(family):
        with pytest.raises(RuntimeError, match="double backward"):
            model.train_step(x, None, optimizers)
    else:
        losses = [model.train_step(x, None, optimizers) for _ in range(2)]
        assert all(torch.isfinite(v) for step in losses for v in step.values())


@pytest.mark.parametrize("args, message", [
    (["bench", "speedups", "--resolutions", "28,x"], "--resolutions takes image sides of at least 8 px"),
    (["bench", "engine", "--compile"], "--compile does not apply to 'studio bench engine'"),
    (["bench", "engine", "--resolutions", "64"], "--resolutions does not apply to 'studio bench engine'"),
    (["bench", "speedups", "--families", "gan"], "gan"),
])
def test_speedups_options_that_do_not_fit_are_one_line_and_exit_2(args, message, capsys):
    from studio.cli import main

    assert main(args) == 2
    out = capsys.readouterr()
    assert message in out.err and out.err.count("\n") == 1 and out.out == ""


def test_speedups_compares_both_layouts_of_the_shipped_model():
    from studio.bench import speedups
    from studio.data import load_dataset

    torch.set_num_threads(1)
    dataset = load_dataset("fashion-mnist-5k", size=64)
    entry = speedups.compare("vae", dataset, rounds=1, side_s=0.0)
    assert entry["shipped"] == ("channels-last" if uses_channels_last("conv", 28) else "NCHW")
    assert entry["cl_ratio"] == pytest.approx(entry["cl_images_per_s"] / entry["nchw_images_per_s"])
    assert entry["steps_per_round"] == 3 and "compile_ratio" not in entry
