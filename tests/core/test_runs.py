"""Run folders: round trip, atomic writes, and refusing files that are not ours."""

import json
import os
import pickle

import pytest
import torch
from safetensors.torch import save_file

from studio.runs import Run, RunError, atomic_write_bytes, list_runs

META = {"family": "autoencoder", "data": "fashion-mnist-5k", "image_shape": [1, 28, 28]}


def test_round_trip(tmp_path):
    run = Run.create(tmp_path / "r", META)
    run.append_metrics([{"step": 1, "recon": 0.5}, {"step": 2, "recon": 0.4}])
    weights = {"w": torch.arange(6.0).reshape(2, 3), "ema.w": torch.ones(3)}
    state = {"optimizers": {"model": {"state": {}, "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99)}]}},
             "sampler": {"epoch": 1, "position": 32, "seed": 0}, "rng": {"torch": torch.get_rng_state()}}
    run.save_checkpoint(2, weights, state)
    run.save_meta(step=2, status="stopped")
    run.close()

    again = Run.open(tmp_path / "r")
    assert again.family == "autoencoder" and again.step == 2 and again.status == "stopped"
    assert [r["step"] for r in again.read_metrics()] == [1, 2]
    checkpoint = again.latest_checkpoint()
    assert checkpoint["step"] == 2
    loaded = again.load_weights(checkpoint)
    assert torch.equal(loaded["w"], weights["w"]) and torch.equal(loaded["ema.w"], weights["ema.w"])
    assert again.load_state(checkpoint)["sampler"] == {"epoch": 1, "position": 32, "seed": 0}


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    run = Run.create(tmp_path / "r", META)
    for step in range(1, 6):
        run.save_checkpoint(step, {"w": torch.zeros(1)}, {})
    names = sorted(p.name for p in run.checkpoint_dir.glob("step-*.safetensors"))
    assert names == ["step-0000003.safetensors", "step-0000004.safetensors", "step-0000005.safetensors"]


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    atomic_write_bytes(target, b"old")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_existing_non_empty_folder_is_not_overwritten(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "precious.txt").write_text("keep me")
    with pytest.raises(RunError, match="not empty"):
        Run.create(tmp_path / "r", META)
    assert (tmp_path / "r" / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("", "no run.json"),
    ("{nope", "not valid JSON"),
    ('{"family": "vae"}', "not a Generative Studio run"),
])
def test_opening_something_else_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "r"
    if content is not None:
        path.mkdir()
        if content:
            (path / "run.json").write_text(content)
    with pytest.raises(RunError, match=message):
        Run.open(path)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the foreign file is meant to be odd
def test_foreign_checkpoints_are_refused_without_running_code(tmp_path):
    run = Run.create(tmp_path / "r", META)
    run.save_checkpoint(1, {"w": torch.zeros(1)}, {})
    checkpoint = run.latest_checkpoint()
    # weights from elsewhere: no metadata marker
    save_file({"w": torch.zeros(1)}, str(checkpoint["weights"]))
    with pytest.raises(RunError, match="not a Generative Studio checkpoint"):
        run.load_weights(checkpoint)
    # garbage in place of safetensors
    checkpoint["weights"].write_bytes(b"\x00garbage")
    with pytest.raises(RunError, match="cannot read weights"):
        run.load_weights(checkpoint)
    # a state file that would run code if unpickled
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    checkpoint["state"].write_bytes(pickle.dumps({"format": "generative-studio-run", "x": Exploit()}))
    with pytest.raises(RunError, match="cannot read training state"):
        run.load_state(checkpoint)
    assert not marker.exists()


def test_list_runs_skips_broken_folders(tmp_path):
    Run.create(tmp_path / "a", META)
    Run.create(tmp_path / "b", {**META, "family": "vae"})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{")
    assert sorted(r.name for r in list_runs(tmp_path)) == ["a", "b"]
    assert list_runs(tmp_path / "missing") == []
    assert json.loads((tmp_path / "a" / "run.json").read_text())["format"] == "generative-studio-run"


def test_list_model_runs_offers_only_runs_with_a_checkpoint(tmp_path, trained_run):
    import shutil

    from studio.runs import list_model_runs

    shutil.copytree(trained_run("autoencoder", steps=5), tmp_path / "done")
    Run.create(tmp_path / "empty", {"family": "vae", "data": "fashion-mnist-5k", "image_shape": [1, 28, 28]})
    names = [run.name for run in list_model_runs(tmp_path, with_demos=False)]
    assert names == ["run"]  # the copied run keeps its recorded name; the empty run is left out


def test_a_weights_only_run_opens_but_does_not_resume(tmp_path, trained_run):
    """Bundled demo runs ship weights without optimizer state (scripts/build_demo_models.py)."""
    import json
    import shutil

    from studio.engine import TrainJob
    from studio.runs import RunError, load_model

    folder = tmp_path / "demo"
    shutil.copytree(trained_run("vae", steps=5), folder)
    pointer = folder / "checkpoints" / "latest.json"
    latest = json.loads(pointer.read_text())
    (folder / "checkpoints" / latest["state"]).unlink()
    pointer.write_text(json.dumps({**latest, "state": None}))
    assert load_model(Run.open(folder)).sample(2).shape == (2, 1, 28, 28)
    (folder / ".lock").unlink(missing_ok=True)  # as shipped: no lock file in a demo
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(RunError, match="cannot be resumed"):
        TrainJob.resume(folder, 5).run()
    # refused before anything is written: no lock file appears in the (read-only) demo folder
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def test_atomic_write_never_writes_through_a_planted_link(tmp_path):
    """Temp files are created exclusively under unpredictable names; a link at the old
    predictable temp name or at the final name is never followed (issue 14 B)."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".f.json.tmp").symlink_to(victim)  # the name the old code wrote through
    (folder / "f.json").symlink_to(victim)
    atomic_write_bytes(folder / "f.json", b"new")
    assert victim.read_bytes() == b"precious"
    assert (folder / "f.json").read_bytes() == b"new" and not (folder / "f.json").is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == [".f.json.tmp", "f.json"]


def test_a_run_locked_in_this_process_refuses_a_second_writer(tmp_path):
    run = Run.create(tmp_path / "r", META)  # created locked
    with pytest.raises(RunError, match=f"pid {os.getpid()}"):
        Run.open(tmp_path / "r").lock_for_writing()
    assert Run.open(tmp_path / "r").writer_pid() == os.getpid()
    run.close()
    assert Run.open(tmp_path / "r").writer_pid() is None
    with Run.open(tmp_path / "r").lock_for_writing():
        assert Run.open(tmp_path / "r").writer_pid() == os.getpid()


def test_discard_removes_what_the_run_wrote_and_nothing_else(tmp_path):
    """A new run stopped before its first step is discarded: its files, checkpoints/, samples/ and
    lock go, a link inside is removed without following it, and a folder it did not write stays."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    run = Run.create(tmp_path / "r", META)
    run.append_metrics([{"step": 1, "recon": 0.5}])
    run.save_checkpoint(1, {"w": torch.zeros(1)}, {})
    (run.samples_dir / "step-0000001.png").write_bytes(b"png")
    (run.path / "skipped.txt").write_text("a.txt: not an image\n")
    (run.path / ".run.json.abc.tmp").write_text("{")
    os.symlink(outside, run.path / "samples" / "link")
    run.discard()
    assert not (tmp_path / "r").exists()
    assert (outside / "keep.txt").read_text() == "mine"
    again = Run.create(tmp_path / "r2", META)
    (again.path / "photos").mkdir()  # not the run's: kept, and so is the folder holding it
    again.discard()
    assert sorted(p.name for p in (tmp_path / "r2").iterdir()) == ["photos"]


def test_discard_refuses_a_run_it_did_not_create(tmp_path):
    Run.create(tmp_path / "r", META).close()
    opened = Run.open(tmp_path / "r")
    opened.lock_for_writing()
    with pytest.raises(RunError, match="not created by this process"):
        opened.discard()
    opened.close()
    assert (tmp_path / "r" / "run.json").exists()


def test_ctrl_c_while_a_run_folder_is_created_leaves_nothing(tmp_path, monkeypatch):
    import studio.runs as runs

    def interrupted(root, name, create=False):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "real_subdir", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Run.create(tmp_path / "r", META)
    assert not (tmp_path / "r").exists()


def test_a_resume_point_with_nothing_after_it_rewrites_nothing(tmp_path):
    """start_from at the newest checkpoint changes no file (a resume stopped at once leaves the
    folder as it was, modification times included); past it, it cuts back as before."""
    run = Run.create(tmp_path / "r", META)
    run.append_metrics([{"step": s, "recon": 1.0 / s} for s in (1, 2)])
    for step in (1, 2):
        run.save_checkpoint(step, {"w": torch.zeros(1)}, {})
    files = [run.metrics_path, run.checkpoint_dir / "latest.json"]
    before = [(p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in files]  # a rewrite: a new inode
    assert run.start_from(2) == []
    assert [(p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in files] == before
    assert run.start_from(1) == [2]
    assert [r["step"] for r in run.read_metrics()] == [1] and run.latest_checkpoint()["step"] == 1
    run.close()
