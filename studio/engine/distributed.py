"""Data-parallel training across processes: PyTorch's DistributedDataParallel under torchrun.

``torchrun --nproc_per_node N -m studio train …`` (multi-node: add torchrun's usual
``--nnodes``/``--rdzv-*`` flags) starts N copies of the command with ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set; ``Distributed.from_env()`` reads them and
the training job (``engine.trainer``) joins the process group: gloo on the CPU, NCCL on CUDA.
Nothing here launches processes or exchanges gradients itself: the gradients are averaged by
DDP's reducer during ``backward`` (Li et al. 2020, "PyTorch Distributed: Experiences on
Accelerating Data Parallel Training", VLDB), so clipping and the optimizers see the global
batch's gradient on every rank, and the replicas stay identical.

The rules, each kept in one place here:

- **Global batch.** The spec's ``batch_size`` is the *global* batch (the run designed on a laptop
  keeps its meaning on N GPUs): every rank draws the same indices from the same ``BatchSampler``
  and trains on its own shard of ``batch_size / world_size`` images (``shard``); the batch size
  must be a multiple of the world size. A resume may use another world size.
- **Families unchanged.** ``Replicas`` swaps the trained sub-networks of a model (its children
  with trainable parameters: encoder/decoder, generator/discriminator, the U-Net) for DDP
  wrappers of themselves for the length of ``train_step``, so a GAN's two optimizers and a
  frozen discriminator work as written and the EMA (never trained) follows the averaged
  weights. Likelihood models (flows, autoregressive) train through ``bits_per_dim``, which is
  routed through one DDP wrapper of the whole model. Outside the step the model is plain:
  checkpoints keep their keys.
- **Batch norm.** On CUDA, BatchNorm layers become ``SyncBatchNorm`` (statistics of the global
  batch, as on one device). On the CPU torch has no SyncBatchNorm: each rank normalises with
  its shard's statistics (standard DDP behaviour), so BatchNorm families match a one-process
  run only statistically there; rank 0's running statistics are broadcast each step.
- **Random numbers.** Rank 0 keeps the run's stream (one process is exactly a plain run, and
  its state is what a checkpoint saves); rank r > 0 is reseeded from (seed, step, r) at the
  start and after every resume, so the ranks draw different noise.
- **One writer.** Rank 0 alone writes run.json, metrics, previews and checkpoints (and runs the
  held-out evaluation); the other ranks hold a ``FollowerRun``, which reads like the run and
  writes nothing.
- **Same decisions.** Metrics are averaged over the ranks (``average``) before anything looks at
  them, and a stop asked of any rank stops all (``any``), so every rank stops, diverges or
  finishes at the same step.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import SpecError
from ..runs import Run

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
TIMEOUT = datetime.timedelta(minutes=30)  # rank 0's held-out evaluation runs while the others wait
# A conv weight with a size-1 dimension (one input channel) gets its gradient with an equivalent
# but differently written stride; DDP copies it into its bucket all the same ("not an error").
warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")


class RankFailed(ValueError):
    """Another process of a distributed run failed; the message is its error."""


def rank_seed(seed: int, step: int, rank: int) -> int:
    """The torch seed of rank ``rank`` > 0 from ``step`` on (independent streams, NumPy's
    ``SeedSequence``; rank 0 keeps the run's own stream)."""
    return int(np.random.SeedSequence([int(seed), int(step), int(rank), 0xD15]).generate_state(1, np.uint64)[0]
               & (2 ** 63 - 1))


@dataclass
class Distributed:
    """This process's place in a distributed run (a plain run: rank 0 of 1, and every method
    does what a single process would, with no collective)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    started: bool = False  # joined the process group (``start``)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Distributed":
        """The place torchrun gives (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
        ``LOCAL_WORLD_SIZE``); a single process without them. SpecError naming the variable
        if one is malformed."""
        env = os.environ if environ is None else environ
        if "WORLD_SIZE" not in env:
            return cls()
        values = {}
        for name in ENV_VARS:
            raw = env.get(name, "1" if name == "LOCAL_WORLD_SIZE" else "0")
            try:
                values[name] = int(raw)
            except ValueError:
                raise SpecError(f"must be a whole number (got {raw!r}); start with torchrun", name) from None
        rank, world = values["RANK"], values["WORLD_SIZE"]
        if world < 1 or not 0 <= rank < world or not 0 <= values["LOCAL_RANK"] < max(values["LOCAL_WORLD_SIZE"], 1):
            raise SpecError(f"RANK {rank}, LOCAL_RANK {values['LOCAL_RANK']} and WORLD_SIZE {world} do not fit "
                            f"together; start with torchrun", "WORLD_SIZE")
        return cls(rank, world, values["LOCAL_RANK"], max(values["LOCAL_WORLD_SIZE"], 1))

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # --- joining --------------------------------------------------------------------------
    def place(self, device: torch.device) -> torch.device:
        """The device this rank trains on: CUDA device ``LOCAL_RANK`` on a GPU machine."""
        if self.enabled and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def start(self, device: torch.device) -> torch.device:
        """Join the process group (once; gloo on the CPU, NCCL on CUDA) and return ``place(device)``.
        SpecError for a device torch.distributed cannot use (MPS)."""
        device = self.place(device)
        if not self.enabled or self.started:
            return device
        import torch.distributed as dist

        if device.type == "cuda":
            torch.cuda.set_device(device)
            backend = "nccl"
        elif device.type == "cpu":
            backend = "gloo"
        else:
            raise SpecError(f"{device.type} cannot train in several processes: torch.distributed runs on cpu "
                            f"(gloo) and cuda (nccl)", "device")
        if not dist.is_initialized():
            dist.init_process_group(backend, rank=self.rank, world_size=self.world_size, timeout=TIMEOUT)
        self.started = True
        return device

    def close(self, barrier: bool = True) -> None:
        """Leave the process group (``barrier``: after every rank got here: rank 0 finishes its
        last checkpoint first)."""
        if not self.started:
            return
        import torch.distributed as dist

        if dist.is_initialized():
            if barrier:
                dist.barrier()
            dist.destroy_process_group()
        self.started = False

    # --- the rules --------------------------------------------------------------------------
    def check_batch(self, batch_size: int) -> None:
        """SpecError unless the global batch splits evenly over the ranks."""
        if self.enabled and batch_size % self.world_size:
            raise SpecError(f"must be a multiple of the {self.world_size} processes: it is the global batch, "
                            f"split evenly over them (got {batch_size})", "batch_size")

    def threads(self, threads: int | None, device_type: str) -> int | None:
        """torch threads per rank: ``threads`` if fixed; several ranks on one machine's CPU share its
        cores evenly (each adapting its own count would have them fight)."""
        if threads is not None or not self.enabled or device_type != "cpu":
            return threads
        from .devices import usable_cores

        return max(1, usable_cores() // self.local_world_size)

    def shard(self, index: Tensor) -> Tensor:
        """This rank's share of a global batch of indices (contiguous, equal parts)."""
        if not self.enabled:
            return index
        per = len(index) // self.world_size
        return index[self.rank * per:(self.rank + 1) * per]

    def seed(self, seed: int, step: int) -> None:
        """Reseed torch's generators on ranks > 0 (``rank_seed``); rank 0 keeps its stream."""
        if self.enabled and self.rank:
            torch.manual_seed(rank_seed(seed, step, self.rank))

    def replicate(self, model: nn.Module, device: torch.device):
        """A context manager for one ``train_step`` (``Replicas``); a no-op context in one process."""
        return Replicas(model, device) if self.enabled else contextlib.nullcontext()

    # --- collectives ------------------------------------------------------------------------
    def average(self, values: Mapping[str, Tensor]) -> dict[str, float]:
        """The mean over the ranks of each 0-d metric (one all_reduce); plain floats in one process.
        With equal shards, the mean of per-shard batch means is the global batch mean."""
        if not self.enabled:
            return {k: float(v) for k, v in values.items()}
        import torch.distributed as dist

        stacked = torch.stack([torch.as_tensor(v).detach().float().reshape(()) for v in values.values()])
        dist.all_reduce(stacked)
        return dict(zip(values, (stacked / self.world_size).tolist()))

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is true on any (a stop asked of one stops all)."""
        if not self.enabled:
            return bool(flag)
        import torch.distributed as dist

        tensor = torch.tensor([1.0 if flag else 0.0], device=self._comm_device())
        dist.all_reduce(tensor)
        return bool(tensor.item() > 0)

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (a picklable object: a run folder's path)."""
        if not self.enabled:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def agree(self, failure: BaseException | None) -> None:
        """Every rank passes or every rank raises: its own ``failure``, else ``RankFailed`` with the
        first failing rank's message. A collective: the barrier between reading a run and writing
        it. (Before ``start``, only this rank's own failure is raised.)"""
        if not self.started:
            if failure is not None:
                raise failure
            return
        import torch.distributed as dist

        told: list[Any] = [None] * self.world_size
        dist.all_gather_object(told, None if failure is None else str(failure) or type(failure).__name__)
        if failure is not None:
            raise failure
        for rank, message in enumerate(told):
            if message is not None:
                raise RankFailed(f"process {rank} of {self.world_size} failed: {message}")

    def _comm_device(self) -> torch.device:
        import torch.distributed as dist

        nccl = dist.get_backend() == "nccl"
        return torch.device("cuda", torch.cuda.current_device()) if nccl else torch.device("cpu")


class _Method(nn.Module):
    """A module whose forward is ``method`` of ``model`` (so DDP can wrap a loss method)."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(type(self.model), self.method)(self.model, *args, **kwargs)


class Replicas:
    """DDP wrappers of a model's trained parts, swapped in for ``with replicas: model.train_step(…)``.

    Children with trainable parameters are wrapped one by one (each its own reducer, so a GAN's
    discriminator is averaged on ``d_loss.backward()`` and skipped while frozen for the
    generator's step); a ``LikelihoodModel`` routes ``bits_per_dim`` through one wrapper of the
    whole model. Constructing it is a collective (DDP broadcasts rank 0's weights and buffers).
    SpecError for a model whose trainable parameters are neither (none of the studio's)."""

    def __init__(self, model: nn.Module, device: torch.device):
        from torch.nn.parallel import DistributedDataParallel as DDP

        from ..models.base import LikelihoodModel

        self.model = model
        ids = [device.index if device.index is not None else torch.cuda.current_device()] \
            if device.type == "cuda" else None
        if device.type == "cuda":  # global-batch statistics, as on one device (CUDA only in torch)
            nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.children: dict[str, nn.Module] = {}
        self.routes: dict[str, nn.Module] = {}
        if isinstance(model, LikelihoodModel):
            self.routes["bits_per_dim"] = DDP(_Method(model, "bits_per_dim"), device_ids=ids)
            return
        trained = {name: child for name, child in model.named_children() if _trainable(child.parameters())}
        covered = {id(p) for child in trained.values() for p in child.parameters()}
        loose = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in covered]
        plain = [name for name, child in trained.items() if type(child).forward is nn.Module.forward]
        if loose or plain:
            raise SpecError(f"{getattr(model, 'family', type(model).__name__)} cannot train in several processes: "
                            f"{(loose or plain)[0]} is trained outside a sub-network DDP can wrap", "family")
        self.children = {name: DDP(child, device_ids=ids) for name, child in trained.items()}

    def __enter__(self) -> "Replicas":
        for name, wrapper in self.children.items():
            self.model._modules[name] = wrapper
        for name, wrapper in self.routes.items():
            self.model.__dict__[name] = wrapper  # shadows the method for this step
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, wrapper in self.children.items():
            self.model._modules[name] = wrapper.module
        for name in self.routes:
            self.model.__dict__.pop(name, None)


def _trainable(parameters: Iterable[nn.Parameter]) -> bool:
    return any(p.requires_grad for p in parameters)


class FollowerRun(Run):
    """The run folder as a rank other than 0 holds it: it reads like ``Run`` (the spec, the
    checkpoints a resume starts from) and writes nothing — every writing method is a no-op
    (``save_meta`` updates the copy in memory). ``WRITES`` lists them; a test checks that every
    method of ``Run`` is either one of these or a read."""

    WRITES = ("create", "save_meta", "lock_for_writing", "close", "append_metrics", "truncate_metrics",
              "write_sample", "save_checkpoint", "start_from", "discard")

    @classmethod
    def following(cls, path, meta: dict[str, Any]) -> "FollowerRun":
        """The follower of the run rank 0 is creating at ``path`` with ``meta``."""
        return cls(path, dict(meta))

    @classmethod
    def create(cls, path, meta: dict[str, Any]) -> "FollowerRun":  # type: ignore[override]
        return cls.following(path, meta)

    def save_meta(self, **updates: Any) -> None:
        self.meta.update(updates)

    def lock_for_writing(self) -> None:  # type: ignore[override]
        return None

    def close(self) -> None:
        return None

    def append_metrics(self, records: Iterable[dict[str, Any]]) -> None:
        return None

    def truncate_metrics(self, step: int) -> None:
        return None

    def write_sample(self, name: str, grid, scale: int = 1):
        return self.samples_dir / name

    def save_checkpoint(self, step: int, weights: dict[str, Tensor], state: dict[str, Any]) -> None:
        return None

    def start_from(self, step: int) -> list[int]:
        return []

    def discard(self) -> None:  # rank 0 removes the folder
        return None


def on_main(dist: Distributed, make: Callable[[], Run], follow: Callable[[], Run]) -> Run:
    """Rank 0 runs ``make`` (creating the run folder); the others, once it has succeeded, ``follow``.
    Every rank raises if rank 0 failed (``Distributed.agree``)."""
    run, failure = None, None
    if dist.is_main:
        try:
            run = make()
        except BaseException as exc:  # noqa: BLE001 - handed to every rank
            failure = exc
    dist.agree(failure)
    return run if dist.is_main else follow()
