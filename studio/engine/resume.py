"""Resuming a run: choose the checkpoint to continue from, check it whole, restore it.

Nothing here writes to the run folder, so a refusal (a RunError: one line) leaves it exactly
as it was. The checkpoint chosen is the newest one that is *intact* (both files readable,
ours, of this model's family and shapes, with every key the state needs) and *good* (finite
weights and finite held-out figures): a damaged latest checkpoint falls back to the previous
one with a note; when every checkpoint is intact but not good (a divergence), training starts
again from step 0. After a divergence the random state is reseeded from the seed, the step
and the number of divergences, so the resume doesn't replay the same noise into the same NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from ..runs import Run, RunError
from .batches import BatchSampler

RESEED_STRIDE = 1_000_003  # a prime: reseeds of different (step, divergences) never coincide


@dataclass
class Restored:
    """What ``restore`` hands the training loop: the live objects at ``step``."""

    model: Any
    optimizers: dict[str, torch.optim.Optimizer]
    sampler: BatchSampler
    step: int
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)
    needs_evaluation: bool = False  # the checkpoint's held-out figures are missing (a kill mid-evaluation)
    reseeded: int | None = None


def build_training(spec, dataset, device: torch.device):
    """A fresh (model, optimizers, sampler) for ``spec``, seeded as a new run is."""
    from ..models import build_model

    torch.manual_seed(spec.seed)
    model = build_model(spec.family, spec.options, dataset.image_shape, dataset.num_classes)
    model.to(device).train()
    return model, model.configure_optimizers(spec.lr), BatchSampler(len(dataset), spec.batch_size, spec.seed)


def restore(run: Run, spec, dataset, device: torch.device, new_lr: bool = False) -> Restored:
    """The run's training at the newest intact and good checkpoint (or fresh at step 0).
    ``new_lr``: the optimizers keep ``spec.lr`` instead of the learning rate their saved
    state brings back. RunError if checkpoints exist but none is intact."""
    model, optimizers, sampler = build_training(spec, dataset, device)
    notes: list[str] = []
    held_out = _held_out_by_step(run)
    problems: list[tuple[int, str, bool]] = []  # (step, why, damaged)
    for checkpoint in _candidates(run, notes):
        step = checkpoint["step"]
        try:
            weights = run.load_weights(checkpoint)
            state = run.load_state(checkpoint)
            _check_weights(model, weights, checkpoint["weights"])
            _check_optimizers(state["optimizers"], optimizers, checkpoint["state"])
        except RunError as exc:
            problems.append((step, str(exc), True))
            continue
        if bad := _not_good(weights, held_out.get(step)):
            problems.append((step, bad, False))
            continue
        model.load_state_dict(weights)
        fresh = {name: [g["lr"] for g in opt.param_groups] for name, opt in optimizers.items()}
        for name, optimizer in optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
            if new_lr:  # the saved state would bring the old learning rate back
                for group, lr in zip(optimizer.param_groups, fresh[name]):
                    group["lr"] = lr
        sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["rng"]["torch"])
        if device.type == "cuda" and "cuda" in state["rng"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"])
        notes += [f"the checkpoint at step {s} is {'damaged' if damaged else 'not good'} ({why}); skipped"
                  for s, why, damaged in problems]
        return Restored(model, optimizers, sampler, step, float(state.get("elapsed", 0.0)), notes,
                        needs_evaluation=step not in held_out)
    if any(damaged for _, _, damaged in problems):
        raise RunError("no intact checkpoint to resume from: "
                       + "; ".join(f"step {s}: {why}" for s, why, _ in problems))
    if problems:
        notes.append("no checkpoint has finite weights and held-out figures ("
                     + "; ".join(f"step {s}: {why}" for s, why, _ in problems) + "); training starts again from step 0")
    return Restored(model, optimizers, sampler, 0, 0.0, notes)


def reseed_after_divergence(restored: Restored, seed: int, divergences: int) -> None:
    """Reseed torch's generators from (seed, step, divergences): a resume after a divergence
    draws other noise than the run that diverged, and the same resume twice draws the same."""
    restored.reseeded = seed + restored.step + RESEED_STRIDE * divergences
    torch.manual_seed(restored.reseeded)
    restored.notes.append(f"the run diverged before: its random state is reseeded (seed {seed} + step "
                          f"{restored.step} + {RESEED_STRIDE} × {divergences} divergence(s) = {restored.reseeded})")


def _candidates(run: Run, notes: list[str]) -> list[dict[str, Any]]:
    """The checkpoint latest.json names, then the older complete pairs, newest first; without a
    readable latest.json, every complete pair on disk."""
    try:
        latest = run.latest_checkpoint()
    except RunError as exc:
        notes.append(f"{exc}; looking for the newest intact checkpoint instead")
        latest = None
    pairs = run.checkpoints()
    if latest is None:
        return pairs
    if latest["state"] is None:  # a bundled demo: weights only
        run.load_state(latest)  # raises "cannot be resumed"
    return [latest] + [p for p in pairs if p["step"] < latest["step"]]


def _held_out_by_step(run: Run) -> dict[int, dict[str, Any]]:
    """{step: {"test/…": value}} of the held-out records in metrics.jsonl."""
    found: dict[int, dict[str, Any]] = {}
    for record in run.read_metrics():
        figures = {k: v for k, v in record.items() if k.startswith("test/")}
        if figures:
            found.setdefault(record["step"], {}).update(figures)
    return found


def _not_good(weights: dict[str, torch.Tensor], held_out: dict[str, Any] | None) -> str:
    """Why a checkpoint is intact but not one to continue from ("" if it is good)."""
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            return f"weight {name} holds NaN or infinite values"
    for name, value in (held_out or {}).items():
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"held-out {name} was {'not finite' if value is None else value}"
    return ""


def _check_weights(model, weights: dict[str, torch.Tensor], path) -> None:
    """The checkpoint's tensors are exactly the model's: same names, same shapes."""
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise RunError(f"{path} holds weights of another model ({len(missing)} missing, e.g. "
                       f"{(missing or ['-'])[0]!r}; {len(unexpected)} unexpected, e.g. {(unexpected or ['-'])[0]!r})")
    for name, tensor in expected.items():
        if tuple(weights[name].shape) != tuple(tensor.shape):
            raise RunError(f"{path} holds weights of another shape: {name} is {list(weights[name].shape)}, "
                           f"the model's {list(tensor.shape)}")


def _check_optimizers(saved: dict[str, Any], optimizers: dict[str, torch.optim.Optimizer], path) -> None:
    """Each saved optimizer state fits its optimizer: the same groups, parameters and shapes."""
    if set(saved) != set(optimizers):
        raise RunError(f"{path} holds optimizers {sorted(saved)[:4]}, but this model has {sorted(optimizers)}")
    for name, optimizer in optimizers.items():
        state = saved[name]
        groups = state.get("param_groups") if isinstance(state, dict) else None
        per_param = state.get("state") if isinstance(state, dict) else None
        fresh = optimizer.state_dict()["param_groups"]
        if not (isinstance(groups, list) and isinstance(per_param, dict) and len(groups) == len(fresh)
                and all(isinstance(g, dict) and set(f) <= set(g) and isinstance(g["params"], list)
                        and len(g["params"]) == len(f["params"]) and all(_same_kind(g[k], f[k]) for k in f)
                        for g, f in zip(groups, fresh))):
            raise RunError(f"{path}: the state of optimizer {name!r} does not fit this model")
        params = [p for group in optimizer.param_groups for p in group["params"]]
        ids = [i for g in groups for i in g["params"]]
        for key, entry in per_param.items():
            if key not in ids or not isinstance(entry, dict):
                raise RunError(f"{path}: optimizer {name!r} has state for an unknown parameter")
            shape = tuple(params[ids.index(key)].shape)
            for value in entry.values():
                if isinstance(value, torch.Tensor) and value.dim() > 0 and tuple(value.shape) != shape:
                    raise RunError(f"{path}: optimizer {name!r} state of shape {list(value.shape)} for a "
                                   f"parameter of shape {list(shape)}")


def _same_kind(saved: Any, fresh: Any) -> bool:
    """A saved optimizer hyperparameter has the kind of value the optimizer uses (lr a number, …)."""
    if isinstance(fresh, bool) or fresh is None or isinstance(fresh, str):
        return type(saved) is type(fresh)
    if isinstance(fresh, (int, float)):
        return isinstance(saved, (int, float)) and not isinstance(saved, bool) and math.isfinite(saved)
    if isinstance(fresh, (list, tuple)):
        return isinstance(saved, (list, tuple)) and len(saved) == len(fresh) and all(
            _same_kind(a, b) for a, b in zip(saved, fresh))
    return True  # tensors (a capturable lr) and anything else torch checks itself
