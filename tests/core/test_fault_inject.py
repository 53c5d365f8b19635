"""scripts/fault_inject.py: its checks catch each kind of damage (fast), and a short real run
of kills passes (slow). scripts/soak.py's argument checks."""

import json
import shutil
import subprocess
import sys
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    spec = spec_from_file_location(f"_script_{name}", ROOT / "scripts" / f"{name}.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fi():
    return _script("fault_inject")


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A finished 8-step tiny VAE run with checkpoints at 4 and 8, copied so it can be damaged."""
    run = tmp_path / "run"
    shutil.copytree(trained_run("vae", steps=8, checkpoint_every=4), run)
    return run


def _reference(fi, run: Path) -> dict:
    train, test = fi._records(run)
    return {"train": train, "test_steps": sorted(r["step"] for r in test), "weights": fi._final_weights(run)}


def test_an_intact_finished_run_passes(fi, run_copy):
    assert fi.check_intact(run_copy) == []
    assert fi.check_finished(run_copy, _reference(fi, run_copy), 8) == []


def test_torn_and_mismatched_checkpoints_are_caught(fi, run_copy):
    ckpt = run_copy / "checkpoints"
    older = ckpt / "step-0000004.safetensors"
    older.write_bytes(older.read_bytes()[:100])
    assert any("step-0000004.safetensors is torn" in p for p in fi.check_intact(run_copy))
    latest = json.loads((ckpt / "latest.json").read_text())
    (ckpt / "latest.json").write_text(json.dumps({**latest, "state": "step-0000004.state.pt"}))
    assert any("names weights of step 8, state 4" in p for p in fi.check_intact(run_copy))
    (ckpt / "latest.json").write_text(json.dumps({**latest, "weights": "missing.safetensors"}))
    assert any("latest.json does not name a loadable pair" in p for p in fi.check_intact(run_copy))


def test_curve_duplicates_holes_and_other_losses_are_caught(fi, run_copy):
    ref = _reference(fi, run_copy)
    lines = (run_copy / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    fifth = next(i for i, r in enumerate(records) if r["step"] == 5 and "loss" in r)
    dup = lines[:fifth + 1] + [lines[fifth]] + lines[fifth + 1:]
    (run_copy / "metrics.jsonl").write_text("\n".join(dup) + "\n")
    assert any("1 duplicated [5], 0 missing" in p for p in fi.check_finished(run_copy, ref, 8))
    hole = lines[:fifth] + lines[fifth + 1:]
    (run_copy / "metrics.jsonl").write_text("\n".join(hole) + "\n")
    assert any("0 duplicated [], 1 missing [5]" in p for p in fi.check_finished(run_copy, ref, 8))
    changed = [json.dumps({**r, "loss": r["loss"] + 1e-9}) if i == fifth else lines[i] for i, r in enumerate(records)]
    (run_copy / "metrics.jsonl").write_text("\n".join(changed) + "\n")
    assert any("losses differ from the uninterrupted run at 1 steps, first 5" in p
               for p in fi.check_finished(run_copy, ref, 8))
    (run_copy / "metrics.jsonl").write_text("\n".join(lines) + "\n" + '{"step": 9, "lo')  # a torn last line
    assert fi.check_intact(run_copy) == []
    (run_copy / "metrics.jsonl").write_text('{"step": 1, "lo\n' + "\n".join(lines) + "\n")
    assert any("line 1 is not JSON" in p for p in fi.check_intact(run_copy))


def test_leftovers_and_orphan_folders_are_caught(fi, run_copy, tmp_path):
    ref = _reference(fi, run_copy)
    (run_copy / "checkpoints" / ".step-0000012.state.pt.x1y2.tmp").write_bytes(b"half")
    assert any("temporary files left" in p for p in fi.check_finished(run_copy, ref, 8))
    orphan = tmp_path / "orphan"
    (orphan / "checkpoints").mkdir(parents=True)
    assert fi.check_intact(orphan) == []  # empty folders: nothing lost
    (orphan / "metrics.jsonl").write_text("")
    assert any("no run.json" in p for p in fi.check_intact(orphan))


def test_soak_refuses_a_warmup_longer_than_the_run(capsys):
    soak = _script("soak")
    with pytest.raises(SystemExit):
        soak.main(["--steps", "100", "--warmup", "200"])
    assert "warm-up (200 steps) must be shorter than --steps (100)" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_fault_injection_two_trials_of_a_vae(tmp_path):
    report = tmp_path / "report.json"
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fault_inject.py"), "--families", "vae",
                          "--trials", "2", "--steps", "6", "--checkpoint-every", "2", "--preview-every", "3",
                          "--work", str(tmp_path / "work"), "--json", str(report)],
                         capture_output=True, text=True, timeout=1700)
    result = json.loads(report.read_text())
    row = result["rows"][0]
    assert row["family"] == "vae" and row["trials"] == 2 and row["kills"] >= 2, out.stdout
    assert result["failures"] == {"vae": []}, out.stdout
    assert out.returncode == 0 and "vae               2" in out.stdout
