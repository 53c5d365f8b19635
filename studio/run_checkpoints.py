"""The checkpoints of a run folder (``checkpoints/``): writing, pruning, finding and reading
them. A mixin of ``studio.runs.Run``; see that module for the folder's contract."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a checkpoint is written or read
    import torch

from .fsio import (GiB, KiB, UnsafeFile, atomic_write_bytes, atomic_write_json, plain_name, read_json,
                   read_regular, real_subdir, regular_files)
from .run_schema import (LATEST_FIELDS, RUN_FORMAT, RunError, check_fields, check_state, refusing,
                         safetensors_header)

CHECKPOINTS_KEPT = 3
LIMITS = {"latest.json": 64 * KiB, "weights": 4 * GiB, "state": 4 * GiB}
CHECKPOINT_FILE = re.compile(r"^step-(\d{1,12})\.(safetensors|state\.pt)$")
SAMPLE_FILE = re.compile(r"^step-(\d{1,12})\.png$")


class CheckpointFiles:
    path: Path
    family: str

    def _folder(self, name: str, create: bool = False) -> Path:
        """``path/name`` if it is a real folder inside the run (RunError if it is a link out)."""
        with refusing():
            return real_subdir(self.path, name, create)

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    def save_checkpoint(self, step: int, weights: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        import torch
        from safetensors.torch import save

        folder = self._folder("checkpoints", create=True)
        stem = f"step-{step:07d}"
        metadata = {"format": RUN_FORMAT, "family": self.family, "step": str(step)}
        tensors = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
        atomic_write_bytes(folder / f"{stem}.safetensors", save(tensors, metadata=metadata))
        buffer = io.BytesIO()
        torch.save({"format": RUN_FORMAT, "step": step, **state}, buffer)
        atomic_write_bytes(folder / f"{stem}.state.pt", buffer.getvalue())
        # the pointer is written last: it only ever names a complete pair
        atomic_write_json(folder / "latest.json",
                          {"step": step, "weights": f"{stem}.safetensors", "state": f"{stem}.state.pt"})
        self._prune_checkpoints(folder, step)

    def _checkpoint_files(self, folder: Path) -> dict[int, dict[str, Path]]:
        """{step: {"safetensors": path, "state.pt": path}} of the checkpoint files in ``folder``."""
        found: dict[int, dict[str, Path]] = {}
        for path in regular_files(folder, "step-*"):
            if match := CHECKPOINT_FILE.match(path.name):
                found.setdefault(int(match.group(1)), {})[match.group(2)] = path
        return found

    def _prune_checkpoints(self, folder: Path, keep: int) -> None:
        """Keep the newest CHECKPOINTS_KEPT complete pairs up to ``keep``; orphans (weights
        without a state, left by a kill) and stale files past ``keep`` never count, and go."""
        files = self._checkpoint_files(folder)
        pairs = sorted(s for s, f in files.items() if len(f) == 2 and s <= keep)
        kept = set(pairs[-CHECKPOINTS_KEPT:]) | {keep}
        for step, by_kind in files.items():
            if step not in kept:
                for path in by_kind.values():
                    path.unlink(missing_ok=True)

    def checkpoints(self) -> list[dict[str, Any]]:
        """Complete checkpoint pairs on disk, newest first (whatever latest.json says)."""
        folder = self._folder("checkpoints")
        if not folder.is_dir():
            return []
        files = self._checkpoint_files(folder)
        return [{"step": s, "weights": f["safetensors"], "state": f["state.pt"]}
                for s, f in sorted(files.items(), reverse=True) if len(f) == 2]

    def latest_checkpoint(self) -> dict[str, Any] | None:
        """{"step", "weights": path, "state": path or None} named by latest.json, or None before
        the first checkpoint. Both names must be plain file names inside checkpoints/."""
        pointer = self.checkpoint_dir / "latest.json"
        folder = self._folder("checkpoints")
        try:
            latest = read_json(pointer, LIMITS["latest.json"])
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RunError(f"cannot read {pointer}: {exc.strerror or exc}") from None
        except UnsafeFile as exc:  # not JSON, a FIFO, a link, too large
            raise RunError(f"checkpoints/latest.json is damaged: {exc}") from None
        with refusing(f"{pointer} is damaged: "):
            check_fields(latest, LATEST_FIELDS, "latest.json")
            weights = plain_name(latest["weights"], "its 'weights'")
            # bundled demo runs ship weights only ("state": null): they open but don't resume
            state = plain_name(latest["state"], "its 'state'") if latest.get("state") is not None else None
        return {"step": latest["step"], "weights": folder / weights, "state": folder / state if state else None}

    def _read_checkpoint_file(self, path: Path, kind: str, what: str) -> bytes:
        try:
            return read_regular(path, LIMITS[kind])
        except FileNotFoundError:
            raise RunError(f"cannot read {what} {path}: the file is missing") from None
        except UnsafeFile as exc:
            raise RunError(f"cannot read {what}: {exc}") from None
        except OSError as exc:
            raise RunError(f"cannot read {what} {path}: {exc.strerror or exc}") from None

    def load_weights(self, checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The checkpoint's tensors; RunError if the file is damaged, foreign or another family's."""
        from safetensors.torch import load

        path = Path(checkpoint["weights"])
        data = self._read_checkpoint_file(path, "weights", "weights")
        try:
            metadata, _ = safetensors_header(data)
            weights = load(data)
        except Exception as exc:  # SchemaError, safetensors' SafetensorError: truncated, empty, foreign
            raise RunError(f"cannot read weights {path}: {str(exc)[:160]}") from None
        if metadata.get("format") != RUN_FORMAT:
            raise RunError(f"{path} is not a Generative Studio checkpoint (no format marker)")
        if metadata.get("family") != self.family:
            raise RunError(f"{path} holds a {str(metadata.get('family'))[:40]!r} model, but the run is "
                           f"{self.family!r}")
        return weights

    def check_resumable(self, checkpoint: dict[str, Any] | None) -> None:
        """RunError when ``checkpoint`` (``latest_checkpoint()``) holds weights only (a bundled
        demo): nothing to resume the optimizer from. Reads nothing."""
        if checkpoint is not None and checkpoint.get("state") is None:
            raise RunError(f"{self.path} holds weights only (a bundled demo), so it cannot be resumed; "
                           f"train a new run instead")

    def load_state(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        """The checkpoint's training state, loaded with ``weights_only=True`` and checked
        against the schema; RunError (never torch's own message) otherwise."""
        import pickle

        import torch

        self.check_resumable(checkpoint)
        path = Path(checkpoint["state"])
        data = self._read_checkpoint_file(path, "state", "training state")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # weights_only refused it: it would run code to load
            raise RunError(f"cannot read training state {path}: it holds objects that only running code could "
                           f"rebuild, which the studio never does") from None
        except Exception as exc:  # truncated or not a torch file at all
            raise RunError(f"cannot read training state {path}: damaged or not a training state "
                           f"({type(exc).__name__})") from None
        with refusing():
            check_state(state, str(path), int(checkpoint["step"]))
        return state

    # --- starting over from a checkpoint --------------------------------------------
    def start_from(self, step: int) -> list[int]:
        """Before a resume from ``step`` writes anything else (caller holds the lock): metrics
        after ``step`` are dropped, checkpoints and previews past it removed, latest.json points at
        it (or is removed when ``step`` is 0). Returns the checkpoint steps removed."""
        self.truncate_metrics(step)
        folder = self._folder("checkpoints", create=True)
        removed = sorted(s for s in self._checkpoint_files(folder) if s > step)
        for s in removed:
            for path in self._checkpoint_files(folder)[s].values():
                path.unlink(missing_ok=True)
        pointer = folder / "latest.json"
        if step == 0:
            pointer.unlink(missing_ok=True)
        elif (latest := self._checkpoint_files(folder).get(step)) and len(latest) == 2:
            names = {"step": step, "weights": latest["safetensors"].name, "state": latest["state.pt"].name}
            try:
                current = read_json(pointer, LIMITS["latest.json"])
            except (OSError, UnsafeFile):
                current = None
            if current != names:  # written only when it changes: a resume stopped at once leaves it as it was
                atomic_write_json(pointer, names)
        samples = self._folder("samples", create=True)
        for path in regular_files(samples, "step-*.png"):
            if (m := SAMPLE_FILE.match(path.name)) and int(m.group(1)) > step:
                path.unlink(missing_ok=True)
        return removed

