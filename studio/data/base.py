"""The dataset container, its error type and the tensor conversions every source shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..imaging import to_uint8, to_unit_range  # noqa: F401 (the pixel conversions: studio.data exports them)


class DatasetError(ValueError):
    """A user-facing dataset problem; the message names the bad input and the fix."""


@dataclass
class ImageDataset:
    name: str
    images: torch.Tensor  # uint8 (N, C, H, W), C in {1, 3}, H == W; a big folder: a lazy stream.FolderImages
    labels: torch.Tensor | None  # int64 (N,)
    label_names: list[str] | None
    factors: torch.Tensor | None = None  # int64 (N, K)
    factor_names: list[str] | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    license: str = ""
    split: str = "train"

    def __post_init__(self) -> None:
        im = self.images
        if im.dtype != torch.uint8 or im.dim() != 4 or im.shape[1] not in (1, 3) or im.shape[2] != im.shape[3]:
            raise DatasetError(f"{self.name}: images must be uint8 (N, 1|3, H, H), got {im.dtype} {tuple(im.shape)}")
        self.images = im.contiguous()
        for attr in ("labels", "factors"):
            t = getattr(self, attr)
            if t is not None:
                if t.shape[0] != im.shape[0]:
                    raise DatasetError(f"{self.name}: {attr} has {t.shape[0]} rows for {im.shape[0]} images")
                setattr(self, attr, t.to(torch.int64).contiguous())

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def streamed(self) -> bool:
        """True when the images are read from disk on demand (a folder over the memory budget)."""
        return not isinstance(self.images, torch.Tensor)

    @property
    def num_classes(self) -> int:
        if self.labels is None or len(self) == 0:
            return 0
        return len(self.label_names) if self.label_names else int(self.labels.max()) + 1

    def info(self) -> dict:
        c, h, _ = self.image_shape
        return {
            "name": self.name,
            "split": self.split,
            "size": len(self),
            "resolution": h,
            "channels": c,
            "num_classes": self.num_classes,
            "label_names": list(self.label_names) if self.label_names else None,
            "factor_names": list(self.factor_names) if self.factor_names else None,
            "skipped": len(self.skipped),
            "streamed": self.streamed,
            "license": self.license,
        }


_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as PIL's "L" conversion


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Gray <-> RGB on uint8 (N, C, H, W)."""
    c = images.shape[1]
    if channels not in (1, 3):
        raise DatasetError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
    if c == channels:
        return images
    if channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    out = torch.empty((images.shape[0], 1, *images.shape[2:]), dtype=torch.uint8)
    w = torch.tensor(_LUMA).view(1, 3, 1, 1)
    for i in range(0, len(images), 4096):  # chunked: bounded float memory
        chunk = images[i : i + 4096].to(torch.float32)
        out[i : i + 4096] = (chunk * w).sum(1, keepdim=True).round_().clamp_(0, 255).to(torch.uint8)
    return out


def resize_square(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Resize square uint8 (N, C, H, H) images to resolution x resolution, antialiased."""
    if resolution < 4 or resolution > 1024:
        raise DatasetError(f"resolution must be between 4 and 1024 pixels, got {resolution}")
    if images.shape[-1] == resolution:
        return images
    n, c = images.shape[:2]
    out = torch.empty((n, c, resolution, resolution), dtype=torch.uint8)
    step = max(1, 2**22 // (c * max(images.shape[-1], resolution) ** 2))
    for i in range(0, n, step):
        chunk = images[i : i + step].to(torch.float32)
        y = F.interpolate(chunk, size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False)
        out[i : i + step] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def subsample(ds: ImageDataset, size: int, seed: int) -> ImageDataset:
    """At most `size` images, a seeded random subset kept in original order."""
    if size <= 0:
        raise DatasetError(f"size must be a positive number of images, got {size}")
    if size >= len(ds):
        return ds
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds), generator=g)[:size].sort().values
    pick = lambda t: None if t is None else t[idx]  # noqa: E731
    return ImageDataset(ds.name, ds.images.index_select(0, idx), pick(ds.labels), ds.label_names, pick(ds.factors),
                        ds.factor_names, ds.skipped, ds.license, ds.split)
