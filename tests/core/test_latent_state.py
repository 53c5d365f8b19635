"""The Latent explorer's state without a window: what each action sets and which events it
emits, in order (napari's habit of testing the model without Qt)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from studio.latent import PCA, Event, ExplorerState, LatentSpace
from studio.latent.state import EVENTS, LatentChange


def make_space(d: int = 5, n: int = 200, conditional: bool = False, encoded: bool = True) -> LatentSpace:
    """A LatentSpace with a stand-in model (the state never runs it)."""
    rng = np.random.default_rng(0)
    codes = (rng.normal(size=(n, d)) * np.linspace(3, 0.5, d)).astype(np.float32)
    labels = np.arange(n) % 3
    model = SimpleNamespace(capabilities=SimpleNamespace(class_conditional=conditional), num_classes=3)
    return LatentSpace(Path("run"), "run", "cvae" if conditional else "vae", model, codes,
                       np.zeros((n, 4, 4, 1), np.uint8), labels, ["cat", "dog", "owl"], encoded, PCA.fit(codes))


class Log:
    """Records every event of a state as (name, args)."""

    def __init__(self, state: ExplorerState):
        self.seen = []
        for name in EVENTS:
            getattr(state.events, name).connect(lambda *args, name=name: self.seen.append((name, args)))

    def names(self):
        names, self.seen = [name for name, _ in self.seen], []
        return names


def test_event_calls_callbacks_in_order_and_disconnects():
    event, calls = Event(), []
    first = event.connect(lambda x: calls.append(("a", x)))
    event.connect(lambda x: calls.append(("b", x)))
    event.emit(1)
    event.disconnect(first)
    event.emit(2)
    assert calls == [("a", 1), ("b", 1), ("b", 2)] and len(event) == 1


def test_opening_a_space_shows_the_mean_latent_on_the_pca_map():
    state, space = ExplorerState(), make_space()
    log = Log(state)
    state.open(space)
    assert log.names() == ["space", "latent"]  # not "committed": opening records no keyframe
    assert np.allclose(state.z, space.pca.mean) and state.point == -1 and state.label is None
    assert state.generation == 1 and state.projection == "pca" and state.basis.names[0] == "Variation 1"
    assert "principal component PC1" in state.basis.tips[0]  # plain words, the term in the tooltip
    assert np.allclose(state.positions, space.pca.transform(space.codes))
    assert np.allclose(state.slider_values(), 0, atol=1e-5)
    assert state.marker() == pytest.approx(tuple(space.pca.transform(space.pca.mean)), abs=1e-5)


def test_a_point_a_slider_and_a_direction_move_the_latent_and_say_how():
    state, space = ExplorerState(), make_space()
    state.open(space)
    log = Log(state)
    state.select_point(7)
    assert log.seen == [("latent", (LatentChange(base=True),)), ("committed", (state.z,))]
    assert state.point == 7 and np.array_equal(state.z, space.codes[7])
    assert state.caption()[0] == "dataset image #7 · dog" and "|z| = " in state.caption()[1]
    log.seen = []
    before = state.slider_values()
    state.set_slider(1, 2.0)  # PC2 to +2 σ; the others keep their values
    after = state.slider_values()
    assert after[1] == pytest.approx(2.0, abs=1e-5) and np.allclose(np.delete(after, 1), np.delete(before, 1), atol=1e-5)
    assert log.seen == [("latent", (LatentChange(dragging=True, from_sliders=True),))] and state.point == -1
    assert state.caption()[0].startswith("a new image")
    log.seen = []
    start = state.z.copy()
    state.move(np.ones(5, np.float32))
    state.commit()
    assert np.allclose(state.z, start + 1) and log.names() == ["latent", "committed"]
    with pytest.raises(ValueError, match="point must be in 0..199"):
        state.select_point(200)
    with pytest.raises(ValueError, match="slider row"):
        state.set_slider(9, 1.0)
    with pytest.raises(ValueError, match="5 numbers"):
        state.set_latent(np.zeros(3))


def test_random_seed_and_reset():
    state, space = ExplorerState(), make_space()
    state.open(space)
    log = Log(state)
    state.random()
    assert state.seed == 1 and np.array_equal(state.z, space.random_latent(1))
    assert log.names() == ["seed", "latent", "committed"]
    state.set_seed(42)
    assert np.array_equal(state.z, space.random_latent(42))
    state.reset()
    assert np.allclose(state.z, space.pca.mean)


def test_a_class_conditional_space_decodes_for_the_point_s_class():
    state, space = ExplorerState(), make_space(conditional=True)
    state.open(space)
    assert state.label == 0
    state.select_point(5)  # label 5 % 3 = 2
    assert state.label == 2 and state.decode_request()[2] == 2
    log = Log(state)
    state.set_label(1)
    assert state.label == 1 and log.seen == [("latent", (LatentChange(),))]  # the same z, another class
    state.set_label(1)
    assert log.seen == [("latent", (LatentChange(),))]  # no change, no event
    with pytest.raises(ValueError, match="class must be in 0..2"):
        state.set_label(3)
    plain = ExplorerState()
    plain.open(make_space())
    with pytest.raises(ValueError, match="not class-conditional"):
        plain.set_label(0)


def test_images_of_an_older_space_are_ignored():
    state = ExplorerState()
    state.open(make_space())
    generation = state.decode_request()[0]
    state.open(make_space(d=3))  # another run opened while the decode ran
    log = Log(state)
    assert not state.show_image(generation, np.zeros((4, 4, 1), np.uint8))
    assert state.image is None and log.seen == []
    image = np.ones((4, 4, 1), np.uint8)
    assert state.show_image(state.generation, image) and state.image is image and log.names() == ["image"]


def test_projections_marker_and_decoding_a_map_position():
    state, space = ExplorerState(), make_space()
    state.open(space)
    state.decode_at(1.5, -2.0)  # PCA: the spot's latent
    assert state.marker() == pytest.approx((1.5, -2.0), abs=1e-4)
    with pytest.raises(ValueError, match="not computed"):
        state.set_projection("tsne")
    xy = np.random.default_rng(1).normal(size=(200, 2)).astype(np.float32)
    assert not state.add_embedding("tsne", xy, space=make_space())  # computed for another space: dropped
    assert state.add_embedding("tsne", xy, space=space)
    log = Log(state)
    state.set_projection("tsne")
    assert log.names() == ["projection"] and np.array_equal(state.positions, xy)
    assert state.marker() is None  # t-SNE has no inverse: an off-map latent has no place
    state.select_point(4)
    assert state.marker() == pytest.approx(tuple(xy[4]))
    with pytest.raises(ValueError, match="t-SNE has no inverse"):
        state.decode_at(0.0, 0.0)
    assert "similar images sit together" in state.map_hint()[0] and "t-SNE" in state.map_hint()[1]
    state.set_projection("pca")
    assert "PC1" in state.map_hint()[1] and "PC1" not in state.map_hint()[0]  # plain words, the term in the tip


def test_slider_bases_tools_selection_and_errors():
    state, space = ExplorerState(), make_space(d=20, encoded=False)
    state.open(space)
    assert [k for k, _ in state.basis_kinds()] == ["pca"]  # 20 > RAW_LIMIT numbers: no raw sliders
    with pytest.raises(ValueError, match="slider basis"):
        state.set_basis("raw")
    with pytest.raises(ValueError, match="no encoder"):
        state.set_tool("reconstruction")
    small = make_space(d=4)
    state.open(small)
    log = Log(state)
    state.set_basis("raw")
    assert state.basis.names == ["Number 1", "Number 2", "Number 3", "Number 4"] and log.names() == ["basis"]
    state.set_tool("reconstruction")
    state.set_selection([3, 4])
    state.set_box_select(True)
    state.set_box_select(True)
    assert log.names() == ["tool", "selection", "box_select"] and list(state.selection) == [3, 4]
    errors = np.arange(200, dtype=np.float32)
    assert not state.set_errors(space, errors)  # the GAN space is no longer open
    assert state.set_errors(small, errors) and small.errors is not None and log.names() == ["errors"]
    state.open(make_space(encoded=False))  # a GAN: the reconstruction tool cannot stay
    assert state.tool == "interpolate"


def test_opening_a_model_with_another_latent_size_tells_listeners_a_consistent_state():
    """VAE (latent 5 here) then a GAN-like space (latent 9): a listener of the space event that
    places the marker saw the old 5-number code against the new PCA and raised, which left the
    page half switched (a new user's tester found it going from the demo VAE to the demo DCGAN)."""
    state = ExplorerState()
    state.open(make_space(d=5))
    seen = []
    state.events.space.connect(lambda space: seen.append((state.z.shape, state.marker())))
    state.open(make_space(d=9))
    (shape, marker), = seen
    assert shape == (9,) and marker is not None


def test_a_gan_opens_and_resets_at_a_typical_latent_not_the_near_zero_mean():
    """Tester 29: the demo DCGAN's Reset drew a black square: z = mean ≈ 0 lies far inside the
    shell of radius √d where a N(0, I) latent lives. An encoder's space keeps the mean."""
    from studio.latent import open_space
    from studio.runs import demo_runs_root

    space = open_space(str(demo_runs_root() / "dcgan-fashion-mnist"))
    state = ExplorerState()
    state.open(space)
    opened = state.z.copy()
    state.random()
    state.reset()
    assert np.array_equal(state.z, opened) and state.point >= 0 and np.array_equal(state.z, space.codes[state.point])
    d = space.latent_dim
    assert np.linalg.norm(state.z) > 0.5 * np.sqrt(d) > np.linalg.norm(space.pca.mean)
    shown, samples = space.decode(state.z, None)[0], [space.decode(space.random_latent(s), None)[0] for s in range(8)]
    assert shown.mean() > 0.5 * np.mean([s.mean() for s in samples])  # as bright as a sample, not black
    encoded = make_space()
    state.open(encoded)
    state.reset()
    assert np.allclose(state.z, encoded.pca.mean) and state.point == -1
