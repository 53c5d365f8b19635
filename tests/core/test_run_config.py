"""Run configs (studio.specs.config_of / read_config): `studio train --print-config` prints what
`studio train --config FILE` trains exactly; a bad file is one line naming it and the field
(exit 2, nothing written)."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.runs import Run
from studio.specs import CONFIG_FORMAT, TrainSpec, config_of, read_config

TINY = ["--family", "vae", "--steps", "3", "--batch-size", "8", "--set", "width=8", "--set", "latent_dim=4",
        "--device", "cpu", "--precision", "fp32", "--threads", "1", "--preview-every", "0"]


def test_print_config_then_train_exactly_that(tmp_path, capsys):
    assert main(["train", *TINY, "--print-config"]) == 0
    printed = capsys.readouterr().out
    config = json.loads(printed)
    assert config["format"] == CONFIG_FORMAT and config["spec"]["lr"] == 2e-3  # the family's default, written out
    assert config["spec"]["options"]["beta"] == 1.0 and not (tmp_path / "runs").exists()  # nothing written
    path = tmp_path / "run.json"
    path.write_text(printed)
    assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "a"), "--threads", "1"]) == 0
    run = Run.open(tmp_path / "a")
    assert run.meta["spec"] == config["spec"] and run.step == 3
    # flags given too override it; a run's own run.json is a config as well
    assert main(["train", "--config", str(tmp_path / "a" / "run.json"), "--steps", "2", "--set", "beta=0.5",
                 "--run-dir", str(tmp_path / "b"), "--threads", "1"]) == 0
    spec = Run.open(tmp_path / "b").spec()
    assert (spec.steps, spec.options["beta"], spec.options["width"], spec.lr) == (2, 0.5, 8, 2e-3)


def test_a_config_reads_back_as_the_same_run(tmp_path):
    spec = TrainSpec("ddpm", steps=7, options={"base_channels": 8}, preset="quick", seed=3)
    (tmp_path / "c.json").write_text(json.dumps(config_of(spec)))
    assert config_of(read_config(tmp_path / "c.json")) == config_of(spec)
    assert read_config(tmp_path / "c.json").steps == 7


BAD = [
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"family": "vae", "lr": 5}}, "spec: 'lr' must lie in 0…1"),
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"family": "vae", "lr": "fast"}}, "'lr' must be a finite"),
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"family": "vae", "turbo": True}}, "unknown field 'turbo'"),
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"family": "vae", "options": {"width": 3}}},
     "width=3 is below its minimum 8"),
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"family": "nope"}}, "spec: unknown family"),
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"steps": 3}}, "spec lacks 'family'"),
    ({"format": CONFIG_FORMAT, "version": 9, "spec": {"family": "vae"}}, "config version 9"),
    ({"format": CONFIG_FORMAT, "version": 1, "spec": {"family": "vae"}, "extra": 1}, "unknown field 'extra'"),
    ({"family": "vae"}, "is not a run config"),
    ([1, 2], "is not a run config"),
    ("{not json", "is not valid JSON"),
]


@pytest.mark.parametrize("content, says", BAD)
def test_a_bad_config_is_one_line_and_writes_nothing(content, says, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --config {path}: ") and says in err[0], err
    assert not (tmp_path / "run").exists()


def test_config_file_problems(tmp_path, capsys):
    (tmp_path / "real.json").write_text(json.dumps(config_of(TrainSpec("vae"))))
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    for path, says in ((tmp_path / "missing.json", "no such file"), (tmp_path / "link.json", "symbolic link"),
                       (tmp_path, "")):
        assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --config {path}: ") and says in err[0], err
    assert main(["train", "--config", str(tmp_path / "real.json"), "--family", "dcgan"]) == 2
    assert "differs from" in capsys.readouterr().err
    assert main(["train", "--steps", "3"]) == 2
    assert capsys.readouterr().err.strip() == "error: --family is required (or --config FILE)"
