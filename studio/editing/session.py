"""What the Diffusion viewer's "Edit a picture" page holds, Qt-free (napari's model / view
split, like ``engine.viewer.ViewerState``): the picture brought in and how it was fitted, the
inpainting mask, the method (img2img, inpainting, class swap) and its settings. It builds the
job the viewer runs exactly like sampling (``SDEditJob`` / ``InpaintJob``: same trajectory
store, views, timeline and exports) and knows how an edit is branched. The page draws this
object and forwards user actions; tests drive it directly.

Change events (``connect(listener)``; the listener gets the name): "model", "picture", "mask",
"method", "settings".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from ..engine.sampling import SamplingJob, SamplingSpec, Trajectory
from ..engine.viewer import ChangeEvents
from ..imaging import tile
from ..errors import SpecError
from .diffusion import DEFAULT_JUMP_LENGTH, DEFAULT_RESAMPLE, InpaintJob, SDEditJob, class_swap_job, edit_steps, \
    repaint_path
from .picture import fit_array, load_picture, named_mask, to_pixels

METHODS = ("img2img", "inpaint", "swap")
# what the page calls each field a SpecError names (SpecError.worded)
FIELD_NAMES = {"image": "The picture", "mask": "The mask", "strength": "Strength", "jump_length": "Jump length",
               "resample": "Resample", "label": "Target class", "run": "This model"}
NO_PICTURE = "comes first: drop a file on the page, paste one (Ctrl+V), open a file or pick a dataset image"


@dataclass(frozen=True)
class PictureSource:
    """Where a picture came from: ``kind`` "file" (``value`` a path), "pixels" (a pasted
    picture) or "dataset" (``value`` uint8 (H, W) or (H, W, 1|3|4)); ``name`` for messages."""

    kind: str
    value: Any
    name: str


def fit_source(source: PictureSource, image_shape, fit: str):
    """``source`` fitted to a model of ``image_shape`` (C, H, W): float (1, C, H, W) in [−1, 1].
    Decoding a large file takes a moment: call it off the UI thread. Raises ``SpecError``
    (field "image") for an unreadable, empty or oversized file or array."""
    if source.kind == "file":
        return load_picture(source.value, image_shape, fit)
    return fit_array(source.value, image_shape, fit)


def file_source(path: str | os.PathLike) -> PictureSource:
    return PictureSource("file", str(path), os.path.basename(str(path)))


def _preset(name: str, resolution: int) -> np.ndarray:
    """``picture.named_mask`` as the session holds a mask: bool (R, R), True = regenerate."""
    return named_mask(name, resolution)[0, 0].numpy().astype(bool)


def tint(frame: np.ndarray, mask: np.ndarray, batch: int, color=(155, 135, 255), alpha: float = 0.4) -> np.ndarray:
    """``frame`` uint8 (H, W, C), one picture or the ``tile`` grid of ``batch`` pictures, with
    the pixels where ``mask`` (bool (h, w), one picture's) is set tinted with ``color`` (RGB):
    the regenerated region made visible. A screen blend, v + α·c·(1 − v/255): dark pixels take
    the colour, white stays white, so the region's detail stays readable. Returns uint8 RGB."""
    rgb = np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame
    h, w = mask.shape
    if frame.shape[:2] == (h, w):
        where = mask
    else:  # the grid: tile the mask exactly as the frames were tiled (gaps stay untouched)
        masks = np.broadcast_to(mask[None, :, :, None], (batch, h, w, 1)).astype(np.uint8)
        where = tile(masks, fill=0)[:, :, 0].astype(bool)
    if where.shape != rgb.shape[:2]:
        raise ValueError(f"a {h}×{w} mask does not fit a {rgb.shape[1]}×{rgb.shape[0]} frame of {batch}")
    out = rgb.astype(np.float32)
    v = out[where]
    out[where] = v + alpha * np.asarray(color, np.float32) * (1 - v / 255)
    return np.rint(np.clip(out, 0, 255)).astype(np.uint8)


@dataclass
class EditSession(ChangeEvents):
    """The Edit page's state. ``mask`` is bool (H, W) at the model's resolution, True =
    regenerate. ``trajectory`` is the newest edit's (``edit_mask``/``edit_method`` say how it
    was made), so the page knows which of the viewer's trajectories are edits."""

    image_shape: tuple[int, int, int] | None = None
    num_classes: int = 0  # a class-conditional model's classes (0: unconditional)
    guidance_default: float = 2.0
    source: PictureSource | None = None
    fit: str = "crop"
    picture: torch.Tensor | None = None  # float (1, C, H, W) in [−1, 1]
    mask: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    method: str = "img2img"
    strength: float = 0.6
    jump_length: int = DEFAULT_JUMP_LENGTH
    resample: int = DEFAULT_RESAMPLE
    target: int = 0
    guidance: float = 2.0
    trajectory: Trajectory | None = None
    edit_method: str = ""
    edit_mask: np.ndarray | None = None
    _edit_image: torch.Tensor | None = field(default=None, repr=False)
    _edit_strength: float = 0.0
    mask_preset: str = ""  # the mask is this preset (``picture.MASK_NAMES``); "" when painted
    _fitted_as: tuple[PictureSource, str] | None = field(default=None, repr=False)  # (source, fit) on show
    _last_point: tuple[float, float] | None = field(default=None, repr=False)
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)

    # --- the model and the picture -----------------------------------------------------------
    def set_model(self, model) -> None:
        """A new model: its shape and classes. The mask survives when the resolution does (a preset
        at any resolution); the picture must be fitted again (``needs_fit``); a class swap needs a
        conditional model."""
        shape = tuple(int(v) for v in model.image_shape)
        conditional = bool(getattr(model.capabilities, "class_conditional", False))
        if self.image_shape is None or shape[1:] != self.image_shape[1:]:  # a preset is made again at the size
            self.mask = _preset(self.mask_preset, shape[1]) if self.mask_preset else np.zeros(shape[1:], bool)
        self.image_shape, self.picture = shape, None
        self.num_classes = int(model.num_classes) if conditional else 0
        self.guidance_default = self.guidance = float(getattr(model.config, "guidance_scale", 2.0))
        self.target = min(self.target, max(0, self.num_classes - 1))
        self.trajectory, self.edit_mask, self._edit_image = None, None, None
        if self.method == "swap" and not self.num_classes:
            self.method = "img2img"
        self._changed("model")

    @property
    def needs_fit(self) -> bool:
        return self.source is not None and self.picture is None and self.image_shape is not None

    def set_picture(self, source: PictureSource, picture: torch.Tensor) -> Trajectory | None:
        """``picture`` is ``fit_source(source, self.image_shape, self.fit)``. Another picture
        (another ``source``, or the same one fitted another way) drops what belonged to the old
        one: the edit made of it (returned, so the page can cancel it if it still runs and clear
        it from the viewer; None when there was none) and a painted mask, which was drawn on the
        old picture's content; a preset mask (``set_named_mask``: a half, the centre square) is
        kept, it fits any picture. The same picture fitted again for another model of the same
        resolution keeps its mask (``set_model`` already dropped the edit)."""
        if self.image_shape is None or tuple(picture.shape[1:]) != self.image_shape:
            raise SpecError(f"must be fitted to {self.image_shape}, got {tuple(picture.shape)}", field="image")
        dropped = None
        if self._fitted_as is None or self._fitted_as[0] is not source or self._fitted_as[1] != self.fit:
            dropped, self.trajectory, self.edit_method = self.trajectory, None, ""
            self.edit_mask, self._edit_image = None, None
            self.mask = _preset(self.mask_preset, self.mask.shape[0]) if self.mask_preset else np.zeros_like(self.mask)
        self.source, self.picture, self._fitted_as = source, picture, (source, self.fit)
        self._changed("picture")
        return dropped

    def set_fit(self, fit: str) -> bool:
        """Crop or pad; True when the picture must be fitted again."""
        if fit == self.fit:
            return False
        self.fit = fit
        if self.source is not None:
            self.picture = None
        return self.source is not None

    def picture_pixels(self, tinted: bool = False) -> np.ndarray | None:
        """The fitted picture as uint8 (H, W, C) (RGB with the mask tinted when ``tinted``)."""
        if self.picture is None:
            return None
        pixels = to_pixels(self.picture)[0]
        return tint(pixels, self.mask, 1, alpha=0.6) if tinted else pixels

    # --- the mask -------------------------------------------------------------------------------
    def paint(self, x: float, y: float, diameter: float, value: bool = True, start: bool = True) -> None:
        """A brush dab of ``diameter`` pixels centred at (``x``, ``y``) (picture pixels, 0 at the
        left / top edge); with ``start`` False a stroke from the previous dab, without gaps."""
        h, w = self.mask.shape
        if not h:
            return
        points = [(x, y)]
        if not start and self._last_point is not None:
            x0, y0 = self._last_point
            n = max(1, int(np.ceil(np.hypot(x - x0, y - y0) / 0.5)))
            points = [(x0 + (x - x0) * i / n, y0 + (y - y0) * i / n) for i in range(1, n + 1)]
        self._last_point = (x, y)
        yy, xx = np.mgrid[0:h, 0:w]
        r2 = max(diameter, 1.0) ** 2 / 4
        hit = np.zeros((h, w), bool)
        for px, py in points:
            hit |= (xx + 0.5 - px) ** 2 + (yy + 0.5 - py) ** 2 <= r2
            cx, cy = int(np.floor(px)), int(np.floor(py))
            if 0 <= cx < w and 0 <= cy < h:  # the pixel under the brush always counts
                hit[cy, cx] = True
        if np.any(self.mask[hit] != value):
            self.mask[hit], self.mask_preset = value, ""
            self._changed("mask")

    def invert_mask(self) -> None:
        self.mask, self.mask_preset = ~self.mask, ""
        self._changed("mask")

    def clear_mask(self) -> None:
        self.mask, self.mask_preset = np.zeros_like(self.mask), ""
        self._changed("mask")

    def set_named_mask(self, name: str) -> None:
        """One of ``picture.MASK_NAMES`` (a half, or the centre square)."""
        self.mask, self.mask_preset = _preset(name, self.mask.shape[0]), name
        self._changed("mask")

    # --- the method and its settings --------------------------------------------------------------
    def set_method(self, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
        if method != self.method:
            self.method = method
            self._changed("method")

    def set(self, **settings) -> None:
        """Any of strength, jump_length, resample, target, guidance (checked when the job is
        made, with the field's name)."""
        unknown = set(settings) - {"strength", "jump_length", "resample", "target", "guidance"}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        for name, value in settings.items():
            setattr(self, name, value)
        self._changed("settings")

    def evaluations(self, steps: int) -> int:
        """Model evaluations (denoising steps) an edit with a sampler of ``steps`` steps runs."""
        if self.method == "inpaint":
            if not 1 <= self.jump_length <= steps:
                return 0
            path = repaint_path(steps, self.jump_length, self.resample)
            return sum(b == a + 1 for a, b in zip(path, path[1:]))
        return edit_steps(steps, self.strength)

    # --- the jobs ---------------------------------------------------------------------------------
    def job(self, model, spec: SamplingSpec):
        """The job of the method on screen with the viewer's ``spec`` (sampler, steps, η, seed,
        images; class and guidance for img2img and inpainting). Raises ``SpecError`` (field
        names in ``FIELD_NAMES``) for a missing picture, an empty mask or a bad setting."""
        if self.picture is None:
            raise SpecError(NO_PICTURE, field="image")
        image = self.picture
        if self.method == "inpaint":
            if not self.mask.any():
                raise SpecError("is empty: paint the region to regenerate on your picture, or pick a half", field="mask")
            mask = torch.from_numpy(self.mask.astype(np.float32))[None, None]
            job = InpaintJob(model, image, mask, spec, self.jump_length, self.resample)
        elif self.method == "swap":
            job = class_swap_job(model, image, self.target, self.strength, self.guidance, spec)
        else:
            job = SDEditJob(model, image, spec, self.strength)
        self.trajectory, self.edit_method = job.trajectory, self.method
        self.edit_mask = self.mask.copy() if self.method == "inpaint" else None
        self._edit_image, self._edit_strength = image, getattr(job, "strength", 0.0)
        return job

    def is_edit(self, traj: Trajectory | None) -> bool:
        return traj is not None and traj is self.trajectory

    def branch_job(self, model, spec: SamplingSpec, parent: Trajectory, step: int):
        """Continue ``parent`` from ``step`` with ``spec``: an edit's trajectory only covers
        the tail of its sampler's grid, so it is branched by ``SDEditJob`` (same picture and
        strength); any other by ``SamplingJob``. Raises ``ValueError`` for an inpainting's: RePaint
        keeps no checkpoints to continue from (``ViewerState.branch_note``)."""
        if not parent.checkpoints:
            raise ValueError("this trajectory keeps no checkpoints (inpainting): it cannot be branched")
        if self.is_edit(parent):
            return SDEditJob(model, self._edit_image, spec, self._edit_strength, parent=parent, branch_step=step)
        return SamplingJob(model, spec, parent=parent, branch_step=step)


__all__ = ["EditSession", "FIELD_NAMES", "METHODS", "PictureSource", "file_source", "fit_source", "tint"]
