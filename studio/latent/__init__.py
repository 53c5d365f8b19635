"""Latent-space exploration, Qt-free: open a run's latent space (encode its dataset, or sample
z for a GAN), project it to 2D (PCA at once, t-SNE in the background), decode single latents
latest-wins, interpolate, build attribute directions, walk smooth paths, rank reconstructions.

The Latent explorer page, ``studio bench latent`` and the tests all drive these functions.
"""

from __future__ import annotations

from .basis import SliderBasis
from .decoding import LatestDecoder
from .directions import Direction, DirectionStore, attribute_direction, directions_path
from .paths import interpolate, lerp, slerp, walk
from .projection import PCA, tsne
from .space import MAP_LIMIT, Cancelled, LatentSpace, open_space

__all__ = ["Cancelled", "Direction", "DirectionStore", "LatentSpace", "LatestDecoder", "MAP_LIMIT", "PCA",
           "SliderBasis", "attribute_direction", "directions_path", "interpolate", "lerp", "open_space", "slerp",
           "tsne", "walk"]
