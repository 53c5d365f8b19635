"""Folders over the memory budget: checked like any folder, then streamed from disk by worker
processes (studio.data.stream, studio.engine.batches) — the same batches and the same training
curve as in memory, bounded memory, and one clear line when something is wrong."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch

from studio.data import DatasetError, load_dataset
from studio.data.stream import FolderImages, memory_budget
from studio.engine.batches import Batches, BatchSampler

torch.set_num_threads(1)


def make_folder(root: Path, n: int = 24, side: int = 40, classes: tuple[str, ...] = ("cats", "dogs")) -> Path:
    """``n`` random RGB pictures (``side`` px, not square: 5 px wider) split over class folders,
    and one broken file."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        pixels = rng.integers(0, 256, (side, side + 5, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / classes[i % len(classes)] / f"{i:03d}.png")
    (root / classes[0] / "broken.png").write_bytes(b"\x89PNG not really")
    return root


def test_streamed_batches_are_the_in_memory_batches(tmp_path):
    folder = make_folder(tmp_path / "pictures")
    memory = load_dataset(f"folder:{folder}", resolution=32)
    streamed = load_dataset(f"folder:{folder}", resolution=32, memory_mb=0)
    assert not memory.streamed and streamed.streamed and isinstance(streamed.images, FolderImages)
    assert streamed.skipped == memory.skipped and len(memory.skipped) == 1 and "broken.png" in memory.skipped[0][0]
    assert streamed.image_shape == memory.image_shape == (3, 32, 32) and len(streamed) == len(memory) == 24
    assert torch.equal(streamed.labels, memory.labels) and streamed.label_names == memory.label_names
    assert torch.equal(streamed.images[3:7], memory.images[3:7])

    a = Batches(memory, BatchSampler(len(memory), 10, seed=5), "cpu")
    b = Batches(streamed, BatchSampler(len(streamed), 10, seed=5), "cpu", workers=1)  # a worker process decodes
    try:
        for _ in range(7):  # past two epochs
            (xa, ya), (xb, yb) = a.next(), b.next()
            assert xa.dtype == xb.dtype == torch.uint8 and xa.shape == (10, 3, 32, 32)
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
        assert a.sampler.state_dict() == b.sampler.state_dict() == {"epoch": 3, "position": 10, "seed": 5}
    finally:
        a.close(), b.close()


def test_the_budget_decides_memory_or_disk(tmp_path):
    folder = make_folder(tmp_path / "pictures", n=60, side=64, classes=("one",))  # 60·64·64·3 = 0.70 MiB decoded
    assert load_dataset(f"folder:{folder}", resolution=64, memory_mb=1).streamed is False
    assert load_dataset(f"folder:{folder}", resolution=128, memory_mb=1).streamed is True  # 2.8 MiB
    assert load_dataset(f"folder:{folder}", resolution=128, memory_mb=3).streamed is False
    assert memory_budget(5) == 5 * 2**20 and memory_budget(None) > 0
    for bad in (-1, 1.5, "a lot", True):
        with pytest.raises(DatasetError, match="memory_mb must be a whole number of MiB"):
            load_dataset(f"folder:{folder}", memory_mb=bad)


def test_the_cli_refuses_a_bad_budget_in_one_line(tmp_path, capsys):
    from studio.cli import main

    folder = make_folder(tmp_path / "pictures", n=4)
    run = tmp_path / "run"
    assert main(["train", "--family", "autoencoder", "--data", f"folder:{folder}", "--memory-mb", "-3",
                 "--run-dir", str(run), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "memory_mb must be a whole number of MiB" in err and "-3" in err
    assert not run.exists()


def test_the_cache_is_bounded_and_left_behind_by_pickling(tmp_path):
    folder = make_folder(tmp_path / "pictures", n=10, classes=("one",))
    files = sorted(str(p) for p in folder.glob("one/0*.png"))
    images = FolderImages(files, 16, 3, cache_bytes=3 * 3 * 16 * 16)  # room for 3 images
    first = images[0].clone()
    for i in range(len(files)):
        images[i]
    assert len(images._cache) == 3 and sorted(images._cache) == [7, 8, 9]
    assert torch.equal(images[0], first) and torch.equal(images[9], images[torch.tensor([9])][0])
    copy = pickle.loads(pickle.dumps(images))
    assert len(copy._cache) == 0 and copy.cache_bytes == images.cache_bytes and torch.equal(copy[4], images[4])
    gray = FolderImages(files, 16, 1)
    assert gray[:2].shape == (2, 1, 16, 16) and len(gray._cache) == 0  # no cache: nothing kept
    assert images.index_select(0, torch.tensor([2, 5])).files == [files[2], files[5]]


def test_a_file_gone_while_training_is_named(tmp_path):
    folder = make_folder(tmp_path / "pictures", n=6)
    streamed = load_dataset(f"folder:{folder}", resolution=16, memory_mb=0)
    gone = streamed.images.files[2]
    os.remove(gone)
    batches = Batches(streamed, BatchSampler(len(streamed), len(streamed), seed=0), "cpu", workers=1)
    try:
        with pytest.raises(DatasetError, match="can no longer be read") as caught:
            batches.next()
    finally:
        batches.close()
    assert gone in str(caught.value) and "\n" not in str(caught.value)


def _train(folder: Path, run: Path, **data_options) -> list[dict]:
    from studio.engine import TrainJob, TrainSpec

    spec = TrainSpec(family="autoencoder", data=f"folder:{folder}", steps=6, batch_size=8, seed=3, device="cpu",
                     precision="fp32", checkpoint_every=6, preview_every=0, options={"width": 8, "latent_dim": 4},
                     data_options={"resolution": 32, **data_options})
    job = TrainJob.create(spec, run)
    job.threads = 1
    assert job.run() == "finished"
    assert job.dataset.streamed == (data_options.get("memory_mb") == 0)
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_streamed_run_trains_the_in_memory_curve_and_stops_its_workers(tmp_path):
    # only this test's children count: under pytest-xdist an earlier test in the same worker may
    # have left a process of its own (a failed run of the whole suite found one started minutes before)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    folder = make_folder(tmp_path / "pictures")
    memory = _train(folder, tmp_path / "memory")
    streamed = _train(folder, tmp_path / "streamed", memory_mb=0)
    curve = lambda records: [(r["step"], r["recon"]) for r in records if "recon" in r]  # noqa: E731
    assert len(curve(memory)) == 6 and curve(streamed) == curve(memory)
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert left == []  # the loader's worker processes are gone


RSS_SCRIPT = textwrap.dedent("""
    import json, sys, threading, time
    from pathlib import Path
    import numpy as np, psutil, torch
    from PIL import Image
    from studio.engine import TrainJob, TrainSpec

    folder, memory_mb = Path(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    me = psutil.Process()

    def train(images, name, memory_mb):
        spec = TrainSpec(family="autoencoder", data=f"folder:{images}", steps=30, batch_size=32, seed=0,
                         device="cpu", precision="fp32", checkpoint_every=30, preview_every=0,
                         options={"width": 8, "latent_dim": 4}, data_options={"resolution": 64, "memory_mb": memory_mb})
        job = TrainJob.create(spec, folder.parent / name)
        job.threads = 1
        assert job.run() == "finished"
        return job

    def used():  # this process's resident memory and what its worker processes hold alone
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_full_info().uss
            except psutil.Error:
                pass
        return total

    warm = folder.parent / "warm"  # the first run loads libraries and kernels: not the folder's cost
    warm.mkdir()
    for i in range(40):
        Image.fromarray(np.full((64, 64, 3), 5 * i, np.uint8)).save(warm / f"{i}.png")
    train(warm, "warm-disk", 0), train(warm, "warm-memory", 1000)
    base = used()
    peak, stop = [base], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], used())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    job = train(folder, "run", memory_mb)
    stop.set(), watcher.join()
    print(json.dumps({"growth": peak[0] - base, "streamed": job.dataset.streamed,
                      "decoded": len(job.dataset) * 64 * 64 * 3}))
""")


@pytest.mark.slow
def test_a_folder_over_the_budget_trains_in_bounded_memory(tmp_path):
    """20,000 pictures (246 MB decoded at 64 px) under an 8 MiB budget: the training process and
    its worker grow by under half the decoded size (measured by hand with 12,000: +32 MB process,
    +32 MB worker, of 147 MB; the worker's is a fixed cost); the same folder in memory grows by more
    than it (so the measurement can see it)."""
    from PIL import Image

    images = tmp_path / "data" / "pictures"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sources = []
    for i in range(20):
        sources.append(images / f"source-{i}.png")
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(sources[-1])
    for i in range(20, 20_000):
        os.link(sources[i % 20], images / f"copy-{i:05d}.png")  # many files, little disk and time

    def measure(memory_mb: int) -> dict:
        folder = tmp_path / f"budget-{memory_mb}"
        folder.mkdir()
        (folder / "pictures").symlink_to(images)
        done = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(folder / "pictures"), str(memory_mb)],
                              capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    streamed, memory = measure(8), measure(100_000)
    print(f"RSS growth: streamed {streamed}, in memory {memory}")
    assert streamed["streamed"] and not memory["streamed"] and streamed["decoded"] == 20_000 * 64 * 64 * 3
    assert memory["growth"] > 0.9 * memory["decoded"]
    assert streamed["growth"] < memory["decoded"] / 2, (streamed, memory)
