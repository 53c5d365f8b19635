"""studio edit | inpaint | encode | denoise: outputs, and one-line errors with exit 2 and nothing written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.cli import main


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    """A non-square RGB picture with transparency, as a user would bring."""
    a = np.zeros((40, 60, 4), np.uint8)
    a[5:35, 20:40] = (200, 120, 40, 255)
    path = tmp_path_factory.mktemp("pictures") / "mine.png"
    Image.fromarray(a, "RGBA").save(path)
    return path


def _written(folder):
    return sorted(p.name for p in folder.iterdir())


def test_edit_writes_the_model_resolution_and_a_magnified_copy(trained_run, picture, tmp_path, capsys):
    run = trained_run("ddpm")
    out = tmp_path / "edited.png"
    assert main(["edit", run, "--image", str(picture), "--strength", "0.5", "--sample-steps", "10",
                 "--out", str(out), "--scale", "4", "--fit", "pad"]) == 0
    assert Image.open(out).size == (28, 28) and Image.open(tmp_path / "edited-x4.png").size == (112, 112)
    assert "SDEdit at strength 0.5: 5 of 10 steps" in capsys.readouterr().out
    assert main(["edit", run, "--image", str(picture), "--strength", "0", "--n", "3",
                 "--out", str(tmp_path / "same.png"), "--scale", "1"]) == 0
    grid = np.asarray(Image.open(tmp_path / "same.png"))
    assert grid.shape == (62, 62)  # 3 pictures as a 2 × 2 grid of 28 px with 2 px gaps
    assert not (tmp_path / "same-x1.png").exists()


def test_inpaint_keeps_the_unmasked_half(trained_run, picture, tmp_path, capsys):
    run = trained_run("ddpm")
    out = tmp_path / "filled.png"
    assert main(["inpaint", run, "--image", str(picture), "--mask", "right", "--sample-steps", "10",
                 "--jump-length", "2", "--resample", "2", "--out", str(out)]) == 0
    assert "regenerated 50% of the picture" in capsys.readouterr().out
    assert main(["edit", run, "--image", str(picture), "--strength", "0", "--out", str(tmp_path / "input.png")]) == 0
    filled, original = np.asarray(Image.open(out)).astype(int), np.asarray(Image.open(tmp_path / "input.png")).astype(int)
    assert np.abs(filled[:, :14] - original[:, :14]).max() <= 1  # the kept half, within quantisation
    assert np.abs(filled[:, 14:] - original[:, 14:]).mean() > 5


def test_encode_prints_and_writes_the_latent(trained_run, picture, tmp_path, capsys):
    run = trained_run("vae")
    z_path = tmp_path / "z.npy"
    assert main(["encode", run, "--image", str(picture), "--out", str(z_path),
                 "--reconstruction", str(tmp_path / "back.png")]) == 0
    text = capsys.readouterr().out
    z = np.load(z_path, allow_pickle=False)
    assert z.shape == (4,) and z.dtype == np.float32
    assert "latent of 4 values" in text and "PSNR" in text and f"{z[0]:.4f}"[:5] in text
    assert Image.open(tmp_path / "back.png").size == (28, 28)
    gan = trained_run("dcgan")
    assert main(["encode", gan, "--image", str(picture), "--steps", "5", "--out", str(tmp_path / "g.npy")]) == 0
    assert "inverted by optimising z (5 Adam steps)" in capsys.readouterr().out
    assert np.load(tmp_path / "g.npy").shape == (8,)


def test_denoise_writes_the_cleaned_and_the_noisy_picture(trained_run, picture, tmp_path, capsys):
    run = trained_run("autoencoder")
    assert main(["denoise", run, "--image", str(picture), "--sigma", "0.3", "--out", str(tmp_path / "clean.png")]) == 0
    assert _written(tmp_path) == ["clean-noisy-x8.png", "clean-noisy.png", "clean-x8.png", "clean.png"]
    text = capsys.readouterr().out
    assert "not trained for denoising" in text and "dB noisy →" in text


@pytest.mark.parametrize("command,extra,message", [
    ("edit", ["--strength", "1.5"], "error: --strength must be in [0, 1]"),
    ("edit", ["--strength", "nan"], "error: --strength must be in [0, 1]"),
    ("edit", ["--image", "MISSING"], "error: --image {tmp}/missing.png does not exist"),
    ("edit", ["--image", "TEXT"], "error: --image {tmp}/notes.png: not a readable image"),
    ("edit", ["--class", "2"], "error: --class applies to class-conditional models"),
    ("edit", ["--guidance", "2"], "error: --guidance goes with --class"),
    ("edit", ["--sample-steps", "1"], "error: --sample-steps must be in 2..50"),
    ("edit", ["--n", "99"], "error: --n must be 1..16 images"),
    ("edit", ["--out", "OUT.jpg"], "error: --out {tmp}/out/out.jpg must end in .png"),
    ("edit", ["--out", "NOFOLDER"], "does not exist"),
    ("edit", ["--scale", "0"], "error: --scale must be in 1..64"),
    ("inpaint", ["--mask", "nowhere"], "error: --mask nowhere is neither an image file nor one of left"),
    ("inpaint", ["--mask", "right", "--resample", "0"], "error: --resample must be in 1..100"),
    ("inpaint", ["--mask", "right", "--jump-length", "0"], "error: --jump-length must be in 1.."),
    ("inpaint", ["--mask", "EMPTYMASK"], "error: --mask is empty"),
])
def test_bad_edit_input_is_one_line_exit_2_and_nothing_written(trained_run, picture, tmp_path, capsys, command,
                                                               extra, message):
    (tmp_path / "notes.png").write_text("not a picture")
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "black.png")
    out = tmp_path / "out"
    out.mkdir()
    names = {"MISSING": str(tmp_path / "missing.png"), "TEXT": str(tmp_path / "notes.png"),
             "OUT.jpg": str(out / "out.jpg"), "NOFOLDER": str(tmp_path / "no" / "out.png"),
             "EMPTYMASK": str(tmp_path / "black.png")}
    args = [command, trained_run("ddpm"), "--image", str(picture), "--out", str(out / "out.png")]
    extra = [names.get(a, a) for a in extra]
    for flag, value in zip(extra[::2], extra[1::2]):  # a given flag replaces the default one
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    if command == "inpaint" and "--mask" not in args:
        args += ["--mask", "right"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message.format(tmp=tmp_path) in err and "\n" not in err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command,family,extra,message", [
    ("edit", "autoencoder", ["--out", "o.png"], "error: the run (autoencoder) has no denoising steps"),
    ("inpaint", "vae", ["--mask", "left", "--out", "o.png"], "error: the run (vae) has no denoising steps"),
    ("denoise", "ddpm", ["--sigma", "0.3", "--out", "o.png"], "error: the run (ddpm) cannot denoise"),
    ("denoise", "realnvp", ["--sigma", "0.3", "--out", "o.png"], "error: the run (realnvp) cannot denoise"),
    ("denoise", "autoencoder", ["--sigma", "-1", "--out", "o.png"], "error: --sigma must be in [0, 2]"),
    ("encode", "ddpm", [], "error: the run (ddpm) cannot be inverted by optimising z"),
    ("encode", "cvae", [], "error: --class is needed: a cvae encodes a picture given its class (0..9)"),
    ("encode", "vae", ["--out", "z.txt"], "error: --out z.txt must end in .npy"),
    ("encode", "dcgan", ["--steps", "0"], "error: --steps must be in 1..100000"),
])
def test_wrong_family_and_bad_options_are_refused(trained_run, picture, tmp_path, capsys, monkeypatch, command,
                                                  family, extra, message):
    monkeypatch.chdir(tmp_path)
    assert main([command, trained_run(family), "--image", str(picture), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_missing_run_is_one_line(picture, tmp_path, capsys):
    assert main(["edit", str(tmp_path / "nope"), "--image", str(picture), "--out", str(tmp_path / "o.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
