"""The training job: progress, pause / stop / resume, reproducibility, failures."""

import json
import threading

import pytest
import torch

from studio.engine import Control, RecordingReporter, TrainJob, TrainSpec
from studio.models import family_names
from studio.runs import Run

SMALL = dict(family="autoencoder", data="fashion-mnist-5k", batch_size=16, lr=1e-3, seed=3,
             device="cpu", precision="fp32", checkpoint_every=10, preview_every=10)


def losses(run_dir):
    return [r["recon"] for r in Run.open(run_dir).read_metrics() if "recon" in r]


def test_train_writes_a_complete_run(tmp_path):
    reporter = RecordingReporter()
    job = TrainJob.create(TrainSpec(steps=20, **SMALL), tmp_path / "run", reporter=reporter)
    assert job.run() == "finished"
    run = Run.open(tmp_path / "run")
    assert run.status == "finished" and run.step == 20
    assert [r["step"] for r in run.read_metrics() if "recon" in r] == list(range(1, 21))
    assert (tmp_path / "run" / "checkpoints" / "latest.json").exists()
    # early previews (1, 2, 5) below the interval of 10, then every 10 steps (studio.specs)
    assert sorted(p.name for p in run.samples_dir.glob("*.png")) == [f"step-{s:07d}.png" for s in (1, 2, 5, 10, 20)]
    # progress is reported every step with a throughput and an ETA
    assert [p.step for p in reporter.progresses] == list(range(1, 21))
    assert all(p.images_per_s > 0 for p in reporter.progresses)
    assert reporter.progresses[-1].eta_s == 0
    assert [s for s, _ in reporter.previews] == [1, 2, 5, 10, 20]
    assert [p.next_preview for p in reporter.progresses][:6] == [2, 5, 5, 5, 10, 10]
    assert reporter.progresses[-1].next_preview is None
    grid = reporter.previews[-1][1]
    assert grid.dtype.name == "uint8" and grid.ndim == 3
    # an early grid is one row of 8 samples over 8 reconstructions; a regular one 4 + 4 rows of 8
    assert reporter.previews[0][1].shape == (2 * 30 + 2, 8 * 30 + 2, 1) and grid.shape == (8 * 30 + 2, 8 * 30 + 2, 1)


def test_same_seed_gives_same_losses(tmp_path):
    """Bit-identical at a fixed thread count (--threads): an adapting count changes the order of
    float sums, so only a fixed one promises the same bits."""
    for name in ("a", "b"):
        job = TrainJob.create(TrainSpec(steps=100, **{**SMALL, "checkpoint_every": 1000, "preview_every": 0}),
                              tmp_path / name)
        job.threads = 1
        job.run()
    assert losses(tmp_path / "a") == losses(tmp_path / "b")
    other = TrainSpec(steps=5, **{**SMALL, "seed": 4, "preview_every": 0})
    TrainJob.create(other, tmp_path / "c").run()
    assert losses(tmp_path / "c")[:5] != losses(tmp_path / "a")[:5]


def test_resume_continues_the_same_curve(tmp_path):
    spec = TrainSpec(steps=30, **{**SMALL, "preview_every": 0})
    TrainJob.create(spec, tmp_path / "straight").run()
    TrainJob.create(TrainSpec(**{**spec.__dict__, "steps": 17}), tmp_path / "split").run()
    job = TrainJob.resume(tmp_path / "split", 13)
    assert job.run() == "finished"
    run = Run.open(tmp_path / "split")
    assert run.step == 30
    assert [r["step"] for r in run.read_metrics() if "recon" in r] == list(range(1, 31))
    assert losses(tmp_path / "split") == pytest.approx(losses(tmp_path / "straight"), rel=1e-5)


def test_resume_drops_metrics_logged_after_the_last_checkpoint(tmp_path):
    TrainJob.create(TrainSpec(steps=20, **SMALL), tmp_path / "run").run()
    run = Run.open(tmp_path / "run")
    # simulate a crash: a checkpoint at 10, metrics up to 20 plus a torn line
    (run.checkpoint_dir / "latest.json").write_text(json.dumps(
        {"step": 10, "weights": "step-0000010.safetensors", "state": "step-0000010.state.pt"}))
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 21, "rec')
    TrainJob.resume(tmp_path / "run", 5).run()
    steps = [r["step"] for r in Run.open(tmp_path / "run").read_metrics() if "recon" in r]
    assert steps == list(range(1, 16))


class StepGate(RecordingReporter):
    """Calls ``action`` when the job reports a given step."""

    def __init__(self, at, action):
        super().__init__()
        self.at, self.action = at, action

    def progress(self, progress):
        super().progress(progress)
        if progress.step == self.at:
            self.action()


def test_stop_stops_between_steps_and_leaves_a_resumable_run(tmp_path):
    control = Control()
    reporter = StepGate(7, control.stop)
    job = TrainJob.create(TrainSpec(steps=1000, **SMALL), tmp_path / "run", reporter=reporter, control=control)
    assert job.run() == "stopped"
    run = Run.open(tmp_path / "run")
    assert run.status == "stopped" and run.step == 7
    assert run.latest_checkpoint()["step"] == 7
    assert TrainJob.resume(tmp_path / "run", 3).run() == "finished"
    assert Run.open(tmp_path / "run").step == 10


def test_pause_really_pauses(tmp_path):
    control = Control()
    paused = threading.Event()
    reporter = StepGate(5, control.pause)
    reporter.status = lambda m: paused.set() if m.startswith("paused") else None
    job = TrainJob.create(TrainSpec(steps=12, **SMALL), tmp_path / "run", reporter=reporter, control=control)
    worker = threading.Thread(target=job.run, daemon=True)  # a failure while paused must not hang the exit
    worker.start()
    assert paused.wait(60)
    seen = len(reporter.progresses)
    worker.join(0.5)  # while paused, no step happens
    assert worker.is_alive() and len(reporter.progresses) == seen == 6
    assert reporter.progresses[-1].paused and reporter.progresses[-1].step == 5  # the ETA stops running down
    control.resume()
    worker.join(60)
    assert not worker.is_alive()
    assert [p.step for p in reporter.progresses if not p.paused] == list(range(1, 13))


def test_divergence_is_reported_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    from studio.models.vae import VAE

    real_step, calls = VAE.train_step, {"n": 0}

    def nan_from_step_15(self, *args, **kwargs):  # a blow-up on cue, not left to chance
        out = real_step(self, *args, **kwargs)
        calls["n"] += 1
        return {k: v * float("nan") for k, v in out.items()} if calls["n"] >= 15 else out

    monkeypatch.setattr(VAE, "train_step", nan_from_step_15)
    reporter = RecordingReporter()
    spec = TrainSpec(steps=40, **{**SMALL, "family": "vae", "preview_every": 0})
    assert TrainJob.create(spec, tmp_path / "run", reporter=reporter).run() == "diverged"
    assert any("became nan at step 15" in m for m in reporter.messages)
    run = Run.open(tmp_path / "run")
    assert run.status == "diverged" and run.latest_checkpoint()["step"] == 10


def test_full_disk_fails_cleanly_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    job = TrainJob.create(TrainSpec(steps=25, **{**SMALL, "preview_every": 0}), tmp_path / "run")
    import studio.fsio as fsio

    real = fsio._write_all

    def full_disk(fd, data, path):  # the one place file bytes are written
        if "step-0000020" in str(path):
            raise OSError(28, "No space left on device")
        return real(fd, data, path)

    monkeypatch.setattr(fsio, "_write_all", full_disk)
    with pytest.raises(OSError, match="while writing the checkpoint at step 20; the checkpoint at step 10 is intact"):
        job.run()
    run = Run.open(tmp_path / "run")
    assert run.status == "failed" and f"can't write to {tmp_path / 'run'} (the disk is full)" in run.meta["error"]
    assert run.latest_checkpoint()["step"] == 10
    assert not list(run.checkpoint_dir.glob(".*.tmp"))
    monkeypatch.setattr(fsio, "_write_all", real)
    assert TrainJob.resume(tmp_path / "run", 5).run() == "finished"


@pytest.mark.parametrize("change, message, field", [
    (dict(family="nope"), "unknown family", None),
    (dict(lr=-1.0), "lr must be a number in", "lr"),
    (dict(batch_size=0), "batch_size must be at least 1", "batch_size"),
    (dict(steps=0), "steps must be a positive integer", "steps"),
    (dict(options={"no_such_option": 1}), "unknown option", None),
])
def test_bad_specs_are_rejected_before_anything_is_written(tmp_path, change, message, field):
    """A bad setting is a SpecError naming its field (the CLI says --batch-size, the window
    marks Batch size), before anything is written."""
    with pytest.raises(ValueError, match=message) as error:
        TrainJob.create(TrainSpec(**{**SMALL, "steps": 5, **change}), tmp_path / "run")
    assert getattr(error.value, "field", None) == field
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("family", family_names(), ids=str)  # one test each: xdist's workers share them
def test_each_family_trains_through_the_engine(tmp_path, tiny_options, family):
    """Every registered family, at its tiny test size (default sizes are each family's own tests):
    train, preview, checkpoint with held-out metrics."""
    spec = TrainSpec(**{**SMALL, "family": family, "steps": 2, "batch_size": 8, "checkpoint_every": 2,
                        "preview_every": 2, "options": tiny_options.get(family, {})})
    assert TrainJob.create(spec, tmp_path / family).run() == "finished", family
    assert Run.open(tmp_path / family).latest_sample() is not None


class StopOnStart(RecordingReporter):
    """Calls ``action`` at the "training … on …" line: the run folder is written, no step taken yet."""

    def __init__(self, action, path):
        super().__init__()
        self.action, self.path, self.folder_seen = action, path, None

    def status(self, message):
        super().status(message)
        if message.startswith("training "):
            self.folder_seen = sorted(p.name for p in self.path.iterdir())
            self.action()

    def close(self):  # the CLI's reporter is closed once the run has ended
        pass


@pytest.mark.parametrize("how", ["stop", "cancel"])
def test_a_new_run_stopped_before_its_first_step_leaves_nothing(tmp_path, how):
    """Stop (or the window closing) between the run folder's writing and step 1: no 'stopped at
    step 0' run to clutter the Runs list; the outcome says nothing was saved."""
    from studio.engine.jobs import run_job
    from studio.engine.trainer import train_job

    control = Control()
    reporter = StopOnStart(getattr(control, how), tmp_path / "run")
    spec = TrainSpec(steps=1000, **SMALL)
    outcome = run_job(train_job(lambda r, c: TrainJob.create(spec, tmp_path / "run", r, c)), reporter, control)
    assert reporter.folder_seen == [".lock", "checkpoints", "run.json", "samples"]  # it was written, then removed
    assert (outcome.status, outcome.result) == ("cancelled", None)
    assert not (tmp_path / "run").exists() and list(tmp_path.iterdir()) == []
    assert reporter.progresses == [] and reporter.previews == []
    assert reporter.messages[-1] == f"stopped before the first step; nothing was saved (run folder " \
                                    f"{tmp_path / 'run'} removed)"


def test_a_run_folder_given_empty_stays_empty_after_an_early_stop(tmp_path):
    (tmp_path / "run").mkdir()
    control = Control()
    job = TrainJob.create(TrainSpec(steps=1000, **SMALL), tmp_path / "run", StopOnStart(control.stop, tmp_path / "run"),
                          control)
    assert job.run() == "cancelled"
    assert (tmp_path / "run").is_dir() and list((tmp_path / "run").iterdir()) == []


def test_a_second_ctrl_c_before_the_first_step_leaves_nothing(tmp_path):
    def abort():
        raise KeyboardInterrupt

    job = TrainJob.create(TrainSpec(steps=1000, **SMALL), tmp_path / "run", StopOnStart(abort, tmp_path / "run"))
    with pytest.raises(KeyboardInterrupt):
        job.run()
    assert not (tmp_path / "run").exists()


def test_the_cli_says_nothing_was_saved_and_exits_130(tmp_path, capsys):
    from studio import cli

    control = Control()
    reporter = StopOnStart(control.stop, tmp_path / "run")
    job = TrainJob.create(TrainSpec(steps=1000, **SMALL), tmp_path / "run", reporter, control)
    assert cli._finish(job, reporter) == 130
    assert capsys.readouterr().out == ""  # no "stopped: <a folder that is gone>"
    assert "nothing was saved" in reporter.messages[-1] and not (tmp_path / "run").exists()


def _folder_state(path):
    """{relative path: (inode, mtime_ns, bytes)} of every file under ``path`` but the lock (a
    rewrite, even of the same bytes, makes a new inode)."""
    return {str(p.relative_to(path)): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("how", ["stop", "cancel"])
def test_a_resume_stopped_before_its_next_step_leaves_the_run_as_it_was(tmp_path, how, trained_run):
    """A resumed run keeps its folder: checkpoints, samples, metrics and run.json byte for byte
    (no 'stopped at step 20' over 'finished', no resume recorded, no step-20 checkpoint rewritten)."""
    import shutil

    shutil.copytree(trained_run("autoencoder"), tmp_path / "run")
    before = _folder_state(tmp_path / "run")
    control = Control()
    reporter = StopOnStart(getattr(control, how), tmp_path / "run")
    job = TrainJob.resume(tmp_path / "run", 5, reporter=reporter, control=control, overrides={"lr": 1e-4})
    assert job.run() == "stopped"
    after = _folder_state(tmp_path / "run")
    meta_before, meta_after = (json.loads(state.pop("run.json")[2]) for state in (before, after))
    assert after == before  # checkpoints, samples and metrics untouched, not even rewritten
    assert meta_after == meta_before and meta_after["status"] == "finished" and meta_after["step"] == 20
    assert reporter.messages[-1] == "stopped before step 21; the run is as it was, at step 20: nothing was written"
    assert Run.open(tmp_path / "run").status == "finished"


def test_a_run_that_fails_at_step_0_keeps_its_folder_with_the_error(tmp_path, monkeypatch):
    """A failure is not a stop: the folder stays, listed as failed with the reason to act on."""
    from studio.models.autoencoder import Autoencoder

    def broken(self, *args, **kwargs):
        raise RuntimeError("the first step broke")

    monkeypatch.setattr(Autoencoder, "train_step", broken)
    with pytest.raises(RuntimeError):
        TrainJob.create(TrainSpec(steps=10, **SMALL), tmp_path / "run").run()
    run = Run.open(tmp_path / "run")
    assert run.status == "failed" and run.meta["error"] == "training failed at step 0: the first step broke"
