"""The step-by-step sampling job: frames per step, bounded store, exact branching, forward process."""

import numpy as np
import pytest
import torch
from PIL import Image

from studio import rng
from studio.engine import Control
from studio.engine.sampling import (CHECKPOINT_BUDGET, KINDS, Checkpoint, SamplingJob, SamplingSpec, Trajectory,
                                    animation_frames, export_step, export_trajectory, forward_process,
                                    schedule_curves, to_frames, trajectory_grid)
from studio.resources import resource_path
from studio.runs import Run, load_model


@pytest.fixture(scope="module")
def model(trained_run):
    return load_model(Run.open(trained_run("ddpm")))


def test_job_frames_match_the_plain_sampler(model):
    spec = SamplingSpec(sampler="ddim", steps=10, eta=0.5, seed=3, batch=4)
    job = SamplingJob(model, spec)
    assert list(job.steps()) == list(range(10))
    traj = job.trajectory
    assert traj.finished and traj.status == "finished" and traj.done == 10
    assert [traj.frames(i, "x_t").shape for i in (0, 9)] == [(4, 28, 28, 1)] * 2
    # the same seed through the model's own loop gives the same final images: x_T and the
    # per-step noise from the seed's two streams
    noise_generator, step_generator = rng.streams(3)
    noise = model.sample_noise(4, noise_generator)
    ref = model.sample(4, noise=noise, generator=step_generator, sampler="ddim", steps=10, eta=0.5)
    assert np.array_equal(traj.final, to_frames(ref))
    # step 0 shows x_T; the last x̂_0 is the final sample (DDIM lands on x̂_0)
    assert np.array_equal(traj.frames(0, "x_t"), to_frames(noise))
    assert np.array_equal(traj.frames(9, "x0"), traj.final)
    assert traj.frame(2, "eps").ndim == 3 and traj.frame(2, "eps", image=1).shape == (28, 28, 1)


def test_ddim_eta0_is_deterministic_and_ignores_noise(model):
    a = SamplingJob(model, SamplingSpec(sampler="ddim", steps=6, eta=0.0, seed=1, batch=2)).run()
    b = SamplingJob(model, SamplingSpec(sampler="ddim", steps=6, eta=0.0, seed=1, batch=2)).run()
    assert np.array_equal(a.final, b.final)


@pytest.mark.parametrize("sampler,eta", [("ddpm", None), ("ddim", 1.0), ("dpmpp2m", None)])
def test_branch_with_same_settings_reproduces_and_new_seed_diverges(model, sampler, eta):
    spec = SamplingSpec(sampler=sampler, steps=12, eta=eta or 0.0, seed=5, batch=3)
    parent = SamplingJob(model, spec).run()
    assert parent.stride == 1
    for k in ((0, 11) if sampler == "ddpm" else (5,)):
        same = SamplingJob(model, spec, parent=parent, branch_step=k).run()
        assert np.array_equal(same.final, parent.final), (sampler, k)
        for i in range(12):
            for kind in KINDS:
                assert np.array_equal(same.frames(i, kind), parent.frames(i, kind))
    branch = SamplingJob(model, SamplingSpec(sampler=sampler, steps=12, eta=eta or 0.0, seed=99, batch=3),
                         parent=parent, branch_step=6).run()
    for i in range(7):  # shares the steps before k; step k starts from the same x_k
        assert np.array_equal(branch.frames(i, "x_t"), parent.frames(i, "x_t"))
    if sampler != "dpmpp2m":  # the noise z differs from step k on
        assert all(not np.array_equal(branch.frames(i, "x_t"), parent.frames(i, "x_t")) for i in range(7, 12))
        assert not np.array_equal(branch.final, parent.final)


def test_branch_replays_from_sparse_checkpoints(model, monkeypatch):
    """With checkpoints only every few steps, branching still starts from the exact x_k, and
    the multistep solver's history is rebuilt (the branch reproduces the parent)."""
    spec = SamplingSpec(sampler="dpmpp2m", steps=15, seed=2, batch=2)
    monkeypatch.setattr("studio.engine.sampling.CHECKPOINT_BUDGET", 2 * 28 * 28 * 4 * 2 * 5)
    parent = SamplingJob(model, spec).run()
    assert parent.stride == 3 and sorted(parent.checkpoints) == list(range(0, 15, 3))
    for k in (4, 8, 13):
        branch = SamplingJob(model, spec, parent=parent, branch_step=k).run()
        assert np.array_equal(branch.final, parent.final)
        assert np.array_equal(branch.frames(k + 1, "x0"), parent.frames(k + 1, "x0"))
    # branch of a branch: another sampler from step 9 of a branch that started at 4
    child = SamplingJob(model, replace_seed(spec, 7, "ddim"), parent=parent, branch_step=4).run()
    grandchild = SamplingJob(model, replace_seed(spec, 7, "ddim"), parent=child, branch_step=9).run()
    assert np.array_equal(grandchild.final, child.final)
    assert np.array_equal(grandchild.frames(2, "x_t"), parent.frames(2, "x_t"))


def replace_seed(spec, seed, sampler):
    from dataclasses import replace
    return replace(spec, seed=seed, sampler=sampler)


def test_cancel_keeps_stored_steps_and_bad_specs_are_named(model):
    control = Control()
    traj = SamplingJob(model, SamplingSpec(steps=8, batch=1)).run(
        control, on_step=lambda i: control.stop() if i == 2 else None)
    assert traj.status == "cancelled" and traj.done == 3 and not traj.finished
    with pytest.raises(IndexError):
        traj.frames(3, "x0")
    with pytest.raises(ValueError, match="sampler"):
        SamplingJob(model, SamplingSpec(sampler="euler"))
    with pytest.raises(ValueError, match="batch"):
        SamplingJob(model, SamplingSpec(batch=17))
    with pytest.raises(ValueError, match=r"steps must be in 2\.\.50 for this model \(T = 50\), got 51"):
        SamplingJob(model, SamplingSpec(steps=51))
    with pytest.raises(ValueError, match="use at least 2"):
        SamplingJob(model, SamplingSpec(steps=1))
    with pytest.raises(ValueError, match=r"eta must be in 0\.\.1 .*got 5"):
        SamplingJob(model, SamplingSpec(sampler="ddim", eta=5.0))
    SamplingJob(model, SamplingSpec(sampler="dpmpp2m", steps=4, eta=5.0))  # η of another sampler: unused
    with pytest.raises(ValueError, match="unconditional"):
        SamplingJob(model, SamplingSpec(label=1))
    with pytest.raises(ValueError, match="stored step"):
        SamplingJob(model, SamplingSpec(steps=8, batch=1), parent=traj, branch_step=5)


def test_store_for_1000_steps_of_16_rgb_images_is_bounded():
    traj = Trajectory(SamplingSpec(steps=1000, batch=16), list(range(999, -1, -1)), (3, 32, 32))
    x = torch.zeros(16, 3, 32, 32)
    for i in range(0, 1000, traj.stride):  # as the job keeps them, with a multistep solver's history
        traj.checkpoints[i] = Checkpoint(x.clone(), {"history_x0": x.clone()}, torch.zeros(5056, dtype=torch.uint8))
    traj._store(999, x, x, x)  # the frame arrays are allocated up front: their size is final
    traj.final = traj.frames(999, "x0")
    assert traj.nbytes < 200 * 2 ** 20
    assert sum(c.x.nbytes * 2 for c in traj.checkpoints.values()) <= CHECKPOINT_BUDGET * 1.02


def test_forward_process_and_schedule(model):
    image = torch.linspace(-1, 1, 28 * 28).reshape(1, 28, 28)
    fp = forward_process(model, image, seed=0)
    T = model.num_train_timesteps
    assert fp.x_t.shape == (T + 1, 28, 28, 1)
    assert np.array_equal(fp.x_t[0], to_frames(image[None])[0])  # t = 0 is the image itself
    assert np.abs(fp.x_t[T].astype(int) - 127).mean() > np.abs(fp.x_t[1].astype(int) - fp.x_t[0]).mean()
    assert np.all(fp.scaled_noise[0] == 128)  # nothing added at t = 0
    curves = schedule_curves(model.noise_schedule)
    assert curves["alpha_bar"][0] == 1 and np.isnan(curves["log_snr"][0])
    assert np.all(np.diff(curves["alpha_bar"]) < 0) and np.all(np.diff(curves["log_snr"][1:]) < 0)
    np.testing.assert_allclose(curves["sigma"] ** 2 + curves["alpha_bar"], 1)


def test_exports(model, tmp_path):
    traj = SamplingJob(model, SamplingSpec(steps=5, batch=4)).run()
    grid = trajectory_grid(traj, "x0", columns=3, images=2)
    assert grid.shape == (2 + 2 * 30, 2 + 4 * 30, 1)  # 2 rows, 3 steps + the final sample
    frames = animation_frames(traj, "x_t", image=0, hold=2)
    assert len(frames) == 7 and frames[-1].shape == (28, 28, 1)
    for name in ("t.png", "t.gif"):
        assert export_trajectory(traj, tmp_path / name).stat().st_size > 0
    assert export_step(traj, 2, tmp_path / "s.png", image=1).is_file()
    from PIL import Image

    # big enough to show: one 28 px image is enlarged 10× (280 px), pixel-exact
    export_trajectory(traj, tmp_path / "one.gif", image=0)
    for name, size in (("one.gif", (280, 280)), ("s.png", None)):
        with Image.open(tmp_path / name) as im:
            assert im.height >= 256 and (size is None or im.size == size)


def test_conditional_model_labels_and_guidance():
    """Class and guidance reach the model: s = 0 is the unconditional ε, −1 gives one of each class."""
    from studio.engine.sampling import class_labels
    from studio.models import build_model

    torch.manual_seed(0)
    model = build_model("ddpm", {"base_channels": 8, "channel_mults": "1,2", "num_train_timesteps": 50,
                                 "attention": False, "class_conditional": True}, (1, 28, 28), 10).eval()
    assert model.capabilities.class_conditional
    base = SamplingSpec(sampler="ddim", steps=4, seed=1, batch=3)
    plain = SamplingJob(model, base).run()
    zero = SamplingJob(model, SamplingSpec(**{**base.__dict__, "label": 3, "guidance": 0.0})).run()
    np.testing.assert_allclose(zero.final.astype(int), plain.final.astype(int), atol=1)
    guided = SamplingJob(model, SamplingSpec(**{**base.__dict__, "label": -1, "guidance": 2.0})).run()
    assert guided.finished
    assert class_labels(model, guided.spec, "cpu").tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"label must be in -1\.\.9 \(or −1 for one of each\), got 10"):
        SamplingJob(model, SamplingSpec(label=10))


# --- studio sample / metrics.evaluate.generate: options, noise streams, bounded memory ------------
DEMO, DEMO_CFG, DEMO_VAE = (str(resource_path("models", name)) for name in
                             ("ddpm-fashion-mnist", "ddpm-cfg-fashion-mnist", "vae-fashion-mnist"))


@pytest.mark.parametrize("run, args, message", [
    (DEMO, ["--eta", "5"], "error: --eta must be in 0..1"),
    (DEMO, ["--eta", "nan"], "error: --eta must be in 0..1"),
    (DEMO, ["--sampler", "dpmpp2m", "--eta", "0.5"], "error: --eta applies only to ddim sampling; dpmpp2m has no η"),
    (DEMO, ["--sampler", "ddpm", "--eta", "0"], "ddpm has no η"),
    (DEMO, ["--sample-steps", "5000"], "error: --sample-steps must be in 2..1000 for this model (T = 1000), got 5000"),
    (DEMO, ["--sample-steps", "1"], "use at least 2"),
    (DEMO, ["--sampler", "euler"], "error: --sampler must be one of ddpm, ddim, dpmpp2m"),
    (DEMO, ["--guidance", "2"], "error: --guidance applies to class-conditional diffusion models"),
    (DEMO_CFG, ["--guidance", "100"], "error: --guidance must be in 0..20"),
    (DEMO_CFG, ["--guidance", "-1"], "error: --guidance must be in 0..20"),
    (DEMO_CFG, ["--class", "10"], "error: --class must be in 0..9, got 10"),
    (DEMO_VAE, ["--eta", "0.5"], "error: --eta applies to diffusion models; vae has no sampler"),
    (DEMO_VAE, ["--class", "3"], "error: --class is not taken: this vae model is unconditional"),
])
def test_cli_sample_options_are_checked_by_the_one_rule(tmp_path, capsys, run, args, message):
    from studio.cli import main

    out = tmp_path / "grid.png"
    assert main(["sample", run, "--n", "2", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --") and message in err, err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_option_ranges_come_from_the_config_metadata_and_the_schedulers():
    from studio.engine.sampling import option_ranges

    cfg = load_model(Run.open(DEMO_CFG))
    assert option_ranges(cfg) == {"steps": (2, 1000), "eta": (0.0, 1.0), "guidance": (0.0, 20.0)}
    assert option_ranges(load_model(Run.open(DEMO_VAE))) == {}


class _NoiseSpy:
    """Records x_T handed to DDPM.sample / SamplingJob and every per-step z a scheduler draws."""

    def __init__(self, monkeypatch):
        from studio.models.ddpm import DDPM
        from studio.schedulers.schedule import Scheduler

        self.x_T, self.z = [], []
        noise_like, sample = Scheduler._noise_like, DDPM.sample

        def spy_noise(sample_, generator, noise):
            z = noise_like(sample_, generator, noise)
            self.z.append(z.clone())
            return z

        def spy_sample(model, n, noise=None, *args, **kwargs):
            self.x_T.append(noise.clone())
            return sample(model, n, noise, *args, **kwargs)

        monkeypatch.setattr(Scheduler, "_noise_like", staticmethod(spy_noise))
        monkeypatch.setattr(DDPM, "sample", spy_sample)

    def assert_apart(self):
        assert self.x_T and self.z
        x, z = self.x_T[0].flatten(), self.z[0].flatten()
        assert x.shape == z.shape and not torch.allclose(x, z)
        assert abs(torch.corrcoef(torch.stack([x, z]))[0, 1].item()) < 0.1  # independent streams


def test_generate_keeps_x_T_and_the_step_noise_apart(model, monkeypatch):
    from studio.metrics.evaluate import generate

    spy = _NoiseSpy(monkeypatch)
    images = generate(model, 6, seed=0, sampler="ddpm", steps=5)
    assert images.dtype == torch.uint8 and images.shape == (6, 1, 28, 28)
    spy.assert_apart()
    # the same seed gives the same images
    assert torch.equal(generate(model, 6, seed=0, sampler="ddpm", steps=5), images)


def test_cli_sample_keeps_x_T_and_the_step_noise_apart(trained_run, tmp_path, monkeypatch):
    from studio.cli import main

    spy = _NoiseSpy(monkeypatch)
    out = tmp_path / "g.png"
    assert main(["sample", trained_run("ddpm"), "--n", "3", "--out", str(out), "--sampler", "ddim",
                 "--eta", "1", "--sample-steps", "4", "--scale", "1"]) == 0
    spy.assert_apart()
    assert np.asarray(Image.open(out)).shape == (2 + 2 * 30, 2 + 2 * 30)


def test_the_viewer_job_keeps_x_T_and_the_step_noise_apart(model, monkeypatch):
    spy = _NoiseSpy(monkeypatch)
    job = SamplingJob(model, SamplingSpec(sampler="ddpm", steps=4, seed=0, batch=2))
    spy.x_T.append(job.x.clone())
    job.run()
    spy.assert_apart()


def test_draw_button_keeps_x_T_and_the_step_noise_apart(trained_run, monkeypatch):
    from studio.engine.drawing import draw_samples

    spy = _NoiseSpy(monkeypatch)
    draw_samples(trained_run("ddpm"), n=2, seed=0)
    spy.assert_apart()


def test_generate_batches_are_bounded_and_add_up_to_generate(model, monkeypatch):
    from studio.metrics.evaluate import generate, generate_batches
    from studio.models.ddpm import DDPM

    sizes, sample = [], DDPM.sample
    monkeypatch.setattr(DDPM, "sample", lambda m, n, *a, **k: sizes.append(n) or sample(m, n, *a, **k))
    batches = list(generate_batches(model, 7, seed=1, batch=3, steps=2))
    assert sizes == [3, 3, 1] and [len(b) for b in batches] == [3, 3, 1]
    assert torch.equal(torch.cat(batches), generate(model, 7, seed=1, batch=3, steps=2))


def test_grid_png_written_row_by_row_equals_the_whole_grid_and_stays_small(tmp_path):
    import tracemalloc

    from studio.imaging import make_grid, save_grid_png, save_png

    g = torch.Generator().manual_seed(0)
    for n, c, scale in [(1, 1, 1), (7, 3, 2), (10, 1, 3)]:
        images = torch.randint(0, 256, (n, c, 5, 4), generator=g, dtype=torch.uint8)
        batches = (images[i:i + 3].numpy() for i in range(0, n, 3))
        save_grid_png(batches, n, tmp_path / "rows.png", scale=scale)
        save_png(make_grid(images.float() / 127.5 - 1), tmp_path / "whole.png", scale=scale)
        assert np.array_equal(np.asarray(Image.open(tmp_path / "rows.png")),
                              np.asarray(Image.open(tmp_path / "whole.png"))), (n, c, scale)
    # 10,000 images of 28×28 at scale 2: a 6,004² grid of 36 MB, written holding a band at a time
    n, batch = 10_000, 250
    tile = np.full((batch, 1, 28, 28), 200, np.uint8)
    tracemalloc.start()
    save_grid_png((tile for _ in range(n // batch)), n, tmp_path / "big.png", scale=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert Image.open(tmp_path / "big.png").size == (6004, 6004)
    assert peak < 3e6, peak  # < a tenth of the grid
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert (tmp_path / "big.png").stat().st_mode & 0o777 == (tmp_path / "whole.png").stat().st_mode & 0o777
