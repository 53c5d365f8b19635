"""The CLI end to end, and its error paths (one line on stderr, exit 2, nothing written)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from studio.cli import main


def run_cli(*args):
    """The real console entry point in a subprocess: exit code, stdout, stderr."""
    out = subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True,
                         timeout=300)
    return out.returncode, out.stdout, out.stderr


def test_train_sample_resume_runs(tmp_path, capsys):
    """train through the real console entry point (a subprocess: the run records its command
    line), then sample, resume and list in this process (torch is loaded once)."""
    run = tmp_path / "runs" / "vae1"
    code, out, err = run_cli("train", "--family", "vae", "--data", "fashion-mnist-5k", "--steps", "12",
                             "--batch-size", "16", "--seed", "0", "--device", "cpu", "--precision", "fp32",
                             "--set", "width=8", "--set", "latent_dim=4", "--run-dir", run)  # tiny: the CLI path
    assert code == 0, err
    assert "finished" in out and str(run) in out
    meta = json.loads((run / "run.json").read_text())
    assert meta["family"] == "vae" and meta["step"] == 12 and meta["status"] == "finished"
    assert meta["command"][:2] == ["studio", "train"]

    assert main(["sample", str(run), "--n", "9", "--out", str(tmp_path / "grid.png"), "--scale", "1"]) == 0
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape[:2] == (3 * 28 + 4 * 2, 3 * 28 + 4 * 2)

    assert main(["resume", str(run), "--steps", "3"]) == 0
    assert json.loads((run / "run.json").read_text())["step"] == 15

    capsys.readouterr()
    assert main(["runs", "--root", str(tmp_path / "runs")]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()
    assert header.split()[:5] == ["NAME", "FAMILY", "DATA", "STEPS", "STATUS"]
    assert row.split()[:5] == ["vae1", "vae", "fashion-mnist-5k", "15", "finished"]


def test_sampler_options_reach_diffusion_models(tmp_path):
    run = tmp_path / "d"
    assert main(["train", "--family", "ddpm", "--steps", "2", "--batch-size", "4", "--device", "cpu",
                 "--precision", "fp32", "--run-dir", str(run), "--preview-every", "0",
                 "--set", "base_channels=8", "--set", "channel_mults=1,2", "--set", "attention=false",
                 "--set", "num_train_timesteps=50", "--set", "sample_steps=10", "--set", "preview_steps=2"]) == 0
    assert main(["sample", str(run), "--n", "2", "--out", str(tmp_path / "d.png"), "--sampler", "ddim",
                 "--sample-steps", "3"]) == 0
    assert Image.open(tmp_path / "d.png").size[0] > 0


@pytest.mark.parametrize("args, message", [
    (["train", "--family", "nope"], "unknown family"),
    (["train", "--family", "vae", "--data", "no-such-data"], "no-such-data"),
    (["train", "--family", "vae", "--lr", "-0.1"], "--lr must be a number in (0, 1] (you typed -0.1)"),
    (["train", "--family", "vae", "--lr", "1e-400"], "--lr must be a number in (0, 1] (you typed 1e-400, which reads as 0)"),
    (["train", "--family", "vae", "--lr", "fast"], "--lr must be a number in (0, 1] (you typed fast)"),
    (["train", "--family", "vae", "--batch-size", "0"], "--batch-size"),
    (["train", "--family", "vae", "--steps", "ten"], "invalid int"),
    (["train", "--family", "vae", "--set", "latent_dim=-3"], "latent_dim"),
    (["train", "--family", "vae", "--device", "tpu"], "invalid choice"),
    (["resume", "RUN/missing", "--steps", "5"], "does not exist"),
    (["sample", "RUN/missing", "--out", "x.png"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, args, message):
    run_dir = tmp_path / "out"
    args = [a.replace("RUN", str(tmp_path)) for a in args]
    if args[0] == "train":
        args += ["--run-dir", str(run_dir)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not run_dir.exists()


def test_folder_without_images_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no pictures here")
    assert main(["train", "--family", "vae", "--data", f"folder:{tmp_path / 'empty'}",
                 "--run-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "empty" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_sampler_flags_on_a_non_diffusion_run_are_refused(tmp_path, capsys):
    run = tmp_path / "ae"
    assert main(["train", "--family", "autoencoder", "--steps", "1", "--batch-size", "4", "--device", "cpu",
                 "--run-dir", str(run), "--preview-every", "0"]) == 0
    capsys.readouterr()
    assert main(["sample", str(run), "--out", str(tmp_path / "x.png"), "--sampler", "ddim"]) == 2
    assert "diffusion" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_help_lists_the_contract_options(capsys):
    with pytest.raises(SystemExit) as done:  # argparse's --help exits 0
        main(["train", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in ("--family", "--data", "--steps", "--batch-size", "--lr", "--seed", "--device",
                   "--precision", "--run-dir"):
        assert option in out


def test_ctrl_c_stops_with_a_checkpoint(tmp_path):
    import signal
    import time

    run = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, "-m", "studio", "train", "--family", "autoencoder", "--steps", "100000",
                             "--batch-size", "8", "--device", "cpu", "--run-dir", str(run)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "metrics.jsonl").exists():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "stopped" and 0 < meta["step"] < 100000
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["step"] == meta["step"]


def test_eval_checks_sample_steps_with_the_sampling_rule(trained_run, capsys):
    """studio eval takes --sample-steps under the same rule as studio sample and the window
    (it used to crash with a traceback on 1 or on more than T)."""
    from studio import cli

    run = trained_run("ddpm")
    for steps in ("1", "51"):
        assert cli.main(["eval", run, "--sample-steps", steps, "--n", "10"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--sample-steps must be in 2..50" in err
