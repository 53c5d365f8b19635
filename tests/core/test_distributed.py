"""Data-parallel training (studio.engine.distributed): the rules in one process, then real
2-process gloo runs on the CPU started through the CLI exactly as torchrun starts it (the
environment variables RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT; one torch thread each).

Equivalence: the plain autoencoder (no noise; group norm) is deterministic, so a 2-process run
must give the 1-process run's losses at the same global batch up to float summation order
(rtol 1e-4) and the same weights. The families that draw noise (VAE, DCGAN, DDPM) draw different
noise on each rank, so there the 2-process curve must agree with the 1-process one as closely as
two 1-process runs with different seeds agree with each other (mean absolute per-step difference
at most 1.5× the seed-to-seed one, plus 2 % of the loss)."""

from __future__ import annotations

import contextlib
import json
import os
import socket

import pytest
import torch

from studio.engine import TrainJob, TrainSpec
from studio.engine.distributed import Distributed, FollowerRun, Replicas, rank_seed
from studio.errors import SpecError
from studio.runs import Run
from tests.conftest import TINY_OPTIONS

AE = {"family": "autoencoder", "options": {"width": 8, "latent_dim": 4, "norm": "group"}}


# --- the rules, in one process ------------------------------------------------------------
def test_place_from_the_environment():
    assert Distributed.from_env({}) == Distributed()  # no torchrun: a plain run
    dist = Distributed.from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert (dist.rank, dist.world_size, dist.local_rank, dist.local_world_size) == (3, 4, 1, 2)
    assert dist.enabled and not dist.is_main
    with pytest.raises(SpecError) as bad:
        Distributed.from_env({"RANK": "x", "WORLD_SIZE": "2"})
    assert bad.value.field == "RANK"
    with pytest.raises(SpecError):
        Distributed.from_env({"RANK": "2", "WORLD_SIZE": "2"})


def test_shards_split_the_global_batch():
    index = torch.arange(12)
    parts = [Distributed(rank=r, world_size=3).shard(index) for r in range(3)]
    assert torch.equal(torch.cat(parts), index) and [len(p) for p in parts] == [4, 4, 4]
    Distributed(world_size=3).check_batch(12)
    with pytest.raises(SpecError) as bad:
        Distributed(world_size=3).check_batch(16)
    assert bad.value.field == "batch_size" and "multiple of the 3 processes" in str(bad.value)
    assert Distributed().average({"a": torch.tensor(2.5)}) == {"a": 2.5}
    assert Distributed().any(True) and not Distributed().any(False)
    assert len({rank_seed(0, 0, r) for r in range(1, 9)} | {rank_seed(0, 10, 1), rank_seed(1, 0, 1)}) == 10
    assert Distributed(rank=0, world_size=2, local_world_size=2).threads(None, "cpu") >= 1
    assert Distributed(world_size=2).threads(3, "cpu") == 3 and Distributed().threads(None, "cpu") is None


def test_a_follower_writes_nothing(tmp_path):
    """Every method of Run is a read or one the follower turns into a no-op: a new writing method
    of Run must be added to FollowerRun.WRITES (and overridden) or this fails."""
    reads = {"open", "spec", "dataset", "status", "writer_pid", "check_folders", "check_resumable", "metrics_path",
             "read_metrics", "samples_dir", "sample_files", "latest_sample", "checkpoint_dir", "checkpoints",
             "latest_checkpoint", "load_weights", "load_state", "name", "family", "step", "steps_left"}
    methods = {n for n in dir(Run) if not n.startswith("_")}
    assert methods - reads == set(FollowerRun.WRITES), "classify the new methods of Run"
    for name in FollowerRun.WRITES:
        assert getattr(FollowerRun, name) is not getattr(Run, name), name
    follower = FollowerRun.create(tmp_path / "run", {"family": "vae"})
    follower.lock_for_writing()
    follower.save_meta(status="running")
    follower.append_metrics([{"step": 1, "loss": 1.0}])
    follower.write_sample("step-0000001.png", None)
    follower.save_checkpoint(1, {}, {})
    assert follower.start_from(0) == [] and follower.meta["status"] == "running"
    follower.close()
    assert not (tmp_path / "run").exists()  # nothing at all was written


@pytest.fixture
def one_process_group(tmp_path):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize("family", sorted(TINY_OPTIONS))
def test_every_family_trains_through_ddp(family, one_process_group):
    """Replicas wraps each family's trained parts (a GAN's two players, the U-Net but not its EMA,
    a flow's whole bits_per_dim) and a step through them matches the plain step exactly."""
    from studio.models import build_model

    classes = 10 if family in ("cdcgan", "cvae") else 0
    losses = []
    for wrapped in (False, True):
        torch.manual_seed(0)
        model = build_model(family, TINY_OPTIONS[family], (1, 28, 28), classes).train()
        optimizers = model.configure_optimizers(1e-3)
        x, y = torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8) % 10
        replicas = Replicas(model, torch.device("cpu")) if wrapped else None
        keys = set(model.state_dict())
        step = []
        for _ in range(2):
            if replicas:
                with replicas:
                    step.append({k: float(v) for k, v in model.train_step(x, y, optimizers).items()})
            else:
                step.append({k: float(v) for k, v in model.train_step(x, y, optimizers).items()})
        assert set(model.state_dict()) == keys  # plain again outside the step: checkpoints keep their keys
        losses.append(step)
    plain, through_ddp = ([v for values in run for v in values.values()] for run in losses)
    assert through_ddp == pytest.approx(plain, rel=1e-5) and len(plain) >= 2
    if family == "ddpm":
        assert not any(name.startswith("ema") for name in Replicas(model, torch.device("cpu")).children)


def test_a_model_trained_outside_its_children_is_refused(one_process_group):
    class Loose(torch.nn.Module):
        family = "loose"

        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))

    with pytest.raises(SpecError) as bad:
        Replicas(Loose(), torch.device("cpu"))
    assert "loose cannot train in several processes: scale" in str(bad.value)


# --- real processes -----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, world: int, commands: list[tuple[int, list[str]]], out: str) -> None:
    """One process as torchrun starts it: the environment, then ``studio`` commands in turn."""
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    from studio.cli import main

    codes = []
    for port, argv in commands:
        os.environ["MASTER_PORT"] = str(port)
        codes.append(main(argv))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(codes, f)


def torchrun_cli(tmp_path, argvs: list[list[str]], world: int = 2) -> None:
    """Run each ``studio`` command line in ``world`` spawned processes; every rank must exit 0."""
    import torch.multiprocessing as mp

    out = tmp_path / "ranks"
    out.mkdir(exist_ok=True)
    commands = [(_free_port(), argv) for argv in argvs]
    mp.start_processes(_rank_main, args=(world, commands, str(out)), nprocs=world, start_method="spawn")
    for rank in range(world):
        assert json.loads((out / f"rank{rank}.json").read_text()) == [0] * len(argvs), f"rank {rank}"


def train_argv(run_dir, family: str, options: dict, steps: int, batch: int = 16, seed: int = 0,
               **flags) -> list[str]:
    argv = ["train", "--family", family, "--steps", str(steps), "--batch-size", str(batch), "--seed", str(seed),
            "--device", "cpu", "--precision", "fp32", "--threads", "1", "--run-dir", str(run_dir)]
    argv += [a for k, v in options.items() for a in ("--set", f"{k}={v}")]
    return argv + [a for k, v in flags.items() for a in (f"--{k.replace('_', '-')}", str(v))]


def one_process(run_dir, family: str, options: dict, steps: int, batch: int = 16, seed: int = 0, **spec) -> Run:
    spec = TrainSpec(family=family, steps=steps, batch_size=batch, seed=seed, device="cpu", precision="fp32",
                     options=options, **{"checkpoint_every": steps, "preview_every": 0, **spec})
    job = TrainJob.create(spec, run_dir)
    job.threads = 1
    assert job.run() == "finished"
    return Run.open(run_dir)


def curve(run: Run, key: str) -> list[float]:
    return [r[key] for r in run.read_metrics() if key in r]


def test_two_processes_train_like_one(tmp_path):
    """The deterministic autoencoder: the same losses and weights at the same global batch, one
    writer, and a checkpoint of either world size resumed by the other continues the same curve."""
    both, half, grown = tmp_path / "two", tmp_path / "two-then-one", tmp_path / "one-then-two"
    one = one_process(tmp_path / "one", AE["family"], AE["options"], 10)
    one_process(grown, AE["family"], AE["options"], 6, checkpoint_every=3)
    torchrun_cli(tmp_path, [train_argv(both, AE["family"], AE["options"], 10, checkpoint_every=5, preview_every=5),
                            train_argv(half, AE["family"], AE["options"], 6, checkpoint_every=3, preview_every=0),
                            ["resume", str(grown), "--steps", "4", "--threads", "1"]])
    two = Run.open(both)
    assert curve(two, "recon") == pytest.approx(curve(one, "recon"), rel=1e-4)
    w1, w2 = (run.load_weights(run.latest_checkpoint()) for run in (one, two))
    for name, tensor in w1.items():
        if "latent_" not in name:  # the code statistics are rank 0's shard's (a tracked buffer, not trained)
            assert torch.allclose(w2[name], tensor, rtol=1e-4, atol=1e-6), name
    # rank 0 alone wrote: each step once, the checkpoints and previews of one run
    records = [r["step"] for r in two.read_metrics() if "recon" in r]
    assert records == list(range(1, 11))
    assert sorted(c["step"] for c in two.checkpoints()) == [5, 10] and two.status == "finished"
    assert sorted(p.name for p in two.sample_files()) == [f"step-{s:07d}.png" for s in (1, 2, 5, 10)]
    assert not list(tmp_path.glob("two*/**/*.tmp")) and sorted(p.name for p in tmp_path.iterdir()) == [
        "one", "one-then-two", "ranks", "two", "two-then-one"]
    resumed = Run.open(grown)  # a 1-process checkpoint continued by 2 processes
    assert curve(resumed, "recon") == pytest.approx(curve(one, "recon"), rel=1e-4)
    assert [r["step"] for r in resumed.read_metrics() if "recon" in r] == list(range(1, 11))
    # resume the 2-process run's step-6 checkpoint in this one process: the same curve on
    job = TrainJob.resume(half, 4)
    job.threads = 1
    assert job.run() == "finished"
    assert curve(Run.open(half), "recon") == pytest.approx(curve(one, "recon"), rel=1e-4)


def test_bad_input_under_torchrun_is_one_line_and_writes_nothing(tmp_path, capsys):
    """An odd global batch is refused on every rank (exit 2) before anything is written."""
    from studio.cli import main

    os.environ.update(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0")
    try:
        assert main(train_argv(tmp_path / "run", "vae", {}, 5, batch=15)) == 2
    finally:
        for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
            os.environ.pop(name)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --batch-size must be a multiple of the 2 processes: it is the global batch, split "
                   "evenly over them (got 15)"]
    assert not (tmp_path / "run").exists()


NOISY = {"vae": "loss", "dcgan": "d_loss", "ddpm": "eps_mse"}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(NOISY))
def test_noisy_families_match_within_seed_noise(family, tmp_path):
    key, options, steps = NOISY[family], TINY_OPTIONS[family], 12
    if family == "vae":
        options = {**options, "norm": "group"}
    torchrun_cli(tmp_path, [train_argv(tmp_path / "two", family, options, steps, batch=32, preview_every=0,
                                       checkpoint_every=steps)])
    two = curve(Run.open(tmp_path / "two"), key)
    one, other = (curve(one_process(tmp_path / f"one{seed}", family, options, steps, batch=32, seed=seed), key)
                  for seed in (0, 1))

    def gap(a, b):
        return sum(abs(p - q) for p, q in zip(a, b)) / len(a)

    scale = sum(abs(v) for v in one) / len(one)
    print(f"{family} {key}: 2 vs 1 process {gap(two, one):.4g}, seed 0 vs 1 {gap(other, one):.4g}, "
          f"mean {scale:.4g}")
    assert len(two) == steps
    assert gap(two, one) <= 1.5 * gap(other, one) + 0.02 * scale


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("family", ["vae", "dcgan", "ddpm", "realnvp"])
def test_ddp_on_cuda_in_bf16(family, tmp_path):
    """The CUDA path: an NCCL group of one, SyncBatchNorm, DDP with device_ids, bf16 autocast; a
    step through the replicas equals the plain step (to bf16 rounding)."""
    import torch.distributed as dist

    from studio.engine.devices import autocast_factory
    from studio.models import build_model

    dist.init_process_group("nccl", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        losses = []
        for wrapped in (False, True):
            torch.manual_seed(0)
            model = build_model(family, TINY_OPTIONS[family], (1, 28, 28), 0).cuda().train()
            optimizers = model.configure_optimizers(1e-3)
            x = torch.rand(8, 1, 28, 28, device="cuda") * 2 - 1
            replicas = Replicas(model, torch.device("cuda", 0)) if wrapped else contextlib.nullcontext()
            with replicas:
                values = model.train_step(x, None, optimizers, autocast_factory(torch.device("cuda"), "bf16"))
            losses.append([float(v) for v in values.values()])
        assert losses[1] == pytest.approx(losses[0], rel=2e-2)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) and not isinstance(m, torch.nn.SyncBatchNorm)
                       for m in model.modules())
    finally:
        dist.destroy_process_group()
