"""Following a run another process writes (studio.engine.follow): torn lines wait, a cut-back
restarts the curve, links are refused, and a follow job picks up what another process appends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from studio.engine.control import Control
from studio.engine.follow import FollowState, MetricsTail, RunFollower, follow_job
from studio.engine.jobs import run_job
from studio.engine.reporting import RecordingReporter
from studio.fsio import UnsafeFile
from studio.runs import Run


def line(step: int, loss: float) -> bytes:
    return f'{{"step": {step}, "time": 0.1, "epoch": 0, "loss": {loss}}}\n'.encode()


def test_a_torn_last_line_is_waited_for(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.read() == ([], False)  # no file yet
    path.write_bytes(line(1, 0.5) + line(2, 0.4) + line(3, 0.3)[:9])
    records, reset = tail.read()
    assert [r["step"] for r in records] == [1, 2] and not reset
    assert tail.read() == ([], False)
    with open(path, "ab") as f:
        f.write(line(3, 0.3)[9:] + b"not json\n" + b'{"no": "step"}\n' + line(4, 0.2))
    records, _ = tail.read()
    assert [(r["step"], r["loss"]) for r in records] == [(3, 0.3), (4, 0.2)]  # junk lines skipped


def test_a_cut_back_file_restarts_the_records(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b"".join(line(s, 1 / s) for s in range(1, 6)))
    tail = MetricsTail(path)
    assert len(tail.read()[0]) == 5
    replacement = tmp_path / "new"
    replacement.write_bytes(b"".join(line(s, 1 / s) for s in range(1, 4)))
    os.replace(replacement, path)  # what Run.truncate_metrics does on a resume
    records, reset = tail.read()
    assert reset and [r["step"] for r in records] == [1, 2, 3]
    with open(path, "r+b") as f:  # cut back in place (same file, shorter)
        f.truncate(len(line(1, 1.0)))
    records, reset = tail.read()
    assert reset and [r["step"] for r in records] == [1]
    path.unlink()
    assert tail.read() == ([], True)


def test_links_are_refused(tmp_path):
    target = tmp_path / "elsewhere.jsonl"
    target.write_bytes(line(1, 0.5))
    (tmp_path / "metrics.jsonl").symlink_to(target)
    with pytest.raises(UnsafeFile):
        MetricsTail(tmp_path / "metrics.jsonl").read()


def test_the_follower_sees_records_grids_and_status(tmp_path):
    run = Run.create(tmp_path / "run", {"family": "vae", "data": "shapes", "image_shape": [1, 28, 28],
                                        "target_step": 4})
    follower = RunFollower(run.path)
    first = follower.poll()
    assert first.meta["status"] == "created" and not first.records and not first.samples
    run.save_meta(status="running")
    run.append_metrics([{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.8}])
    run.write_sample("step-0000002.png", np.zeros((10, 12, 1), np.uint8))
    update = follower.poll()
    assert [r["step"] for r in update.records] == [1, 2] and [s for s, _ in update.samples] == [2]
    assert update.meta["status"] == "running"
    assert follower.state() == FollowState(2, 4, "running", True, 2, 0)  # this process holds the lock
    assert not follower.poll()  # nothing new
    run.close()
    assert follower.live()  # no lock, but it changed just now (a synced folder's writer)
    follower._changed, follower.metrics.changed_ns = 0.0, 0
    assert not follower.live()


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from studio.runs import Run
    run = Run.create(sys.argv[1], {"family": "vae", "data": "shapes", "image_shape": [1, 28, 28],
                                   "target_step": 6, "status": "running"})
    for step in range(1, 7):
        if step == 4:  # a torn line: half now, the rest a moment later
            with open(run.metrics_path, "ab") as f:
                f.write(b'{"step": 4, "lo'); f.flush(); time.sleep(0.4); f.write(b'ss": 0.25}\\n')
        else:
            run.append_metrics([{"step": step, "time": step / 10, "loss": 1 / step}])
        if step % 3 == 0:
            run.write_sample(f"step-{step:07d}.png", np.full((6, 8, 1), 40 * step, np.uint8))
        time.sleep(0.15)
    run.save_meta(status="finished", step=6)
    run.close()
""")


def test_a_follow_job_picks_up_what_another_process_writes(tmp_path):
    folder = tmp_path / "run"
    reporter, control = RecordingReporter(), Control()
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(run_job(follow_job(folder, 0.05), reporter, control)),
                              daemon=True)
    thread.start()
    try:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run([sys.executable, "-c", WRITER, str(folder)], check=True, env=env, timeout=120)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not reporter.partials or reporter.partials[-1].status != "finished"):
            time.sleep(0.05)
    finally:
        control.cancel()
        thread.join(10)
    assert outcome[0].status == "cancelled"
    assert [(s, v) for s, v in reporter.history] == [(s, {"loss": 1 / s if s != 4 else 0.25}) for s in range(1, 7)]
    assert [s for s, _ in reporter.previews] == [3, 6]
    assert reporter.previews[-1][1].shape == (6, 8, 1) and reporter.previews[-1][1][0, 0, 0] == 240
    final = reporter.partials[-1]
    assert (final.step, final.status, final.live, final.records) == (6, "finished", False, 6)
    assert reporter.progresses[-1].step == 6
