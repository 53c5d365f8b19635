"""Resume after faults, divergence and damage (issue 14, items 1–6): it reads and checks the
checkpoint before writing anything, falls back past a damaged or non-finite one, takes a new
learning rate that really applies, keeps one clean curve, and fails in one line."""

import errno
import json
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file, save_file

import studio.fsio as fsio
from studio.cli import main
from studio.engine import RecordingReporter, TrainJob, TrainSpec
from studio.runs import Run

TINY = dict(data="fashion-mnist-5k", batch_size=16, seed=0, device="cpu", precision="fp32", preview_every=0)
AE = {"width": 8, "latent_dim": 4}


def snapshot(folder):
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if name != ".lock":
                found[os.path.relpath(path, folder)] = open(path, "rb").read()
    return found


def train_steps(run_dir):
    return [r["step"] for r in Run.open(run_dir).read_metrics() if "recon" in r or "loss" in r]


@pytest.fixture
def copy_run(tmp_path, trained_run):
    """A fresh copy of a tiny autoencoder run of 20 steps with checkpoints every ``every`` steps."""
    def make(every=20, name="run", family="autoencoder"):
        folder = tmp_path / name
        shutil.copytree(trained_run(family, steps=20, checkpoint_every=every), folder)
        return folder
    return make


# --- 3/4: damage is refused in one line before anything is written ---------------------------------
class Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _damage(run, kind, tmp_path, trained_run):
    ck = run / "checkpoints"
    weights, state = ck / "step-0000020.safetensors", ck / "step-0000020.state.pt"
    if kind == "truncated weights":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif kind == "empty weights":
        weights.write_bytes(b"")
    elif kind == "foreign pickle state":
        state.write_bytes(pickle.dumps({"format": "generative-studio-run", "x": Exploit()}))
    elif kind == "truncated state":
        state.write_bytes(state.read_bytes()[:100])
    elif kind == "another family's weights":
        vae = os.path.join(trained_run("vae", steps=20), "checkpoints", "step-0000020.safetensors")
        shutil.copy(vae, weights)
    elif kind == "weights of another shape":
        tensors = {k: torch.zeros(*v.shape[:-1], v.shape[-1] + 1) if v.dim() else v for k, v in
                   load_file(str(weights)).items()}
        save_file(tensors, str(weights), metadata={"format": "generative-studio-run", "family": "autoencoder"})
    elif kind in ("state without optimizers", "state of another model", "state with a bad rng"):
        saved = torch.load(state, weights_only=True)
        if kind == "state without optimizers":
            del saved["optimizers"]
        elif kind == "state of another model":
            saved["optimizers"] = {"g": saved["optimizers"]["model"]}
        else:
            saved["rng"] = {"torch": "seed"}
        torch.save(saved, state)
    elif kind == "optimizer state of another shape":
        saved = torch.load(state, weights_only=True)
        first = next(iter(saved["optimizers"]["model"]["state"].values()))
        first["exp_avg"] = torch.zeros(3, 3, 3)
        torch.save(saved, state)
    elif kind == "optimizer lr is a string":
        saved = torch.load(state, weights_only=True)
        saved["optimizers"]["model"]["param_groups"][0]["lr"] = "fast"
        torch.save(saved, state)
    else:
        raise AssertionError(kind)


DAMAGE = ["truncated weights", "empty weights", "foreign pickle state", "truncated state", "another family's weights",
          "weights of another shape", "state without optimizers", "state of another model", "state with a bad rng",
          "optimizer state of another shape", "optimizer lr is a string"]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_only_checkpoint_is_one_line_exit_2_nothing_changed(copy_run, tmp_path, trained_run, capsys,
                                                                       kind, monkeypatch):
    run = copy_run()
    _damage(run, kind, tmp_path, trained_run)
    monkeypatch.chdir(tmp_path)
    before = snapshot(run)
    assert main(["resume", str(run), "--steps", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no intact checkpoint to resume from: step 20:" in err, err
    assert "weights_only" not in err and "Traceback" not in err
    assert snapshot(run) == before  # run.json still says finished
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("kind", ["truncated weights", "foreign pickle state", "weights of another shape"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(copy_run, tmp_path, trained_run, kind):
    run = copy_run(every=10)
    _damage(run, kind, tmp_path, trained_run)
    reporter = RecordingReporter()
    assert TrainJob.resume(run, 5, reporter=reporter).run() == "finished"
    assert any("the checkpoint at step 20 is damaged" in m for m in reporter.messages)
    assert train_steps(run) == list(range(1, 16))  # from step 10: 11–15 once, 11–20 of the old curve dropped
    assert Run.open(run).latest_checkpoint()["step"] == 15


def test_a_damaged_latest_json_falls_back_to_the_newest_pair_on_disk(copy_run):
    run = copy_run(every=10)
    (run / "checkpoints" / "latest.json").write_text('{"step": "20"')
    assert TrainJob.resume(run, 2).run() == "finished"
    assert train_steps(run) == list(range(1, 23))


# --- 2: divergence advice that can be followed ------------------------------------------------------
def test_diverge_then_resume_with_a_lower_lr_trains_finitely_to_the_end(tmp_path, capsys):
    """A real divergence (the issue's VAE at lr 1), not a monkeypatched one: its only checkpoint
    has non-finite held-out figures, so the advice must not call it kept; the resume takes --lr,
    rolls back to step 0, reseeds, and trains finitely to the end."""
    run = tmp_path / "d"
    assert main(["train", "--family", "vae", "--steps", "10", "--batch-size", "32", "--lr", "1", "--set", "width=8",
                 "--set", "latent_dim=4", "--checkpoint-every", "1", "--preview-every", "0", "--device", "cpu",
                 "--precision", "fp32", "--run-dir", str(run)]) == 1
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "diverged" and meta["divergences"] == 1 and meta["step"] == 0
    advice = meta["error"]
    assert "checkpoint at step" not in advice and "a resume starts again from step 0" in advice
    assert f"(studio resume {run} --steps 10 --lr 0.1)" in advice
    text = (run / "metrics.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text and "null" in text
    capsys.readouterr()
    assert main(["resume", str(run), "--steps", "10", "--lr", "0.001"]) == 0
    err = capsys.readouterr().err
    assert "no checkpoint has finite weights and held-out figures" in err and "reseeded" in err
    assert "Traceback" not in err
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "finished" and meta["step"] == 10 and meta["spec"]["lr"] == 0.001
    assert meta["resumes"][-1]["changes"] == {"lr": [1.0, 0.001]} and meta["resumes"][-1]["reseeded"] == 1_000_003
    records = Run.open(run).read_metrics()
    assert [r["step"] for r in records if "loss" in r] == list(range(1, 11))
    assert all(v is None or math.isfinite(v) for r in records for k, v in r.items() if k != "epoch")
    assert all(math.isfinite(r["loss"]) and math.isfinite(r.get("test/kl", 0.0)) for r in records if "loss" in r)
    state = torch.load(run / "checkpoints" / "step-0000010.state.pt", weights_only=True)
    assert state["optimizers"]["model"]["param_groups"][0]["lr"] == 0.001


def test_a_new_lr_really_applies_after_the_optimizer_state_is_restored(copy_run):
    """The saved Adam state carries the old lr; without resetting it the override did nothing."""
    run = copy_run()
    job = TrainJob.resume(run, 2, overrides={"lr": 2e-4, "checkpoint_every": 1})
    assert [g["lr"] for g in job._restored.optimizers["model"].param_groups] == [2e-4]
    assert job.run() == "finished"
    state = torch.load(run / "checkpoints" / "step-0000022.state.pt", weights_only=True)
    assert state["optimizers"]["model"]["param_groups"][0]["lr"] == 2e-4
    assert (run / "checkpoints" / "step-0000021.state.pt").exists()  # checkpoint_every 1 from here on
    assert Run.open(run).spec().lr == 2e-4 and Run.open(run).spec().checkpoint_every == 1


@pytest.mark.parametrize("overrides, message", [({"lr": 5.0}, "--lr must be a number in (0, 1] (you typed 5.0)"),
                                                ({"lr": "1e-400"}, "--lr must be a number in (0, 1] (you typed 1e-400, which reads as 0)"),
                                                ({"checkpoint_every": 0}, "--checkpoint-every must be at least 1"),
                                                ({"preview_every": -1}, "--preview-every must be non-negative")])
def test_bad_resume_overrides_are_one_line(copy_run, capsys, overrides, message):
    run = copy_run()
    before = snapshot(run)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in overrides.items()]
    assert main(["resume", str(run), "--steps", "2", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert snapshot(run) == before


def _nan_evaluation_at(monkeypatch, bad_step):
    from studio.models.autoencoder import Autoencoder

    real, calls = Autoencoder.evaluate, {"n": 0}

    def evaluate(self, x, **kw):
        calls["n"] += 1
        out = real(self, x, **kw)
        return {k: v * float("nan") for k, v in out.items()} if calls["n"] in bad_step else out
    monkeypatch.setattr(Autoencoder, "evaluate", evaluate)


def test_non_finite_held_out_figures_are_null_and_the_checkpoint_is_not_good(tmp_path, monkeypatch):
    _nan_evaluation_at(monkeypatch, bad_step={5, 6, 7, 8})  # 4 chunks of 250 images per evaluation: the 2nd one
    spec = TrainSpec(family="autoencoder", steps=20, checkpoint_every=10, options=AE, lr=1e-3, **TINY)
    reporter = RecordingReporter()
    job = TrainJob.create(spec, tmp_path / "r", reporter=reporter)
    assert job.run() == "finished"
    text = (tmp_path / "r" / "metrics.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text
    held = {r["step"]: r for r in Run.open(tmp_path / "r").read_metrics() if "test/mse" in r}
    assert held[20]["test/mse"] is None and math.isfinite(held[10]["test/mse"])
    assert job.last_good == 10 and any("not a good one" in m for m in reporter.messages)
    assert all(math.isfinite(v) for _, values in reporter.history for v in values.values())  # the plot gets no NaN
    monkeypatch.undo()
    reporter = RecordingReporter()
    assert TrainJob.resume(tmp_path / "r", 5, reporter=reporter).run() == "finished"  # rolls back past 20
    assert any("step 20 is not good" in m for m in reporter.messages)
    assert train_steps(tmp_path / "r") == list(range(1, 16))


# --- 5: one clean curve in every case -------------------------------------------------------------
def test_killed_before_the_first_checkpoint_resumes_from_0_without_duplicates(tmp_path):
    run = Run.create(tmp_path / "r", {"family": "autoencoder", "data": TINY["data"], "image_shape": [1, 28, 28],
                                      "options": AE, "spec": {**TINY, "family": "autoencoder", "steps": 10,
                                                              "lr": 1e-3, "preset": None, "options": AE,
                                                              "data_options": {}, "checkpoint_every": 500}})
    run.append_metrics([{"step": s, "recon": 1.0} for s in range(1, 11)])
    run.save_meta(status="running")
    run.close()  # the process is gone: its lock with it
    assert Run.open(tmp_path / "r").status == "interrupted"
    assert TrainJob.resume(tmp_path / "r", 4).run() == "finished"
    assert train_steps(tmp_path / "r") == [1, 2, 3, 4]


def test_a_torn_last_line_is_never_glued_to_the_next_record(tmp_path):
    run = Run.create(tmp_path / "r", {"family": "vae", "data": "x", "image_shape": [1, 28, 28]})
    run.append_metrics([{"step": 1, "loss": 1.0}])
    run.close()
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 2, "lo')
    again = Run.open(tmp_path / "r")
    again.append_metrics([{"step": 2, "loss": 2.0}])
    again.close()
    assert again.read_metrics() == [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 2.0}]


def test_a_kill_during_the_evaluation_is_made_good_on_resume(copy_run):
    run = copy_run(every=10)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    kept = [line for line in lines if not (json.loads(line)["step"] == 20 and "test/mse" in line)]
    (run / "metrics.jsonl").write_text("\n".join(kept) + "\n")
    assert TrainJob.resume(run, 1).run() == "finished"
    held = [r["step"] for r in Run.open(run).read_metrics() if "test/mse" in r]
    assert held == [10, 20, 21]


def test_stale_temp_files_go_when_a_writer_opens_the_run(copy_run):
    run = copy_run()
    for path in (run / ".run.json.x1y2.tmp", run / "checkpoints" / ".step-0000030.state.pt.tmp",
                 run / "samples" / ".step-0000030.png.abc.tmp"):
        path.write_bytes(b"half")
    Run.open(run).lock_for_writing()
    assert not list(run.rglob("*.tmp"))


def test_orphan_weights_never_count_toward_the_kept_checkpoints(tmp_path):
    run = Run.create(tmp_path / "r", {"family": "vae", "data": "x", "image_shape": [1, 28, 28]})
    for step in (1, 2, 3):
        run.save_checkpoint(step, {"w": torch.zeros(1)}, {})
    save_file({"w": torch.zeros(1)}, str(run.checkpoint_dir / "step-0000004.safetensors"))  # killed before its state
    run.save_checkpoint(5, {"w": torch.zeros(1)}, {})
    assert sorted(p.name for p in run.checkpoint_dir.glob("step-*")) == [
        f"step-000000{s}.{k}" for s in (2, 3, 5) for k in ("safetensors", "state.pt")]


def test_sigterm_checkpoints_like_ctrl_c(tmp_path):
    run = tmp_path / "r"
    child = subprocess.Popen([sys.executable, "-m", "studio", "train", "--family", "autoencoder", "--steps", "100000",
                              "--batch-size", "4", "--set", "width=8", "--set", "latent_dim=4", "--device", "cpu",
                              "--precision", "fp32", "--checkpoint-every", "100000", "--preview-every", "0",
                              "--threads", "1", "--run-dir", str(run)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(train_steps(run) if (run / "metrics.jsonl").exists() else []) < 3:
        time.sleep(0.2)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0 and f"stopped: {run}" in out
    meta = Run.open(run)
    assert meta.status == "stopped" and meta.latest_checkpoint()["step"] == meta.step >= 3


# --- 6: a full disk -------------------------------------------------------------------------------
def _fill_disk(monkeypatch, when):
    real = fsio._write_all

    def write(fd, data, path):
        if when(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data, path)
    monkeypatch.setattr(fsio, "_write_all", write)


TRAIN = ["train", "--family", "autoencoder", "--steps", "25", "--batch-size", "8", "--set", "width=8", "--set",
         "latent_dim=4", "--device", "cpu", "--precision", "fp32", "--checkpoint-every", "10", "--preview-every", "0"]


def test_a_full_disk_during_a_checkpoint_is_one_line_and_keeps_the_previous(tmp_path, monkeypatch, capsys):
    _fill_disk(monkeypatch, lambda path: "step-0000020" in str(path))
    assert main([*TRAIN, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"can't write to {tmp_path / 'r'} (the disk is full)" in err and "while writing the checkpoint at step 20; the checkpoint at " \
                                                 "step 10 is intact" in err
    run = Run.open(tmp_path / "r")
    assert run.status == "failed" and run.latest_checkpoint()["step"] == 10
    assert not list((tmp_path / "r").rglob("*.tmp"))


def test_a_completely_full_disk_shows_the_run_as_interrupted(tmp_path, monkeypatch, capsys):
    full = {"now": False}

    def when(path):
        full["now"] = full["now"] or "step-0000020" in str(path)
        return full["now"]
    _fill_disk(monkeypatch, when)
    assert main([*TRAIN, "--run-dir", str(tmp_path / "r")]) == 2
    run = Run.open(tmp_path / "r")  # run.json could not be rewritten: it still says running …
    assert run.meta["status"] == "running" and run.status == "interrupted"  # … but no process holds it
    monkeypatch.undo()
    assert main(["resume", str(tmp_path / "r"), "--steps", "2"]) == 0
    assert train_steps(tmp_path / "r") == list(range(1, 13))


def test_a_full_disk_before_the_start_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    _fill_disk(monkeypatch, lambda path: True)
    assert main([*TRAIN, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing was kept" in err
    assert f"can't create the run folder {tmp_path / 'r'} (the disk is full)" in err  # the cause, then what to do
    assert err.endswith("choose a folder you can write to (--run-dir, or the STUDIO_RUNS_DIR variable for the window)")
    assert not (tmp_path / "r").exists()
    monkeypatch.undo()
    assert main([*TRAIN, "--steps", "2", "--run-dir", str(tmp_path / "r")]) == 0
