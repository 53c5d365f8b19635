"""Reading and renaming run folders from the Runs page's helpers (Qt-free functions)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from studio.imaging import save_png
from studio.qt.run_history import read_run_history, rename_run
from studio.runs import Run


@pytest.fixture
def run_copy(trained_run, tmp_path):
    return shutil.copytree(trained_run("vae"), tmp_path / "vae-run")


def test_a_run_another_process_trains_is_not_renamed(run_copy):
    lock = Run.open(run_copy).lock_for_writing()  # what `studio train` in a terminal holds
    try:
        with pytest.raises(ValueError, match="being trained by process"):
            rename_run(run_copy, "new-name")
        assert run_copy.exists() and not (run_copy.parent / "new-name").exists()
    finally:
        lock.release()
    renamed = rename_run(run_copy, "new-name")
    assert renamed.name == "new-name" and Run.open(renamed).name == "new-name"


def test_history_reads_only_regular_sample_files(run_copy, tmp_path):
    samples = run_copy / "samples"
    samples.mkdir(exist_ok=True)
    outside = tmp_path / "outside.png"
    save_png(np.full((8, 8, 3), 200, np.uint8), outside)
    save_png(np.full((8, 8, 3), 100, np.uint8), samples / "step-999998.png")
    (samples / "step-999999.png").symlink_to(outside)  # a link planted in the folder
    steps = [step for step, _ in read_run_history(run_copy).previews]
    assert steps[-1] == 999998 and 999999 not in steps
