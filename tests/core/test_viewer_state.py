"""The Diffusion viewer's Qt-free state and sampling job, without a window."""

from __future__ import annotations

import pytest
import torch

from studio.engine import Control, RecordingReporter
from studio.engine.jobs import run_job
from studio.engine.sampling import SamplingJob, SamplingSpec
from studio.engine.viewer import ViewerState, sampling_job
from studio.models import build_model
from tests.conftest import TINY_OPTIONS


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("ddpm", TINY_OPTIONS["ddpm"],
                       (1, 28, 28)).eval()


def _spec(**kw):
    return SamplingSpec(**{"sampler": "ddim", "steps": 6, "seed": 0, "batch": 2, **kw})


def test_a_run_reports_every_trajectory_and_returns_them(model):
    reporter = RecordingReporter()
    outcome = run_job(sampling_job(lambda: [SamplingJob(model, _spec())]), reporter)
    (traj,) = outcome.result
    assert outcome.status == "finished" and traj.finished and traj.done == 6 and traj.seconds > 0
    assert [p.step for p in reporter.progresses] == list(range(1, 7))
    assert all(index == 0 and t is traj for index, t in reporter.partials)


def test_a_cancel_between_steps_keeps_the_steps_so_far(model):
    control = Control()
    reporter = RecordingReporter()
    reporter.progress = lambda p: control.cancel() if p.step == 2 else None
    outcome = run_job(sampling_job(lambda: [SamplingJob(model, _spec()), SamplingJob(model, _spec())]),
                      reporter, control)
    (traj,) = outcome.result  # the second job never started
    assert outcome.status == "cancelled" and traj.status == "cancelled" and traj.done == 2


def test_the_state_follows_the_newest_step_until_the_user_scrubs_back(model):
    state, events = ViewerState(), []
    state.connect(events.append)
    state.set_model(model, {"data": "x"})
    state.begin("run")
    job = SamplingJob(model, _spec())
    steps = job.steps()
    next(steps)
    state.stored(0, job.trajectory)
    assert events == ["model", "busy", "trajectory", "stored", "step"] and state.step == 0
    next(steps), next(steps)
    state.stored(0, job.trajectory)
    assert state.step == 2 and state.follow and state.announced == 3
    state.set_step(1)  # scrubbed back: stop following
    assert not state.follow
    next(steps)
    state.stored(0, job.trajectory)
    assert state.step == 1 and state.announced == 4
    state.set_step(10)  # to the end (clipped to what was announced): follow again
    assert state.step == 3 and state.follow
    assert state.step_caption().startswith("step 4 / 6")
    state.end()
    assert state.can_branch


def test_a_branch_and_a_comparison_fill_the_pair(model):
    state = ViewerState()
    state.set_model(model, {})
    original = run_job(sampling_job(lambda: [SamplingJob(model, _spec())])).result[0]
    state.begin("branch")
    branch = SamplingJob(model, _spec(seed=5), parent=original, branch_step=3).trajectory
    state.stored(0, branch)
    assert state.pair == [original, branch] and state.pair_titles[1] == "Branch from step 4"
    state.begin("compare")
    a, b = SamplingJob(model, _spec()).trajectory, SamplingJob(model, _spec(sampler="ddpm")).trajectory
    state.stored(1, b)  # a quick job's first report can be missed: the result fills it in
    state.stored(0, a)
    assert state.pair == [a, b] and state.pair_titles == ("A", "B")
    with pytest.raises(ValueError):
        state.begin("paint")


def test_another_model_clears_the_views_and_ignores_the_old_jobs_reports(model):
    """A model opened while a run samples: the old frames go and the run's late reports do not
    come back under the new model (its Branch would have used the old trajectory)."""
    state = ViewerState()
    state.set_model(model, {})
    (traj,) = run_job(sampling_job(lambda: [SamplingJob(model, _spec())])).result
    state.begin("run")
    state.stored(0, traj)
    assert state.trajectory is traj and state.announced == 6
    state.set_model(None, {})  # another model is being opened
    assert state.trajectory is None and state.announced == 0 and state.stale and state.branch_refusal(0)
    state.stored(0, traj)  # the cancelled job's last report
    state.end()
    state.set_model(model, {})
    assert state.trajectory is None and not state.can_branch
    state.begin("run")  # a new job of the new model is heard again
    state.stored(0, traj)
    assert state.trajectory is traj and not state.stale


def test_branch_is_refused_at_the_last_step(model):
    state = ViewerState()
    state.set_model(model, {})
    assert state.branch_refusal(0).startswith("Run first")
    (traj,) = run_job(sampling_job(lambda: [SamplingJob(model, _spec())])).result
    state.begin("run")
    state.stored(0, traj)
    state.end()
    assert state.step == 5 and state.branch_refusal(5).startswith("Step 6 is the last")
    assert state.branch_refusal(4) == "" and state.can_branch
