"""The run folder is a trust boundary: paths stay inside it, writes never follow a link out,
one process writes it at a time, only regular files of bounded size are read, and every field
passes one schema (issue 14, A–D). Each case: one line, exit 2, nothing changed on disk."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.cli import main
from studio.runs import Run, RunError, list_runs, scan_runs

META = {"family": "autoencoder", "data": "fashion-mnist-5k", "image_shape": [1, 28, 28]}


def snapshot(folder):
    """{relative path: bytes or link target} of everything in ``folder`` but the lock file."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if rel != ".lock":
                found[rel] = ("->", os.readlink(path)) if os.path.islink(path) else open(path, "rb").read()
    return found


def one_line_exit_2(capsys, args, *must_contain):
    code = main([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    for text in must_contain:
        assert text in err, err
    return err


@pytest.fixture
def run_copy(tmp_path, trained_run):
    """A fresh copy of a finished tiny autoencoder run (one checkpoint, at step 20)."""
    def make(name="run", family="autoencoder"):
        folder = tmp_path / name
        shutil.copytree(trained_run(family, steps=20), folder)
        return folder
    return make


# --- A: every path read from the folder stays inside it ------------------------------------
@pytest.mark.parametrize("weights", ["../other/checkpoints/step-0000020.safetensors", "ABS", "sub/x.safetensors"])
@pytest.mark.parametrize("command", ["sample", "resume", "eval"])
def test_latest_json_paths_must_stay_inside(run_copy, tmp_path, capsys, weights, command):
    run, other = run_copy("run"), run_copy("other")
    pointer = run / "checkpoints" / "latest.json"
    latest = json.loads(pointer.read_text())
    latest["weights"] = str(other / "checkpoints" / "step-0000020.safetensors") if weights == "ABS" else weights
    pointer.write_text(json.dumps(latest))
    before, theirs = snapshot(run), snapshot(other)
    if command == "resume":  # a damaged pointer: resume says so and continues from the run's own newest pair
        assert main(["resume", str(run), "--steps", "1"]) == 0
        err = capsys.readouterr().err
        assert "must be a file name inside the folder" in err and "newest intact checkpoint" in err
        assert [r["step"] for r in Run.open(run).read_metrics() if "recon" in r] == list(range(1, 22))
    else:
        args = {"sample": ["sample", run, "--out", tmp_path / "x.png"], "eval": ["eval", run, "--n", "10"]}[command]
        one_line_exit_2(capsys, args, "must be a file name inside the folder")
        assert snapshot(run) == before and not (tmp_path / "x.png").exists()
    assert snapshot(other) == theirs


def test_a_linked_checkpoint_file_is_refused_and_its_target_never_echoed(run_copy, tmp_path, capsys):
    run = run_copy()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT")
    state = run / "checkpoints" / "step-0000020.state.pt"
    state.unlink()
    state.symlink_to(secret)
    err = one_line_exit_2(capsys, ["resume", run, "--steps", "1"], "symbolic link")
    assert "TOPSECRET" not in err and str(secret) not in err
    weights = run / "checkpoints" / "step-0000020.safetensors"
    other = run_copy("other") / "checkpoints" / "step-0000020.safetensors"
    weights.unlink()
    weights.symlink_to(other)  # another run's weights: sample would have used them with exit 0
    one_line_exit_2(capsys, ["sample", run, "--out", tmp_path / "x.png"], "symbolic link")


# --- B: writes never leave the real folder ----------------------------------------------------
def test_links_planted_at_temp_and_final_names_are_never_written_through(run_copy, tmp_path):
    from studio.engine import TrainJob

    run = run_copy()
    victim = tmp_path / "victim.bin"
    victim.write_bytes(b"precious")
    for name in (".step-0000022.state.pt.tmp", ".step-0000022.safetensors.tmp", "step-0000022.state.pt",
                 ".latest.json.tmp", ".run.json.tmp", ".metrics.jsonl.tmp"):
        (run / "checkpoints" / name if "step" in name or "latest" in name else run / name).symlink_to(victim)
    assert TrainJob.resume(run, 2).run() == "finished"
    assert victim.read_bytes() == b"precious"
    state = run / "checkpoints" / "step-0000022.state.pt"
    assert state.is_file() and not state.is_symlink()
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")]  # cleaned on open


@pytest.mark.parametrize("folder", ["checkpoints", "samples"])
def test_a_linked_subfolder_is_refused_not_followed(run_copy, capsys, folder):
    run, other = run_copy("run"), run_copy("other")
    shutil.rmtree(run / folder)
    (run / folder).symlink_to(other / folder)
    before, theirs = snapshot(run), snapshot(other)
    one_line_exit_2(capsys, ["resume", run, "--steps", "2"], f"{folder}/ must be a real folder")
    assert snapshot(run) == before and snapshot(other) == theirs


def test_a_linked_metrics_file_is_refused(run_copy, tmp_path, capsys):
    run = run_copy()
    victim = tmp_path / "victim.jsonl"
    shutil.move(run / "metrics.jsonl", victim)
    (run / "metrics.jsonl").symlink_to(victim)
    data = victim.read_bytes()
    one_line_exit_2(capsys, ["resume", run, "--steps", "2"], "symbolic link")
    assert victim.read_bytes() == data


# --- C: one writer at a time; readers always --------------------------------------------------
def test_a_second_writer_is_refused_naming_the_holder_and_readers_still_work(run_copy, tmp_path, capsys):
    run = run_copy()
    holder = Run.open(run)
    holder.lock_for_writing()
    holder.save_meta(status="running")
    before = snapshot(run)
    one_line_exit_2(capsys, ["resume", run, "--steps", "2"], f"pid {os.getpid()}")
    assert snapshot(run) == before
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "x.png")]) == 0
    assert main(["runs", "--root", str(run.parent), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["status"] for r in rows if r["name"] == "run"] == ["running"]
    holder.close()  # released: the same run now shows as interrupted (no process trains it)
    assert Run.open(run).status == "interrupted"
    assert main(["resume", str(run), "--steps", "1"]) == 0


def test_the_lock_dies_with_its_process(tmp_path, capsys):
    """A real trainer in another process: resume (here, in this one: the lock belongs to the
    child either way) is refused naming its pid; after a SIGKILL the run shows as interrupted
    and resumes."""
    run = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "studio", "train", "--family", "autoencoder", "--steps", "100000",
                              "--batch-size", "4", "--set", "width=8", "--set", "latent_dim=4", "--device", "cpu",
                              "--precision", "fp32", "--checkpoint-every", "100000", "--preview-every", "0",
                              "--threads", "1", "--run-dir", str(run)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (run / "metrics.jsonl").exists():
            time.sleep(0.2)
        assert Run.open(run).status == "running" and Run.open(run).writer_pid() == child.pid
        capsys.readouterr()
        one_line_exit_2(capsys, ["resume", run, "--steps", "1"], f"pid {child.pid}")
        assert Run.open(run).writer_pid() == child.pid  # the refusal took nothing from the child
    finally:
        child.kill()
        child.wait()
    assert Run.open(run).status == "interrupted" and Run.open(run).writer_pid() is None
    assert main(["resume", str(run), "--steps", "2"]) == 0
    assert [r["step"] for r in Run.open(run).read_metrics()] == [1, 2, 2]  # steps 1-2 and the held-out record


# --- D: regular files only, bounded ---------------------------------------------------------
@pytest.mark.timeout(60)
def test_fifos_never_hang_a_reader(run_copy, tmp_path, capsys):
    run = run_copy()
    weights = run / "checkpoints" / "step-0000020.safetensors"
    weights.unlink()
    os.mkfifo(weights)
    one_line_exit_2(capsys, ["sample", run, "--out", tmp_path / "x.png"], "not a regular file")
    one_line_exit_2(capsys, ["resume", run, "--steps", "1"], "not a regular file")
    (run / "run.json").unlink()
    os.mkfifo(run / "run.json")
    one_line_exit_2(capsys, ["sample", run, "--out", tmp_path / "x.png"], "not a regular file")
    runs, damaged = scan_runs(tmp_path)
    assert [p.name for p, _ in damaged] == ["run"] and "not a regular file" in damaged[0][1]
    assert main(["runs", "--root", str(tmp_path)]) == 0
    assert "damaged: run:" in capsys.readouterr().out


def test_an_oversized_run_json_is_refused_unread(tmp_path):
    Run.create(tmp_path / "r", META).close()
    with open(tmp_path / "r" / "run.json", "r+b") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB claimed
    with pytest.raises(RunError, match="more than"):
        Run.open(tmp_path / "r")


# --- the schema: wrong types are one line, never a TypeError ---------------------------------
BAD_FIELDS = [
    ("version", "1", "'version' must be a whole number"),
    ("family", ["vae"], "'family' must be a string"),
    ("image_shape", [100000000, 32, 32], "'image_shape'"),
    ("image_shape", [1e8, 32, 32], "'image_shape'"),
    ("image_shape", "28x28", "'image_shape'"),
    ("step", "ten", "'step' must be a whole number"),
    ("num_classes", 10 ** 9, "'num_classes'"),
    ("options", [], "'options' must be a JSON object"),
    ("evaluation", {"fcd": "good"}, "'evaluation'"),
    ("spec", "x", "'spec' must be a JSON object"),
    ("spec.batch_size", 0, "batch_size"),
    ("spec.checkpoint_every", 0, "checkpoint_every"),
    ("spec.lr", "fast", "'lr' must be a finite number"),
    ("spec.family", "vae", "spec 'family' is 'vae'"),
    ("spec.device", ["cpu"], "'device'"),
    ("spec.options", {"width": "wide"}, "width"),
    ("spec.surprise", 1, "unknown field 'surprise'"),
]


@pytest.mark.parametrize("field, value, message", BAD_FIELDS)
def test_wrong_fields_are_one_line_everywhere_and_never_break_the_listing(run_copy, tmp_path, capsys, field,
                                                                           value, message):
    run = run_copy("bad")
    run_copy("good")
    meta = json.loads((run / "run.json").read_text())
    target, key = (meta["spec"], field[5:]) if field.startswith("spec.") else (meta, field)
    target[key] = value
    (run / "run.json").write_text(json.dumps(meta))
    before = snapshot(run)
    one_line_exit_2(capsys, ["resume", run, "--steps", "1"], message)
    if not field.startswith("spec."):  # sample and eval read only what they need: the spec is resume's
        one_line_exit_2(capsys, ["sample", run, "--out", tmp_path / "x.png"], message)
        assert [r.name for r in list_runs(tmp_path)] == ["run"]  # the good one (its recorded name)
        assert main(["runs", "--root", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "damaged: bad:" in out and "finished" in out
    assert snapshot(run) == before


def test_metrics_with_binary_garbage_are_skipped_line_by_line(run_copy):
    run = run_copy()
    good = Run.open(run).read_metrics()
    with open(run / "metrics.jsonl", "ab") as f:
        f.write(b"\xff\xfe\x00garbage\n[1, 2]\n{\"step\": \"x\"}\n{\"no\": 1}\n")
    assert Run.open(run).read_metrics() == good
    from studio.engine import TrainJob

    assert TrainJob.resume(run, 2).run() == "finished"
    assert [r["step"] for r in Run.open(run).read_metrics() if "recon" in r] == list(range(1, 23))


# --- property: any JSON in any field is a valid Run or one RunError ----------------------------
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=4),
                           max_leaves=12)
VALID = {"format": "generative-studio-run", "version": 1, "name": "r", "created": "", "updated": "", "step": 3,
         "status": "finished", **META, "num_classes": 10, "options": {"width": 8, "latent_dim": 4},
         "spec": {"family": "autoencoder", "data": "fashion-mnist-5k", "steps": 20, "batch_size": 16, "lr": 0.001,
                  "seed": 0, "device": "cpu", "precision": "fp32", "preset": None,
                  "options": {"width": 8, "latent_dim": 4}, "data_options": {}, "checkpoint_every": 20,
                  "preview_every": 0}}


def _read_everything(folder):
    try:
        run = Run.open(folder)
    except RunError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(run.name, str) and isinstance(run.family, str) and isinstance(run.step, int)
    assert isinstance(run.status, str) and isinstance(run.meta.get("updated", ""), str)
    try:
        spec = run.spec()
    except RunError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert spec.steps >= 1 and spec.batch_size >= 1 and 0 < spec.lr <= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(VALID) + [f"spec.{k}" for k in sorted(VALID["spec"])]), value=json_values)
def test_any_value_in_any_field_gives_a_run_or_one_run_error(tmp_path, field, value):
    meta = json.loads(json.dumps(VALID))
    target, key = (meta["spec"], field[5:]) if field.startswith("spec.") else (meta, field)
    target[key] = value
    (tmp_path / "r").mkdir(exist_ok=True)
    (tmp_path / "r" / "run.json").write_text(json.dumps(meta))
    _read_everything(tmp_path / "r")
    scan_runs(tmp_path)  # never raises


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values | st.binary(max_size=64).map(lambda b: b.decode("latin-1")))
def test_any_document_as_run_json_gives_a_run_or_one_run_error(tmp_path, document):
    (tmp_path / "r").mkdir(exist_ok=True)
    (tmp_path / "r" / "run.json").write_text(json.dumps(document) if not isinstance(document, str) else document)
    _read_everything(tmp_path / "r")
