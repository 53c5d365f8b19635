"""Fixtures every test folder shares: tiny trained runs of each family, made once per session."""

from __future__ import annotations

import shutil

import pytest

# small enough to train in a second or two on the CPU, big enough to have every part of the model
TINY_OPTIONS = {
    "autoencoder": {"width": 8, "latent_dim": 4},
    "vae": {"width": 8, "latent_dim": 4},
    "dcgan": {"width": 8, "z_dim": 8},
    "ddpm": {"base_channels": 8, "channel_mults": "1,2", "num_train_timesteps": 50, "sample_steps": 10,
             "preview_steps": 2, "attention": False},
    "cdcgan": {"width": 8, "z_dim": 8},
    "cvae": {"width": 8, "latent_dim": 4},
    "wgan-gp": {"width": 8, "z_dim": 8},
    "realnvp": {"hidden": 8, "num_scales": 2},
    "pixelcnn": {"hidden": 8, "layers": 2, "kernel": 3, "preview_images": 1},
}


@pytest.fixture(autouse=True)
def _temporary_runs_root(tmp_path, monkeypatch):
    """No test reads or writes the user's real runs folder (~/generative-studio/runs): runs made
    without an explicit folder land in the test's temporary one."""
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(scope="session")
def tiny_options():
    """family -> the options of its tiny test size (import-free access to TINY_OPTIONS)."""
    return TINY_OPTIONS


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """``trained_run(family, steps=20, **spec)`` -> the folder of a finished tiny run on
    fashion-mnist-5k (cached per test run: don't modify it; copy it if you must). Under
    pytest-xdist the workers share the cache (a file lock per run: the first trains, the
    others wait and read it), so no tiny run is trained twice."""
    import hashlib
    import os

    from filelock import FileLock  # a torch dependency

    from studio.engine import TrainJob, TrainSpec

    base_temp = tmp_path_factory.getbasetemp()
    # a worker's base folder sits in the controller's, which all workers of this run share
    root = (base_temp.parent if os.environ.get("PYTEST_XDIST_WORKER") else base_temp) / "trained-runs"
    root.mkdir(exist_ok=True)
    cache: dict[tuple, str] = {}

    def make(family: str, steps: int = 20, **spec):
        key = (family, steps, repr(sorted(spec.items())))  # options may be a dict
        if key not in cache:
            options = {**TINY_OPTIONS.get(family, {}), **spec.pop("options", {})}
            base = dict(family=family, data="fashion-mnist-5k", steps=steps, batch_size=16, seed=0, device="cpu",
                        precision="fp32", checkpoint_every=steps, preview_every=0, options=options)
            name = f"{family}-{hashlib.sha1(repr(key).encode()).hexdigest()[:12]}"
            folder, done = root / name / "run", root / f"{name}.done"
            with FileLock(str(root / f"{name}.lock")):
                if not done.exists():
                    shutil.rmtree(folder.parent, ignore_errors=True)  # a worker that died half-way
                    assert TrainJob.create(TrainSpec(**{**base, **spec}), folder).run() == "finished"
                    done.touch()
            cache[key] = str(folder)
        return cache[key]

    return make
