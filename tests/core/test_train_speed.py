"""packaging/train_speed.py: the steps it reads from a run's metrics.jsonl, the CPU time it samples
from /proc (children included) and the rates between two steps, against a fake ``studio``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from argparse import Namespace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import train_speed  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def test_last_step_skips_a_cut_line_and_rows_without_a_loss(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    assert train_speed._last_step(str(metrics)) == 0  # not written yet
    metrics.write_text('{"step": 4, "loss": 1.0}\n{"step": 5, "loss": 0.9}\n{"step": 5, "test/fcd": 3.1}\n{"step": 6, "lo')
    assert train_speed._last_step(str(metrics)) == 5


def test_rates_between_two_samples():
    # (step, faults, cpu s, system s, wall s): 10 steps of 128 images in 2 CPU s and 4 wall s
    rates = train_speed._rates((10, 100, 1.0, 0.1, 50.0), (20, 1100, 3.0, 0.3, 54.0), batch=128)
    assert rates == {"steps": 10, "img_per_cpu_s": 640.0, "img_per_wall_s": 320.0, "cpu_ms_per_step": 200.0,
                     "sys_ms_per_step": 20.0, "minflt_per_step": 100}


def test_sample_counts_the_cpu_of_child_processes():
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\ntime.sleep(5)"
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"])
    try:
        time.sleep(2.0)
        _, cpu, _, _ = train_speed._sample(parent.pid)
        assert cpu >= 0.35  # the grandchild's 0.4 s of busy loop, not only the idle parent's
    finally:
        parent.kill()
        parent.wait()


FAKE_STUDIO = textwrap.dedent("""
    import json, os, sys, time
    args = sys.argv[1:]
    assert args[0] == "train" and args[args.index("--precision") + 1] == "fp32", args
    run = args[args.index("--run-dir") + 1]
    os.makedirs(run)
    with open(os.path.join(run, "metrics.jsonl"), "w") as out:
        for step in range(1, int(args[args.index("--steps") + 1]) + 1):
            t = time.process_time()
            while time.process_time() - t < 0.03:
                pass
            out.write(json.dumps({"step": step, "loss": 1.0}) + "\\n")
            out.flush()
""")


def test_measure_reads_a_training_run_between_its_steps(tmp_path):
    fake = tmp_path / "fake_studio.py"
    fake.write_text(FAKE_STUDIO)
    args = Namespace(first=3, mid=8, last=15, batch=64, family="vae", precision="fp32")
    result = train_speed.measure([sys.executable, str(fake)], args)
    assert result["steps"] >= 12  # 3 -> 15, or a step later where the sampler looked late
    # 30 ms of busy loop per step: at most 2,133 images per CPU-second (less with the interpreter's own
    # work); /proc counts CPU time in 10 ms ticks, up to 2 ticks off over the ~360 ms measured
    assert 500 < result["img_per_cpu_s"] <= 2133 * 1.12
    assert result["img_per_cpu_s_to_mid"] > 1000


def test_a_bad_steps_range_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        train_speed.main(["--steps", "50:20", "a=studio"])
    assert stop.value.code == 2
    assert "need 0 < A < --mid < B" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_speed.main(["--steps", "ten", "a=studio"])
    assert "--steps is A:B" in capsys.readouterr().err
