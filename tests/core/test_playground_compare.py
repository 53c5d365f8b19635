"""Two families on the same data as one job (``PlaygroundPair``), and the bounded frame recorder
the GIF export draws from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.engine.jobs import run_job
from studio.engine.reporting import RecordingReporter
from studio.errors import SpecError
from studio.playground import PlaygroundJob, PlaygroundSpec, make_dataset
from studio.playground.compare import FramePair, PlaygroundPair, split_metrics
from studio.playground.recording import FrameRecorder
from studio.playground.state import PlaygroundState


_THREADS = torch.get_num_threads()


def setup_module():  # one torch thread, like the page's job (equal losses need equal threads)
    torch.set_num_threads(1)


def teardown_module():
    torch.set_num_threads(_THREADS)


def pair(a="autoregressive", b="flow-matching", **spec):
    fields = dict(dataset="spiral", points=300, steps_per_frame=3, max_steps=9, max_fps=1000, seed=4)
    return PlaygroundPair(PlaygroundSpec(family=a, **{**fields, **spec}),
                          PlaygroundSpec(family=b, options={"hidden": 16}, dataset="rings", seed=99, points=50))


def test_a_pair_trains_both_families_on_the_first_ones_data_and_reports_both():
    job = pair()
    assert job.other.data_np is job.data_np and len(job.data_np) == 300  # A's data, not B's preset
    reporter = RecordingReporter()
    outcome = run_job(job, reporter)
    assert outcome.status == "finished"
    assert outcome.result["family"] == "autoregressive" and outcome.result["other"] == "flow-matching"
    assert [s for s, _ in reporter.previews] == [3, 6, 9] and job.other.step == 9
    last = reporter.previews[-1][1]
    assert isinstance(last, FramePair) and last.a.step == last.b.step == 9
    assert last.a.layer("samples") and last.b.layer("samples")
    lanes = split_metrics(reporter.history[-1][1])
    assert next(iter(lanes["A"])) == "−log p(x)" and next(iter(lanes["B"])) == "‖(x₁ − x₀) − v_θ‖²"
    assert "energy distance" in lanes["A"] and "energy distance" in lanes["B"]


def test_each_side_trains_as_it_would_alone_on_the_same_batches():
    """Same seed, same batches: B in a pair learns exactly what B alone learns on A's data."""
    data = make_dataset("two-moons", 200, seed=1)
    both = PlaygroundPair(PlaygroundSpec(family="flow-matching", drawn=data, seed=3),
                          PlaygroundSpec(family="vae", options={"hidden": 16}))
    alone = PlaygroundJob(PlaygroundSpec(family="vae", options={"hidden": 16}, drawn=data, seed=3))
    got = [both.train(4)["B: loss"] for _ in range(3)]
    assert got == [alone.train(4)["loss"] for _ in range(3)]


def test_new_data_settings_and_live_options_reach_the_side_they_name():
    job = pair("ddpm", "flow-matching")
    job.set_data(make_dataset("rings", 120))
    job._set_data_now(job._pending_data)
    assert len(job.other.data_np) == 120
    job.set_setting(0.5, lane=1)
    assert job.other._setting == 0.5 and job._setting != 0.5 and job._dirty
    job.set_live_option("sampler", "ddim")  # A's (DDPM)
    assert job.model.config.sampler == "ddim"
    job.set_live_option("sample_steps", 7, lane=1)  # B's (flow matching)
    assert job.other.model.config.sample_steps == 7 and job.model.config.sample_steps != 7
    with pytest.raises(SpecError) as info:
        job.set_live_option("sampler", "ddim", lane=1)  # flow matching has no sampler to pick
    assert info.value.field == "options.sampler"


def test_split_metrics_keeps_each_sides_order():
    assert split_metrics({"A: D loss": 1.0, "B: loss": 2.0, "A: G loss": 3.0, "other": 4.0}) == \
        {"A": {"D loss": 1.0, "G loss": 3.0}, "B": {"loss": 2.0}}


def test_the_state_builds_the_compared_spec_from_the_first_one():
    state = PlaygroundState("ddpm-reverse")
    assert state.compare_spec() is None
    seen = []
    state.events.connect("compare", seen.append)
    state.set_compare("gan", {"loss": "wgan-gp"})
    other = state.compare_spec()
    assert seen == ["gan"] and other.family == "gan" and other.options == {"loss": "wgan-gp"}
    assert np.array_equal(other.drawn, state.points) and other.seed == state.seed
    with pytest.raises(SpecError):
        state.set_compare("nope")


# --- the recorder -------------------------------------------------------------------------
def test_the_recorder_stays_bounded_and_spread_over_the_whole_run():
    rec = FrameRecorder(capacity=10)
    assert rec.frames == []
    for i in range(1000):
        rec.offer(i)
    kept = rec.frames
    assert len(kept) <= 10 and kept[0] == 0 and kept[-1] == 999
    gaps = np.diff(kept[:-1])
    assert len(set(gaps)) == 1 and gaps[0] == rec.stride  # evenly spread
    assert kept[-2] > 1000 - 2 * rec.stride  # up to the end


def test_the_recorder_keeps_every_frame_until_it_is_full():
    rec = FrameRecorder(capacity=8)
    for i in range(5):
        rec.offer(i)
    assert rec.frames == [0, 1, 2, 3, 4]
    rec.clear()
    assert rec.frames == [] and len(rec) == 0
    with pytest.raises(ValueError):
        FrameRecorder(capacity=1)
