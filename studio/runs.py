"""The run folder (a contract; see the architecture guide):

    run.json          family, hyperparameters, dataset spec, seed, versions, status
    metrics.jsonl     one JSON object per logged step, appended and flushed
    checkpoints/      step-XXXXXXX.safetensors (weights, incl. EMA) + step-XXXXXXX.state.pt
                      (optimizer/progress state, loadable with torch.load(weights_only=True))
                      + latest.json pointing at the newest complete pair
    samples/          PNG grids

Every file is written to a temporary name and ``os.replace``d, so a crash or a full
disk never leaves a half-written file behind. Loading never unpickles code.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

import torch

RUN_FORMAT = "generative-studio-run"
RUN_VERSION = 1
CHECKPOINTS_KEPT = 3


class RunError(ValueError):
    """A run folder is missing, malformed, or not one of ours."""


def default_runs_root() -> Path:
    env = os.environ.get("STUDIO_RUNS_DIR")
    return Path(env).expanduser() if env else Path.home() / "generative-studio" / "runs"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


class Run:
    def __init__(self, path: str | os.PathLike, meta: dict[str, Any]):
        self.path = Path(path)
        self.meta = meta
        self._metrics_file = None

    # --- create / open --------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, meta: dict[str, Any]) -> "Run":
        path = Path(path)
        if path.exists() and any(path.iterdir()):
            raise RunError(f"run folder {path} already exists and is not empty; "
                           f"choose another --run-dir or resume it with 'studio resume {path}'")
        meta = {"format": RUN_FORMAT, "version": RUN_VERSION, "name": path.name,
                "created": _now(), "updated": _now(), "step": 0, "status": "created", **meta}
        run = cls(path, meta)
        (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        (path / "samples").mkdir(exist_ok=True)
        run.save_meta()
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Run":
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"run folder {path} does not exist")
        meta_path = path / "run.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunError(f"{path} is not a run folder (no run.json)") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunError(f"{meta_path} is not valid JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT:
            raise RunError(f"{meta_path} is not a Generative Studio run (format marker missing)")
        if meta.get("version", 0) > RUN_VERSION:
            raise RunError(f"{path} was written by a newer Generative Studio (run format "
                           f"{meta['version']}); update the app to open it")
        for key in ("family", "data", "image_shape"):
            if key not in meta:
                raise RunError(f"{meta_path} lacks {key!r}")
        return cls(path, meta)

    # --- metadata -------------------------------------------------------------------
    name = property(lambda self: self.meta.get("name", self.path.name))
    family = property(lambda self: self.meta["family"])
    status = property(lambda self: self.meta.get("status", "unknown"))
    step = property(lambda self: int(self.meta.get("step", 0)))

    def save_meta(self, **updates: Any) -> None:
        self.meta.update(updates, updated=_now())
        atomic_write_json(self.path / "run.json", self.meta)

    # --- metrics --------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def append_metrics(self, records: Iterable[dict[str, Any]]) -> None:
        if self._metrics_file is None:
            self._metrics_file = open(self.metrics_path, "a", encoding="utf-8")
        self._metrics_file.write("".join(json.dumps(r) + "\n" for r in records))
        self._metrics_file.flush()

    def close(self) -> None:
        if self._metrics_file is not None:
            self._metrics_file.close()
            self._metrics_file = None

    def read_metrics(self) -> list[dict[str, Any]]:
        """All complete records; a torn last line (crash mid-write) is ignored."""
        if not self.metrics_path.exists():
            return []
        records = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step`` (logged after the last checkpoint, before a crash),
        so a resumed run continues one clean curve."""
        self.close()
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= step]
        atomic_write_bytes(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept).encode())

    # --- checkpoints ----------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    def save_checkpoint(self, step: int, weights: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        from safetensors.torch import save

        stem = f"step-{step:07d}"
        metadata = {"format": RUN_FORMAT, "family": self.family, "step": str(step)}
        tensors = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
        atomic_write_bytes(self.checkpoint_dir / f"{stem}.safetensors", save(tensors, metadata=metadata))
        import io

        buffer = io.BytesIO()
        torch.save({"format": RUN_FORMAT, "step": step, **state}, buffer)
        atomic_write_bytes(self.checkpoint_dir / f"{stem}.state.pt", buffer.getvalue())
        # the pointer is written last: it only ever names a complete pair
        atomic_write_json(self.checkpoint_dir / "latest.json",
                          {"step": step, "weights": f"{stem}.safetensors", "state": f"{stem}.state.pt"})
        self._prune_checkpoints(keep=stem)

    def _prune_checkpoints(self, keep: str) -> None:
        stems = sorted({p.name.split(".")[0] for p in self.checkpoint_dir.glob("step-*.safetensors")})
        for stem in stems[:-CHECKPOINTS_KEPT]:
            if stem != keep:
                for p in self.checkpoint_dir.glob(f"{stem}.*"):
                    p.unlink(missing_ok=True)

    def latest_checkpoint(self) -> dict[str, Any] | None:
        pointer = self.checkpoint_dir / "latest.json"
        if not pointer.exists():
            return None
        try:
            latest = json.loads(pointer.read_text(encoding="utf-8"))
            # bundled demo runs ship weights only ("state": null): they open but don't resume
            state = self.checkpoint_dir / latest["state"] if latest.get("state") else None
            return {"step": int(latest["step"]), "weights": self.checkpoint_dir / latest["weights"], "state": state}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise RunError(f"{pointer} is damaged; delete it to fall back to training from scratch") from None

    def load_weights(self, checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(checkpoint["weights"])
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                metadata = f.metadata() or {}
            weights = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise RunError(f"cannot read weights {path}: {exc}") from None
        if metadata.get("format") != RUN_FORMAT:
            raise RunError(f"{path} is not a Generative Studio checkpoint (no format marker)")
        if metadata.get("family") != self.family:
            raise RunError(f"{path} holds a {metadata.get('family')!r} model, but the run is {self.family!r}")
        return weights

    def load_state(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        if checkpoint.get("state") is None:
            raise RunError(f"{self.path} holds weights only (a bundled demo), so it cannot be resumed; "
                           f"train a new run instead")
        path = Path(checkpoint["state"])
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # weights_only refuses anything that could run code
            raise RunError(f"cannot read training state {path}: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != RUN_FORMAT:
            raise RunError(f"{path} is not a Generative Studio training state")
        return state

    # --- samples --------------------------------------------------------------------
    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    def latest_sample(self) -> Path | None:
        samples = sorted(self.samples_dir.glob("*.png"))
        return samples[-1] if samples else None


def list_runs(root: str | os.PathLike | None = None) -> list[Run]:
    """Every readable run under ``root``, newest first; unreadable folders are skipped."""
    root = Path(root) if root is not None else default_runs_root()
    runs = []
    if root.is_dir():
        for child in root.iterdir():
            if (child / "run.json").exists():
                try:
                    runs.append(Run.open(child))
                except RunError:
                    continue
    return sorted(runs, key=lambda r: r.meta.get("updated", ""), reverse=True)


def demo_runs_root() -> Path:
    """The bundled demo runs (``resources/models/<name>/``, complete run folders trained with
    the CLI), opened read-only by the explorer and the viewer at first launch."""
    from .resources import resource_path

    return resource_path("models")


def list_model_runs(root: str | os.PathLike | None = None, with_demos: bool = True) -> list[Run]:
    """Runs with a checkpoint (the user's, newest first, then the bundled demos), i.e. the
    runs a page can open a model from."""
    runs = list_runs(root) + (list_runs(demo_runs_root()) if with_demos else [])
    usable = []
    for run in runs:
        try:
            if run.latest_checkpoint() is not None:
                usable.append(run)
        except RunError:
            continue
    return usable


def load_model(run: Run, device: str | torch.device = "cpu"):
    """The run's model with its latest weights, ready to sample (eval mode)."""
    from .models import build_model

    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        raise RunError(f"run {run.path} has no checkpoint yet; train it first")
    try:
        model = build_model(run.family, run.meta.get("options", {}), tuple(run.meta["image_shape"]),
                            int(run.meta.get("num_classes", 0)))
    except ValueError as exc:
        raise RunError(f"run {run.path}: {exc}") from None
    weights = run.load_weights(checkpoint)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise RunError(f"{checkpoint['weights']} does not match the {run.family} model described in "
                       f"run.json ({first})") from None
    return model.to(device).eval()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
