"""Attribute directions: the difference of the mean latents of two groups ("smiling" minus
"not smiling", White 2016 §3.4; Larsen et al. 2016), saved with the run so they survive restarts.

Stored in ``<run>/latent/directions.json`` (written atomically). Bundled demo runs are
read-only, so their directions go to the user's data folder instead.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..runs import RunError, atomic_write_json, demo_runs_root

FORMAT = "generative-studio-latent-directions"


def attribute_direction(codes: np.ndarray, in_a: np.ndarray, in_b: np.ndarray) -> np.ndarray:
    """mean(codes[A]) − mean(codes[B]); adding it to a latent moves it from B toward A."""
    in_a, in_b = np.asarray(in_a, bool), np.asarray(in_b, bool)
    if not in_a.any() or not in_b.any():
        raise ValueError(f"both groups need points (A has {int(in_a.sum())}, B has {int(in_b.sum())}): "
                         "pick a label or select points on the map for each")
    return (codes[in_a].mean(0) - codes[in_b].mean(0)).astype(np.float32)


@dataclass
class Direction:
    name: str
    vector: list[float]
    group_a: str = ""  # how the groups were chosen, in words
    group_b: str = ""
    created: str = ""

    def array(self) -> np.ndarray:
        return np.asarray(self.vector, np.float32)


def user_data_dir() -> Path:
    env = os.environ.get("XDG_DATA_HOME")
    return (Path(env) if env else Path.home() / ".local" / "share") / "generative-studio"


def directions_path(run_path: str | os.PathLike) -> Path:
    """Where a run's directions live: inside the run, unless it is a bundled demo or not writable."""
    run_path = Path(run_path).resolve()
    inside = run_path / "latent" / "directions.json"
    try:
        is_demo = run_path.parent == demo_runs_root().resolve()
    except OSError:
        is_demo = False
    if not is_demo and os.access(run_path, os.W_OK):
        return inside
    return user_data_dir() / "directions" / f"{run_path.name}.json"


class DirectionStore:
    """The named directions of one run (latent size ``latent_dim``)."""

    def __init__(self, path: str | os.PathLike, latent_dim: int):
        self.path = Path(path)
        self.latent_dim = latent_dim
        self.directions: list[Direction] = []

    @classmethod
    def for_run(cls, run_path: str | os.PathLike, latent_dim: int) -> "DirectionStore":
        store = cls(directions_path(run_path), latent_dim)
        store.load()
        return store

    def load(self) -> None:
        self.directions = []
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("format marker missing")
            items = [Direction(**d) for d in data["directions"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RunError(f"{self.path} is damaged ({exc}); delete it to start a new list of directions") from None
        self.directions = [d for d in items if len(d.vector) == self.latent_dim]

    def save(self) -> None:
        atomic_write_json(self.path, {"format": FORMAT, "version": 1, "latent_dim": self.latent_dim,
                                      "directions": [asdict(d) for d in self.directions]})

    def names(self) -> list[str]:
        return [d.name for d in self.directions]

    def add(self, name: str, vector: np.ndarray, group_a: str = "", group_b: str = "") -> Direction:
        name = name.strip()
        if not name:
            raise ValueError("give the direction a name (e.g. 'add smile')")
        vector = np.asarray(vector, np.float32)
        if vector.shape != (self.latent_dim,):
            raise ValueError(f"a direction of this model has {self.latent_dim} numbers, got shape {vector.shape}")
        direction = Direction(name, [float(v) for v in vector], group_a, group_b, time.strftime("%Y-%m-%dT%H:%M:%S"))
        self.directions = [d for d in self.directions if d.name != name] + [direction]  # same name: replaced
        self.save()
        return direction

    def remove(self, name: str) -> None:
        self.directions = [d for d in self.directions if d.name != name]
        self.save()
