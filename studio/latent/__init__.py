"""Latent-space exploration, Qt-free: open a run's latent space (encode its dataset, or sample
z for a GAN), project it to 2D (PCA at once, t-SNE in the background), interpolate, build
attribute directions, walk smooth paths, rank reconstructions, and the explorer's page state
(``ExplorerState``) with its change events.

The Latent explorer page, ``studio bench latent`` and the tests all drive these functions.
"""

from __future__ import annotations

from .basis import SliderBasis
from .directions import Direction, DirectionStore, attribute_direction, directions_path
from .paths import interpolate, lerp, slerp, walk
from .pictures import InvertPictureJob, UserPicture, encode_user_picture, place
from .projection import PCA, nearest_neighbors, tsne, warm_tsne
from .space import MAP_LIMIT, Cancelled, LatentSpace, open_space
from .state import Event, ExplorerState

__all__ = ["Cancelled", "Direction", "DirectionStore", "Event", "ExplorerState", "InvertPictureJob", "LatentSpace",
           "MAP_LIMIT", "PCA", "SliderBasis", "UserPicture", "attribute_direction", "directions_path",
           "encode_user_picture", "interpolate", "lerp", "nearest_neighbors", "open_space", "place", "slerp", "tsne",
           "walk", "warm_tsne"]
