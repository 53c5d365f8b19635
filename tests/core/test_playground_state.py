"""The Playground page's Qt-free state: lessons, the editable point set and its events."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import SpecError
from studio.playground import LESSONS_BY_KEY, make_dataset
from studio.playground.state import BRUSH_POINTS, PlaygroundState


def recorder(state, *names):
    seen = []
    for name in names:
        state.events.connect(name, lambda *args, name=name: seen.append((name, args)))
    return seen


def test_a_lesson_sets_data_family_options_and_learning_rate():
    state = PlaygroundState("vae-posterior-collapse")
    seen = recorder(state, "data", "family", "lesson", "speed")
    state.apply_lesson("gan-mode-collapse")
    lesson = LESSONS_BY_KEY["gan-mode-collapse"]
    assert (state.family, state.options, state.lr, state.dataset) == ("gan", {"loss": "vanilla"}, 3e-3, "8-gaussians")
    assert np.array_equal(state.points, make_dataset("8-gaussians", 1000))
    assert [name for name, _ in seen] == ["data", "family", "speed", "lesson"]
    spec = state.spec()
    assert (spec.family, spec.lr, spec.dataset, spec.steps_per_frame) == ("gan", 3e-3, "8-gaussians",
                                                                          lesson.steps_per_frame)
    with pytest.raises(SpecError) as info:
        state.apply_lesson("nope")
    assert info.value.field == "lesson"


def test_brush_erase_and_clear_edit_the_points_and_say_so():
    state = PlaygroundState("flow-exact")
    seen = recorder(state, "data")
    n = len(state.points)
    state.brush(2.5, 2.5)
    assert len(state.points) == n + BRUSH_POINTS and state.dataset == "drawn"
    new = state.points[n:]
    assert np.all(np.linalg.norm(new - [2.5, 2.5], axis=1) < state.brush_radius * 2)
    state.brush(9.0, 0.0)  # outside the view: ignored
    assert len(state.points) == n + BRUSH_POINTS
    state.erase(2.5, 2.5)
    assert len(state.points) <= n and not np.any(np.linalg.norm(state.points - [2.5, 2.5], axis=1) <= state.brush_radius)
    state.clear()
    assert len(state.points) == 0 and not state.trainable
    assert [name for name, _ in seen] == ["data"] * 3
    with pytest.raises(SpecError) as info:
        state.spec()
    assert info.value.field == "data" and "at least 16" in str(info.value)


def test_presets_keep_the_chosen_count_and_noise():
    state = PlaygroundState()
    state.set_preset("spiral", points=300, noise=0.2)
    assert len(state.points) == 300 and state.noise == 0.2
    state.set_preset("rings")
    assert len(state.points) == 300 and np.array_equal(state.points, make_dataset("rings", 300, 0.2))


def test_family_change_resets_the_slider_to_its_default():
    state = PlaygroundState("autoregressive-bins")
    state.set_setting(1.5)
    state.set_family("flow-matching")
    assert state.setting == 0.5
    state.set_family("vae")
    assert state.setting is None


def test_the_vae_loss_curve_is_named_for_its_beta():
    """The curve is the −ELBO only at β = 1; the β = 8 lesson's curve says what it is."""
    from studio.playground import build_family

    assert build_family("vae", {"beta": 1.0}).loss_label == "loss = −ELBO (nats)"
    assert build_family("vae", {"beta": 8.0}).loss_label == "loss = recon + 8·KL (nats)"


def test_compare_follows_the_lesson_until_the_user_picks_its_family():
    """A tester's finding: Compare kept facing "gan" after a lesson had made the first view a VAE."""
    state = PlaygroundState("gan-mode-collapse")
    state.set_compare(*state.default_compare())
    assert (state.compare, state.compare_options) == ("gan", {"loss": "wgan-gp"})
    seen = recorder(state, "family", "compare")
    state.apply_lesson("vae-posteriors")  # the lesson's own pairing: β = 1 beside β = 8
    assert (state.compare, state.compare_options) == ("vae", {"beta": 8.0})
    assert [name for name, _ in seen] == ["family", "compare"]
    assert state.compare_spec().options == {"beta": 8.0}
    state.apply_lesson("ddpm-reverse")  # no pairing of its own: the default partner
    assert (state.compare, state.compare_options) == ("flow-matching", {})
    state.set_family("flow-matching")  # the first family changes: the second follows
    assert state.compare == "ddpm"
    state.set_compare("autoregressive", chosen=True)  # the user's own pick stays ...
    state.set_family("vae")
    assert state.compare == "autoregressive"
    state.apply_lesson("wgan-gp-coverage")  # ... until a new lesson brings its own pairing
    assert (state.compare, state.compare_options) == ("gan", {"loss": "vanilla"})
    state.set_compare(None)
    state.apply_lesson("flow-exact")
    assert state.compare is None  # Compare off stays off


def test_the_setup_follows_its_lesson_until_the_user_changes_it_and_too_few_points_are_worded_for_data():
    state = PlaygroundState("gan-mode-collapse")
    assert state.follows_lesson
    state.set_family("ddpm")
    assert not state.follows_lesson
    state.apply_lesson("gan-mode-collapse")
    assert state.follows_lesson
    state.set_preset("spiral")
    assert not state.follows_lesson
    state.clear()
    with pytest.raises(SpecError) as err:
        state.spec()
    assert str(err.value) == "data has 0 points: draw at least 16, or pick a data set"
    assert err.value.worded({"data": "The data"}) == "The data has 0 points: draw at least 16, or pick a data set"
