"""The Latent explorer's state without Qt, as napari's ``Dims`` is to its ``QtDims``: the open
space, the latent on screen (z, class label, the map point it came from), the slider basis,
the map's projection, the tool shown, the box selection, the decoded image. Views subscribe to
its events and write back through its methods; a view never reads or writes another view.

Events are plain callback lists (``Event``), called synchronously in the thread that changed
the state (the GUI thread in the window). ``latent`` carries a ``LatentChange`` that says how
the latent moved, so a view can skip its own echo (the sliders while one of them is dragged).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from .basis import SliderBasis
from .pictures import PLACE_K, place

PC_SLIDERS = 8  # sliders along the top principal directions
RAW_LIMIT = 16  # latents this small also get one slider per dimension
TOOLS = ("interpolate", "directions", "walk", "reconstruction", "picture")
EVENTS = ("space", "latent", "committed", "seed", "basis", "projection", "tool", "selection", "box_select",
          "image", "errors", "pictures")


class Event:
    """A list of callbacks: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)`` calls each in
    the order connected (one raising stops the rest: a bug, not a state)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self._callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        self._callbacks = [c for c in self._callbacks if c != fn]

    def emit(self, *args: Any) -> None:
        for fn in list(self._callbacks):
            fn(*args)

    def __len__(self) -> int:
        return len(self._callbacks)


@dataclass(frozen=True)
class LatentChange:
    """How the latent changed: ``base`` a new starting point (a click, random, reset: the
    attribute-direction sliders restart at 0); ``dragging`` one of many quick moves (a slider
    being dragged); ``from_sliders`` the basis sliders moved it (they already show it)."""

    base: bool = False
    dragging: bool = False
    from_sliders: bool = False


def home_latent(space) -> tuple[np.ndarray, int]:
    """(z float32 (d,), map point or -1): where the explorer starts and Reset returns. An
    encoder's space: the codes' mean (every principal slider at 0). A GAN's: its z ~ N(0, I)
    puts nearly all the mass on a shell of radius ≈ √d, and the mean (≈ 0, far inside it) is
    no latent the generator was trained on (the demo DCGAN draws a black square there), so the
    map code nearest the mean instead: a typical z, a plausible picture."""
    mean = np.asarray(space.pca.mean, np.float32).reshape(-1)
    if space.encoded:
        return mean, -1
    i = int(np.argmin(np.square(space.codes - mean).sum(1)))
    return np.asarray(space.codes[i], np.float32).copy(), i


class ExplorerState:
    """Everything the Latent explorer page shows, as plain data. Every setter checks its input
    (ValueError naming it) and emits the matching event in ``events`` (a namespace of
    ``Event``: see ``EVENTS``)."""

    def __init__(self) -> None:
        self.events = SimpleNamespace(**{name: Event() for name in EVENTS})
        self.space = None  # studio.latent.LatentSpace
        self.generation = 0  # counts the spaces opened: a result for an older one is stale
        self.z: np.ndarray | None = None  # float32 (d,)
        self.label: int | None = None  # the class a class-conditional model decodes for
        self.point = -1  # the map point whose code is z, or -1
        self.seed = 0  # of the latest random latent
        self.basis: SliderBasis | None = None
        self.basis_kind = "pca"  # "pca" | "raw"
        self.embeddings: dict[str, np.ndarray] = {}  # projection -> (N, 2) map positions
        self.projection = "pca"  # "pca" | "tsne"
        self.tool = TOOLS[0]
        self.selection = np.zeros(0, np.int64)  # map points in the latest box
        self.box_select = False  # a left drag on the map draws a box (else it pans)
        self.image: np.ndarray | None = None  # uint8 (H, W, C): z decoded, on screen
        self.pictures: list = []  # your pictures in this space (studio.latent.pictures.UserPicture)
        self.picture = -1  # the picture the latent on screen started from (moved since, maybe), or -1
        self.carried: list = []  # the previous space's pictures, for a view to bring into this one

    # --- the space ---------------------------------------------------------------------------
    def open(self, space) -> None:
        """Show ``space``: its PCA map, the principal sliders, the mean latent."""
        self.space, self.generation = space, self.generation + 1
        self.label = 0 if space.class_conditional else None
        self.point, self.image = -1, None
        # codes of the previous model: set aside (``carried``) for a view to re-encode / re-search
        self.carried, self.pictures, self.picture = self.pictures, [], -1
        had_pictures = bool(self.carried)
        self.embeddings = {"pca": space.pca.transform(space.codes)}
        self.projection, self.selection = "pca", np.zeros(0, np.int64)
        tool_changed = self.tool == "reconstruction" and not space.encoded
        if tool_changed:
            self.tool = TOOLS[0]
        self.basis_kind, self.basis = "pca", SliderBasis.principal(space.pca, PC_SLIDERS)
        # the new model's mean before anyone hears of it: a listener reading the latent (the map's
        # marker) must not get the previous model's code (32 numbers against a 100-number PCA)
        home, point = home_latent(space)
        self.z = home.copy()
        self.events.space.emit(space)
        if had_pictures:
            self.events.pictures.emit(self.pictures)
        if tool_changed:
            self.events.tool.emit(self.tool)
        self.set_latent(home, point, record=False)

    def _need_space(self):
        if self.space is None:
            raise ValueError("no latent space is open: choose a trained model first")
        return self.space

    # --- the latent ------------------------------------------------------------------------------
    def set_latent(self, z: np.ndarray, point: int = -1, record: bool = True, picture: int = -1) -> None:
        """A new base latent (a click, random, reset; ``point`` the map point or ``picture`` the
        picture it is the code of); ``record``: offered as a walk keyframe."""
        space = self._need_space()
        z = np.array(z, np.float32).reshape(-1)
        if z.shape != (space.latent_dim,):
            raise ValueError(f"a latent of this model has {space.latent_dim} numbers, got {z.shape[0]}")
        self.z, self.point, self.picture = z, int(point), int(picture)
        self.events.latent.emit(LatentChange(base=True))
        if record:
            self.events.committed.emit(self.z)

    def move(self, delta: np.ndarray) -> None:
        """Nudge the latent (an attribute-direction slider being dragged)."""
        if self.z is not None:
            self.z, self.point = (self.z + np.asarray(delta, np.float32)).astype(np.float32), -1
            self.events.latent.emit(LatentChange(dragging=True))

    def set_slider(self, row: int, value: float) -> None:
        """Move along basis direction ``row`` until its slider reads ``value`` (in σ); the
        other sliders keep their values (the basis is orthonormal)."""
        if self.z is None or self.basis is None:
            return
        if not 0 <= row < len(self.basis.names):
            raise ValueError(f"slider row must be in 0..{len(self.basis.names) - 1}, got {row}")
        self.z, self.point = self.basis.with_value(self.z, row, value), -1
        self.events.latent.emit(LatentChange(dragging=True, from_sliders=True))

    def commit(self) -> None:
        """The end of a drag: the position is offered as a walk keyframe."""
        if self.z is not None:
            self.events.committed.emit(self.z)

    def select_point(self, i: int) -> None:
        """Show map point ``i``'s code (and, for a class-conditional model, its class)."""
        space = self._need_space()
        if not 0 <= i < len(space.codes):
            raise ValueError(f"point must be in 0..{len(space.codes) - 1}, got {i}")
        if space.class_conditional and space.labels is not None:
            self.label = int(space.labels[i])
        self.set_latent(space.codes[i], point=i)

    def set_label(self, label: int) -> None:
        """Decode the same latent for another class."""
        space = self._need_space()
        if not space.class_conditional:
            raise ValueError(f"this {space.family} model is not class-conditional: it takes no class")
        if not 0 <= label < space.num_classes:
            raise ValueError(f"class must be in 0..{space.num_classes - 1}, got {label}")
        if label != self.label:
            self.label = int(label)
            self.events.latent.emit(LatentChange())

    def next_seed(self) -> int:
        self.seed += 1
        self.events.seed.emit(self.seed)
        return self.seed

    def random(self) -> None:
        """A latent drawn with the next seed (``LatentSpace.random_latent``)."""
        self.set_latent(self._need_space().random_latent(self.next_seed()))

    def set_seed(self, seed: int) -> None:
        self.seed = int(seed)
        self.set_latent(self._need_space().random_latent(self.seed))

    def reset(self) -> None:
        """Back to where the space opened (``home_latent``)."""
        self.set_latent(*home_latent(self._need_space()))

    def decode_request(self) -> tuple[int, np.ndarray, int | None]:
        """(generation, z, label) to decode for the image on screen."""
        return self.generation, self.z.copy(), self.label

    def show_image(self, generation: int, image: np.ndarray) -> bool:
        """A decoded image arrived; False (ignored) when it belongs to an older space."""
        if generation != self.generation:
            return False
        self.image = image
        self.events.image.emit(image)
        return True

    # --- sliders ------------------------------------------------------------------------------------
    def basis_kinds(self) -> list[tuple[str, str]]:
        """(kind, words) of the slider bases this space offers."""
        kinds = [("pca", "Main directions of variation")]
        if self.space is not None and self.space.latent_dim <= RAW_LIMIT:
            kinds.append(("raw", f"Each number of the code (z₁…z{self.space.latent_dim})"))
        return kinds

    def set_basis(self, kind: str) -> None:
        space = self._need_space()
        if kind not in dict(self.basis_kinds()):
            raise ValueError(f"slider basis must be one of {', '.join(dict(self.basis_kinds()))}, got {kind!r}")
        self.basis_kind = kind
        self.basis = SliderBasis.principal(space.pca, PC_SLIDERS) if kind == "pca" else SliderBasis.raw(space.codes)
        self.events.basis.emit(self.basis)

    def slider_values(self) -> np.ndarray:
        return self.basis.values(self.z) if self.basis is not None and self.z is not None else np.zeros(0)

    # --- the map ----------------------------------------------------------------------------------------
    @property
    def positions(self) -> np.ndarray:
        return self.embeddings.get(self.projection, np.zeros((0, 2), np.float32))

    def add_embedding(self, kind: str, xy: np.ndarray, space=None) -> bool:
        """Keep a computed projection of ``space`` (default: the open one); False if stale."""
        if space is not None and space is not self.space:
            return False
        xy = np.asarray(xy, np.float32)
        if self.space is None or xy.shape != (len(self.space.codes), 2):
            raise ValueError(f"a map needs one (x, y) per code, got shape {xy.shape}")
        self.embeddings[kind] = xy
        return True

    def set_projection(self, kind: str) -> None:
        if kind not in self.embeddings:
            raise ValueError(f"the {kind} map is not computed yet")
        if kind != self.projection:
            self.projection = kind
            self.events.projection.emit(kind)

    @property
    def invertible(self) -> bool:
        """Whether a spot on the map has a latent (PCA's inverse; t-SNE has none)."""
        return self.projection == "pca"

    def decode_at(self, x: float, y: float) -> None:
        """Show the latent at map position (x, y): its first two principal components there,
        the others at the mean."""
        space = self._need_space()
        if not self.invertible:
            raise ValueError("t-SNE has no inverse: click a point, or switch to PCA to decode empty space")
        self.set_latent(space.pca.inverse(np.array([x, y], np.float32)))

    def marker(self) -> tuple[float, float] | None:
        """Where the latent on screen sits on the map (None: it has no place there)."""
        if self.z is None or self.space is None:
            return None
        if self.projection == "pca" or self.picture >= 0:  # t-SNE: your picture, placed by its neighbours
            return place(self.space, self.positions, self.projection, self.z)
        return tuple(map(float, self.positions[self.point])) if self.point >= 0 else None

    def set_selection(self, indices: np.ndarray) -> None:
        self.selection = np.asarray(indices, np.int64)
        self.events.selection.emit(self.selection)

    def set_box_select(self, on: bool) -> None:
        if bool(on) != self.box_select:
            self.box_select = bool(on)
            self.events.box_select.emit(self.box_select)

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {', '.join(TOOLS)}, got {tool!r}")
        if tool == "reconstruction" and self.space is not None and not self.space.encoded:
            raise ValueError(f"a {self.space.family} model has no encoder: nothing to reconstruct")
        if tool != self.tool:
            self.tool = tool
            self.events.tool.emit(tool)

    def set_errors(self, space, errors: np.ndarray | None) -> bool:
        """Reconstruction errors of ``space`` measured (False: for a space no longer open)."""
        if space is not self.space or errors is None:
            return False
        space.errors = np.asarray(errors, np.float32)
        self.events.errors.emit(space.errors)
        return True

    # --- your pictures ------------------------------------------------------------------------------
    def add_picture(self, space, picture) -> int:
        """Keep ``picture`` (a ``UserPicture`` of ``space``) and show it: the sliders start from its
        latent. Returns its index; -1 (ignored) when ``space`` is no longer open."""
        if space is not self.space or self.space is None:
            return -1
        z = np.asarray(picture.z, np.float32)
        if z.shape != (space.latent_dim,):
            raise ValueError(f"a latent of this model has {space.latent_dim} numbers, got {z.shape}")
        self.pictures.append(picture)
        self.events.pictures.emit(self.pictures)
        self.show_picture(len(self.pictures) - 1)
        return len(self.pictures) - 1

    def show_picture(self, i: int) -> None:
        """Show your picture ``i``'s latent (and, for a class-conditional model, its class)."""
        if not 0 <= i < len(self.pictures):
            raise ValueError(f"picture must be in 0..{len(self.pictures) - 1}, got {i}")
        picture = self.pictures[i]
        if picture.label is not None:
            self.label = int(picture.label)
        self.set_latent(picture.z, picture=i)

    def remove_picture(self, i: int) -> None:
        if not 0 <= i < len(self.pictures):
            raise ValueError(f"picture must be in 0..{len(self.pictures) - 1}, got {i}")
        del self.pictures[i]
        self.picture = -1 if self.picture == i else self.picture - (self.picture > i)
        self.events.pictures.emit(self.pictures)

    def picture_positions(self) -> np.ndarray:
        """Where your pictures sit on the map shown, float32 (n, 2) (``pictures.place``)."""
        if self.space is None or not self.pictures:
            return np.zeros((0, 2), np.float32)
        return np.array([place(self.space, self.positions, self.projection, p.z) for p in self.pictures],
                        np.float32).reshape(-1, 2)

    # --- words --------------------------------------------------------------------------------------------
    def caption(self) -> tuple[str, str]:
        """(plain words, tooltip with the technical terms) for the latent on screen."""
        if self.z is None or self.space is None:
            return "", ""
        space, norm = self.space, float(np.linalg.norm(self.z))
        tip = (f"The latent code z: the {space.latent_dim} numbers the decoder turns into this image. "
               f"|z| = {norm:.2f} (its Euclidean norm).")
        if self.picture >= 0:
            picture = self.pictures[self.picture]
            moved = not np.array_equal(self.z, picture.z)
            return f"your picture · {picture.name}" + (" · moved" if moved else f" · {picture.how}"), tip
        if self.point < 0:
            return "a new image: no image of the dataset has this code", tip
        name = space.label_name(int(space.labels[self.point])) if space.labels is not None else ""
        kind = "dataset image" if space.encoded else "sample"
        return f"{kind} #{self.point}" + (f" · {name}" if name else ""), tip

    def map_hint(self) -> tuple[str, str]:
        """(plain words, tooltip) saying what the map's axes show."""
        if self.space is None:
            return "", ""
        if self.projection != "pca":
            return ("similar images sit together; distances between groups mean little",
                    "t-SNE (van der Maaten & Hinton 2008): keeps each point's neighbours, not distances; "
                    "it has no inverse, so only points can be decoded; it cannot place new points either, so "
                    f"your pictures sit at the mean position of their {PLACE_K} nearest codes")
        ex = self.space.pca.explained
        across, up = float(ex[0]), float(ex[1]) if len(ex) > 1 else 0.0
        return (f"left–right and up–down show the two biggest differences among the codes "
                f"({across + up:.0%} of them) · click anywhere to decode",
                f"PCA: the x axis is the first principal component (PC1, {across:.1%} of the codes' variance), "
                f"the y axis the second (PC2, {up:.1%}); a click decodes that spot with the other components "
                "at their mean")
