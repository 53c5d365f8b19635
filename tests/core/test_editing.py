"""Editing your own pictures: bringing a picture in, SDEdit / class swap and RePaint inpainting."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import to_uint8
from studio.data.decode import decode_image
from studio.editing import (InpaintJob, SDEditJob, class_swap_job, fit_array, load_mask, load_picture,
                            repaint_path)
from studio.editing import picture as picture_module
from studio.editing.diffusion import step_frames
from studio.engine import Control
from studio.engine.jobs import run_job
from studio.engine.reporting import RecordingReporter
from studio.engine.sampling import KINDS, SamplingJob, SamplingSpec, to_frames
from studio.errors import Cancelled, SpecError
from studio.runs import Run, load_model

GRAY = (1, 28, 28)


# --- bringing a picture in --------------------------------------------------------------------------
def _wide_picture(path, mode="RGB"):
    """90 × 30: a red left third, a green middle third, a blue right third; black border rows."""
    a = np.zeros((30, 90, 3), np.uint8)
    a[:, :30, 0] = a[:, 30:60, 1] = a[:, 60:, 2] = 255
    a[0] = a[-1] = 0
    Image.fromarray(a).convert(mode).save(path)
    return path


def test_crop_keeps_the_centre_and_pad_keeps_the_whole_picture(tmp_path):
    path = _wide_picture(tmp_path / "wide.png")
    crop = load_picture(path, (3, 16, 16), "crop")
    pad = load_picture(path, (3, 16, 16), "pad")
    assert crop.shape == pad.shape == (1, 3, 16, 16) and crop.dtype == torch.float32
    assert crop.min() >= -1 and crop.max() <= 1
    mid = to_uint8(crop)[0, :, 8]  # the middle row
    assert mid[1].min() > 240 and mid[0].max() < 15 and mid[2].max() < 15  # the crop is the green middle
    padded = to_uint8(pad)[0]
    assert padded[0, 8, 1] > 200 and padded[2, 8, 14] > 200 and padded[1, 8, 8] > 200  # red, green, blue
    assert padded[:, 0, 8].max() < 10 and padded[:, 15, 8].max() < 10  # padded with the border's black
    # the decoder's "contain" fit: the longer side to R, the aspect kept
    assert decode_image(path, 16, fit="contain").shape == (5, 16, 3)
    assert decode_image(path, 16).shape == (16, 16, 3)


def test_transparency_goes_on_white_and_colour_to_grey(tmp_path):
    a = np.zeros((20, 20, 4), np.uint8)
    a[5:15, 5:15] = (0, 0, 0, 255)  # an opaque black square on a transparent field
    Image.fromarray(a, "RGBA").save(tmp_path / "clear.png")
    x = to_uint8(load_picture(tmp_path / "clear.png", GRAY))[0, 0]
    assert x.shape == (28, 28) and x[0, 0] == 255 and x[14, 14] == 0
    # the same pixels pasted from memory give the same picture (up to rounding)
    assert (to_uint8(fit_array(a, GRAY))[0, 0].int() - x.int()).abs().max() <= 2
    Image.new("RGB", (10, 10), (255, 0, 0)).save(tmp_path / "red.png")
    assert to_uint8(load_picture(tmp_path / "red.png", GRAY)).unique().tolist() == [76]  # ITU-R 601 luma
    assert fit_array(np.full((5, 9), 200, np.uint8), (3, 8, 8), "pad").shape == (1, 3, 8, 8)


@pytest.mark.parametrize("case,match", [
    ("missing", "does not exist"), ("empty", "empty"), ("text", "not a readable image"),
    ("folder", "not a regular file"), ("huge", "megapixels"), ("truncated", "truncated|corrupt"),
])
def test_bad_picture_files_are_one_clear_error(tmp_path, monkeypatch, case, match):
    path = tmp_path / "picture.png"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("not an image")
    elif case == "folder":
        path.mkdir()
    elif case == "huge":
        Image.new("L", (300, 200)).save(path)
        monkeypatch.setattr(picture_module, "MAX_PIXELS", 300 * 200 - 1)  # the bound, scaled down
    elif case == "truncated":
        Image.effect_noise((64, 64), 50).save(path)
        path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(SpecError, match=match) as info:
        load_picture(path, GRAY)
    assert info.value.field == "image" and "\n" not in str(info.value)


def test_bad_in_memory_pictures_and_fits_are_refused():
    with pytest.raises(SpecError, match="fit must be one of crop, pad"):
        fit_array(np.zeros((4, 4), np.uint8), GRAY, "stretch")
    with pytest.raises(SpecError, match="uint8"):
        fit_array(np.zeros((4, 4), np.float32), GRAY)
    with pytest.raises(SpecError, match="1 to"):
        fit_array(np.zeros((0, 4), np.uint8), GRAY)


def test_masks_from_files_names_and_inversion(tmp_path):
    a = np.zeros((28, 28), np.uint8)
    a[:, 14:] = 255
    Image.fromarray(a).save(tmp_path / "mask.png")
    m = load_mask(tmp_path / "mask.png", GRAY)
    assert m.shape == (1, 1, 28, 28) and set(m.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(m, load_mask("right", GRAY))
    assert torch.equal(load_mask("right", GRAY, invert=True), load_mask("left", GRAY))
    assert load_mask("centre", GRAY).mean().item() == pytest.approx(0.25)
    Image.fromarray(np.full((10, 40), 255, np.uint8)).save(tmp_path / "wide.png")
    padded = load_mask(tmp_path / "wide.png", GRAY, fit="pad")
    assert padded[0, 0, 0].sum() == 0 and padded[0, 0, 14].sum() == 28  # the padding is kept, not regenerated
    with pytest.raises(SpecError, match="mask middle is neither an image file nor one of left, right") as info:
        load_mask("middle", GRAY)
    assert info.value.field == "mask"


# --- SDEdit and class swap ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ddpm(trained_run):
    return load_model(Run.open(trained_run("ddpm")))


def _garments(n=2):
    from studio.data import load_dataset, to_unit_range

    return to_unit_range(load_dataset("fashion-mnist-5k", split="test").images[:n])


def test_strength_0_returns_the_picture_exactly_and_1_is_plain_sampling(ddpm):
    x = _garments(1)
    spec = SamplingSpec(sampler="ddim", steps=10, eta=1.0, seed=4, batch=3)
    none = SDEditJob(ddpm, x, spec, 0.0)(RecordingReporter(), Control())
    assert none.trajectory.n == 0 and torch.equal(none.images, x.expand(3, -1, -1, -1))
    assert np.array_equal(none.trajectory.final, to_frames(x.expand(3, -1, -1, -1)))
    full = SDEditJob(ddpm, x, spec, 1.0)(RecordingReporter(), Control())
    plain = SamplingJob(ddpm, spec).run()
    assert np.array_equal(full.trajectory.final, plain.final)
    for i in range(10):
        for kind in KINDS:
            assert np.array_equal(full.trajectory.frames(i, kind), plain.frames(i, kind))


@pytest.mark.parametrize("sampler", ["ddim", "ddpm", "dpmpp2m"])
def test_an_edit_starts_from_the_noised_picture_at_t0(ddpm, sampler):
    x = _garments(1)
    spec = SamplingSpec(sampler=sampler, steps=10, eta=1.0, seed=2, batch=2)
    job = SDEditJob(ddpm, x, spec, 0.4)
    plain = SamplingJob(ddpm, spec)
    assert job.trajectory.timesteps == plain.trajectory.timesteps[6:]  # the last 4 of 10 steps
    t0 = job.trajectory.timesteps[0]
    # x_{t₀} = √ᾱ x + √(1 − ᾱ) ε with ε the x_T that plain sampling would start from
    a = ddpm.noise_schedule.alphas_cumprod[t0].item()
    torch.testing.assert_close(job.x, math.sqrt(a) * x + math.sqrt(1 - a) * plain.x)
    result = job(RecordingReporter(), Control())
    assert result.images.shape == (2, *GRAY) and result.images.abs().max() <= 1


def test_an_edit_is_a_job_that_reports_every_step_and_cancels(ddpm):
    x = _garments(1)
    spec = SamplingSpec(sampler="ddim", steps=10, seed=0, batch=1)
    reporter = RecordingReporter()
    outcome = run_job(SDEditJob(ddpm, x, spec, 0.5), reporter)
    assert outcome.status == "finished" and outcome.result.trajectory.finished
    assert [p.step for p in reporter.progresses] == [1, 2, 3, 4, 5] and reporter.progresses[-1].total == 5
    assert [s for s, _ in reporter.previews] == list(range(5))
    assert set(reporter.previews[0][1]) == set(KINDS) and reporter.previews[0][1]["x0"].shape == (1, 28, 28, 1)
    assert "SDEdit at strength 0.5" in reporter.messages[0]

    control = Control()

    class StopAfterTwo(RecordingReporter):
        def preview(self, step, value):
            super().preview(step, value)
            if step == 1:
                control.cancel()

    job = SDEditJob(ddpm, x, spec, 0.5)
    assert run_job(job, StopAfterTwo(), control).status == "cancelled"
    assert job.trajectory.status == "cancelled" and job.trajectory.done == 2  # what was done is kept


def test_an_edit_branches_like_sampling(ddpm):
    x = _garments(1)
    spec = SamplingSpec(sampler="dpmpp2m", steps=12, seed=1, batch=2)
    parent = SDEditJob(ddpm, x, spec, 0.5)(RecordingReporter(), Control()).trajectory
    same = SDEditJob(ddpm, x, spec, 0.5, parent=parent, branch_step=3)(RecordingReporter(), Control()).trajectory
    assert same.timesteps == parent.timesteps and np.array_equal(same.final, parent.final)
    other = SDEditJob(ddpm, x, SamplingSpec(sampler="ddpm", steps=12, seed=9, batch=2), 0.5, parent=parent,
                      branch_step=3)(RecordingReporter(), Control()).trajectory
    assert np.array_equal(other.frames(3, "x_t"), parent.frames(3, "x_t"))
    assert not np.array_equal(other.final, parent.final)


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan")])
def test_strength_outside_0_1_is_refused(ddpm, strength):
    with pytest.raises(SpecError, match=r"^strength must be in \[0, 1\]") as info:
        SDEditJob(ddpm, _garments(1), SamplingSpec(steps=10, batch=1), strength)
    assert info.value.field == "strength"


def test_edits_need_a_diffusion_model_and_the_right_picture(trained_run, ddpm):
    ae = load_model(Run.open(trained_run("autoencoder")))
    with pytest.raises(SpecError, match=r"run \(autoencoder\) has no denoising steps") as info:
        SDEditJob(ae, _garments(1), SamplingSpec(batch=1), 0.5)
    assert info.value.field == "run"
    with pytest.raises(SpecError, match=r"image must be \(1 or 2, 1, 28, 28\)"):
        SDEditJob(ddpm, torch.zeros(1, 3, 28, 28), SamplingSpec(steps=10, batch=2), 0.5)
    with pytest.raises(SpecError, match="label applies to class-conditional models; this ddpm is unconditional"):
        class_swap_job(ddpm, _garments(1), 3)


def test_class_swap_denoises_towards_the_target_class(trained_run):
    model = load_model(Run.open(trained_run("ddpm", options={"class_conditional": True})))
    job = class_swap_job(model, _garments(1), 3, strength=0.6, spec=SamplingSpec(steps=10, batch=2))
    assert job.labels.tolist() == [3, 3] and job.spec.guidance == model.config.guidance_scale
    assert job(RecordingReporter(), Control()).trajectory.finished
    with pytest.raises(SpecError, match=r"label must be in 0\.\.9, got 10"):
        class_swap_job(model, _garments(1), 10)


# --- RePaint ------------------------------------------------------------------------------------------
def test_the_repaint_schedule_matches_the_papers():
    # Lugmayr et al.'s get_schedule_jump(t_T=4, jump_length=2, jump_n_sample=2) visits 3 2 1 0 1 2 1 0 −1
    assert repaint_path(4, 2, 2) == [0, 1, 2, 3, 2, 1, 2, 3, 4]
    assert repaint_path(6, 3, 1) == list(range(7))  # resample 1: no jumps
    path = repaint_path(50, 5, 5)
    downs = sum(b == a + 1 for a, b in zip(path, path[1:]))
    assert downs == 50 + 4 * 5 * 9 and path[-1] == 50 and all(abs(b - a) == 1 for a, b in zip(path, path[1:]))


def test_inpainting_keeps_the_unmasked_pixels_and_regenerates_the_rest(ddpm):
    x = _garments(2)
    mask = load_mask("right", GRAY)
    spec = SamplingSpec(sampler="ddim", steps=10, eta=1.0, seed=0, batch=2)
    reporter = RecordingReporter()
    job = InpaintJob(ddpm, x, mask, spec, jump_length=2, resample=3)
    result = job(reporter, Control())
    n = len([1 for a, b in zip(job.path, job.path[1:]) if b == a + 1])
    assert result.trajectory.n == n == len(reporter.previews) and result.trajectory.finished
    kept = mask.expand(2, 1, 28, 28) == 0
    before, after = to_uint8(x), to_uint8(result.images)
    assert (before[kept].int() - after[kept].int()).abs().max() <= 1  # within the quantisation step
    assert (before[~kept].int() - after[~kept].int()).abs().float().mean() > 5  # regenerated
    assert np.array_equal(result.trajectory.final, to_frames(result.images))
    assert step_frames(result.trajectory, 0)["x_t"].shape == (2, 28, 28, 1)


def test_inpainting_settings_are_checked(ddpm, monkeypatch):
    x, spec = _garments(1), SamplingSpec(steps=10, batch=1)
    with pytest.raises(SpecError, match="^mask is empty"):
        InpaintJob(ddpm, x, torch.zeros(1, 1, 28, 28), spec)
    with pytest.raises(SpecError, match="only 0 \\(keep\\) and 1"):
        InpaintJob(ddpm, x, torch.full((1, 1, 28, 28), 0.5), spec)
    with pytest.raises(SpecError, match=r"\(1, 1, 28, 28\)"):
        InpaintJob(ddpm, x, torch.ones(1, 1, 14, 14), spec)
    with pytest.raises(SpecError, match=r"jump_length must be in 1\.\.10") as info:
        InpaintJob(ddpm, x, load_mask("left", GRAY), spec, jump_length=0)
    assert info.value.field == "jump_length"
    monkeypatch.setattr("studio.editing.diffusion.MAX_FRAME_BYTES", 28 * 28 * 3 * 20)
    with pytest.raises(SpecError, match="MB of frames") as info:
        InpaintJob(ddpm, x, load_mask("left", GRAY), spec, jump_length=2, resample=3)
    assert info.value.field == "resample"


def test_inpainting_cancels_between_steps(ddpm):
    control = Control()
    control.cancel()
    job = InpaintJob(ddpm, _garments(1), load_mask("left", GRAY), SamplingSpec(steps=10, batch=1), 2, 2)
    with pytest.raises(Cancelled):
        job(RecordingReporter(), control)
    assert job.trajectory.status == "cancelled" and job.trajectory.done == 1
