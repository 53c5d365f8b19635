"""The Edit page's Qt-free state (studio.editing.session) and the viewer's edit mode, without a window."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.editing import InpaintJob, SDEditJob, repaint_path
from studio.editing.picture import named_mask, to_pixels
from studio.editing.session import FIELD_NAMES, EditSession, PictureSource, fit_source, tint
from studio.engine import Control, RecordingReporter
from studio.engine.jobs import run_job
from studio.engine.sampling import SamplingJob, SamplingSpec
from studio.engine.viewer import ViewerState, sampling_job
from studio.errors import SpecError
from studio.imaging import tile
from studio.models import build_model
from tests.conftest import TINY_OPTIONS


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("ddpm", TINY_OPTIONS["ddpm"], (1, 28, 28)).eval()


def _spec(**kw):
    return SamplingSpec(**{"sampler": "ddim", "steps": 8, "eta": 1.0, "seed": 0, "batch": 2, **kw})


def _session(model) -> EditSession:
    session = EditSession()
    session.set_model(model)
    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 8:20] = 200  # a bright block on black
    source = PictureSource("pixels", pixels, "a block")
    session.set_picture(source, fit_source(source, session.image_shape, "crop"))
    return session


def test_tint_marks_the_mask_in_one_picture_and_in_a_grid_and_leaves_the_rest():
    mask = np.zeros((4, 4), bool)
    mask[:, 2:] = True
    one = np.array([0, 128, 255, 0], np.uint8)[None, :, None].repeat(4, 0)  # (4, 4, 1)
    out = tint(one, mask, 1, color=(100, 50, 200), alpha=0.5)
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    assert np.array_equal(out[:, :2], np.repeat(one[:, :2], 3, axis=2))  # kept pixels as they are
    assert out[0, 2].tolist() == [255, 255, 255]  # white stays white (screen blend)
    assert out[0, 3].tolist() == [50, 25, 100]  # black takes α·colour
    grid = tile(np.stack([one, one, one]))  # 3 pictures in 2 columns, 2-pixel grey gaps
    tinted = tint(grid, mask, 3, color=(100, 50, 200), alpha=0.5)
    changed = np.argwhere(np.any(tinted != np.repeat(grid, 3, axis=2), axis=2))
    # each picture's column 3 (black, masked; column 2 is white): x = 2 + 3 and 8 + 3 in the first row
    # of pictures (y 2..5), x = 5 in the second (y 8..11); the gaps are untouched
    expected = [(y, x) for y in range(2, 6) for x in (5, 11)] + [(y, 5) for y in range(8, 12)]
    assert sorted(map(tuple, changed.tolist())) == sorted(expected)
    with pytest.raises(ValueError, match="does not fit"):
        tint(grid, mask, 5)  # 5 pictures make a 3-column grid


def test_the_brush_paints_disks_and_gapless_strokes_and_erases(model):
    session = EditSession()
    session.set_model(model)
    events = []
    session.connect(events.append)
    session.paint(10.5, 10.5, 1)
    assert session.mask.sum() == 1 and session.mask[10, 10] and events == ["mask"]
    session.clear_mask()
    session.paint(10.0, 10.0, 4)  # pixel centres within 2 px of (10, 10)
    yy, xx = np.mgrid[0:28, 0:28]
    assert np.array_equal(session.mask, (xx + 0.5 - 10) ** 2 + (yy + 0.5 - 10) ** 2 <= 4)
    session.clear_mask()
    session.paint(2.5, 2.5, 1)
    session.paint(20.5, 2.5, 1, start=False)  # a fast drag: the stroke is filled in between
    assert session.mask[2, 2:21].all() and session.mask.sum() == 19
    session.paint(10.5, 2.5, 1, value=False)  # erase one pixel
    assert not session.mask[2, 10] and session.mask.sum() == 18
    before = session.mask.copy()
    session.invert_mask()
    assert np.array_equal(session.mask, ~before)
    session.set_named_mask("right")
    assert np.array_equal(session.mask, named_mask("right", 28)[0, 0].numpy() > 0)
    count = len(events)
    session.paint(27.5, 27.5, 1)  # already regenerated: nothing changes, no event
    assert len(events) == count


def test_a_new_model_keeps_the_mask_at_the_same_resolution_and_refits_the_picture(model):
    session = _session(model)
    session.set_named_mask("left")
    session.set_method("inpaint")
    session.set_model(model)
    assert session.mask.sum() == 28 * 14 and session.picture is None and session.needs_fit
    big = build_model("ddpm", TINY_OPTIONS["ddpm"], (3, 32, 32))
    session.set_method("swap")  # the method falls back when the model cannot swap classes
    session.set_model(big)
    assert session.method == "img2img"  # a preset is made again at the new size (a painted mask: below)
    assert np.array_equal(session.mask, named_mask("left", 32)[0, 0].numpy() > 0)
    assert session.num_classes == 0 and session.image_shape == (3, 32, 32)
    with pytest.raises(SpecError, match=r"must be fitted to \(3, 32, 32\)"):
        session.set_picture(PictureSource("pixels", np.zeros((5, 5), np.uint8), "x"), torch.zeros(1, 1, 28, 28))
    session.paint(30.5, 1.5, 1)
    session.set_model(model)
    assert session.mask.shape == (28, 28) and not session.mask.any()


def test_jobs_are_made_from_the_picture_the_method_and_the_viewers_spec(model):
    session = EditSession()
    session.set_model(model)
    with pytest.raises(SpecError) as info:
        session.job(model, _spec())
    assert info.value.worded(FIELD_NAMES).startswith("The picture comes first: drop a file")
    session = _session(model)
    session.set(strength=0.5)
    job = session.job(model, _spec())
    assert isinstance(job, SDEditJob) and job.trajectory.n == session.evaluations(8) == 4
    assert session.is_edit(job.trajectory) and session.edit_mask is None
    session.set_method("inpaint")
    with pytest.raises(SpecError) as info:
        session.job(model, _spec())
    assert info.value.worded(FIELD_NAMES).startswith("The mask is empty")
    session.set_named_mask("top")
    session.set(jump_length=2, resample=3)
    job = session.job(model, _spec())
    path = repaint_path(8, 2, 3)
    assert isinstance(job, InpaintJob) and job.trajectory.n == session.evaluations(8) == sum(
        b == a + 1 for a, b in zip(path, path[1:]))
    assert np.array_equal(session.edit_mask, session.mask)
    session.paint(1, 27, 3)  # painting on after the edit started does not change the edit's mask
    assert not np.array_equal(session.edit_mask, session.mask)
    session.set(jump_length=20)
    assert session.evaluations(8) == 0
    with pytest.raises(SpecError, match=r"jump_length must be in 1\.\.8"):
        session.job(model, _spec())
    with pytest.raises(ValueError, match="unknown settings"):
        session.set(colour=3)
    with pytest.raises(ValueError, match="unknown method"):
        session.set_method("outpaint")


def test_an_edit_in_the_viewer_is_its_main_trajectory_branchable_unless_inpainted(model):
    session, state = _session(model), ViewerState()
    state.set_model(model, {})
    session.set(strength=0.5)
    edit = session.job(model, _spec())
    state.begin("edit")
    (traj,) = run_job(sampling_job(lambda: [edit])).result
    state.stored(0, traj)
    state.end()
    assert state.trajectory is traj and state.mode == "edit" and state.can_branch and state.branch_note == ""
    # the branch continues on the edit's own (tail of the) grid: unchanged settings reproduce it
    branch = session.branch_job(model, _spec(), traj, 2)
    assert isinstance(branch, SDEditJob) and branch.trajectory.timesteps == traj.timesteps
    branch.run()
    for i in range(traj.n):
        assert np.array_equal(branch.trajectory.frames(i, "x_t"), traj.frames(i, "x_t"))
    plain = run_job(sampling_job(lambda: [SamplingJob(model, _spec())])).result[0]
    assert isinstance(session.branch_job(model, _spec(), plain, 1), SamplingJob)

    session.set_method("inpaint")
    session.set_named_mask("centre")
    session.set(jump_length=2, resample=2)
    state.begin("edit")
    result = session.job(model, _spec())(RecordingReporter(), Control())
    state.stored(0, result.trajectory)
    state.end()
    assert not state.can_branch and "Inpainting cannot be branched" in state.branch_note
    with pytest.raises(ValueError, match="no checkpoints"):
        session.branch_job(model, _spec(), result.trajectory, 1)
    kept = ~session.edit_mask
    before, after = to_pixels(session.picture)[0][..., 0], result.trajectory.final[:, :, :, 0]
    assert all(np.abs(before[kept].astype(int) - a[kept]).max() <= 1 for a in after)


def _other_picture(session, name="another", fit="crop"):
    pixels = np.full((28, 28), 90, np.uint8)
    source = PictureSource("pixels", pixels, name)
    return source, fit_source(source, session.image_shape, fit)


def test_a_new_picture_drops_the_old_pictures_edit_and_painted_mask_and_keeps_a_preset(model):
    """Tester F8: a new picture kept the old one's x_t / x̂₀ ("the result") and painted mask."""
    session = _session(model)
    session.set_method("inpaint")
    session.paint(5.5, 5.5, 3)
    job = session.job(model, _spec())
    assert session.trajectory is job.trajectory and session.edit_mask is not None
    dropped = session.set_picture(*_other_picture(session))
    assert dropped is job.trajectory  # the page cancels it if it still runs
    assert session.trajectory is None and session.edit_mask is None and not session.is_edit(job.trajectory)
    assert not session.mask.any() and session.mask.shape == (28, 28)  # painted on the old picture: gone
    assert session.set_picture(*_other_picture(session)) is None  # nothing left to drop

    session.set_named_mask("right")  # a preset fits any picture: kept
    assert session.mask_preset == "right"
    session.job(model, _spec())
    source, picture = _other_picture(session, "third")
    session.set_picture(source, picture)
    assert np.array_equal(session.mask, named_mask("right", 28)[0, 0].numpy() > 0) and session.trajectory is None
    session.paint(20.5, 3.5, 1, value=False)  # touched by the brush: a painted mask now
    assert session.mask_preset == ""
    painted = session.mask.copy()

    session.job(model, _spec())  # the same picture fitted again for another model of that size keeps its mask
    session.set_model(model)
    assert session.needs_fit and session.trajectory is None
    assert session.set_picture(source, picture) is None and np.array_equal(session.mask, painted)
    session.job(model, _spec())
    assert session.set_fit("pad")  # fitted another way: the content moved, the painted mask and edit go
    assert session.set_picture(source, fit_source(source, session.image_shape, "pad")) is not None
    assert not session.mask.any()


def test_forget_edit_clears_the_viewer_and_ignores_the_running_edit(model):
    session = _session(model)
    state, events = ViewerState(), []
    state.set_model(model, {})
    state.connect(events.append)
    job = session.job(model, _spec())
    state.begin("edit")
    state.stored(0, job.trajectory)
    assert state.trajectory is job.trajectory
    events.clear()
    state.forget_edit(session.set_picture(*_other_picture(session)))
    assert state.trajectory is None and state.stale and events == ["cleared"]
    state.stored(0, job.trajectory)  # its late reports
    assert state.trajectory is None
    state.end()
    state.forget_edit(None)  # nothing dropped: nothing changes
    assert events == ["cleared", "busy"]
