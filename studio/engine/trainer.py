"""The training job: one loop that the CLI, the tests and the Qt adapter all drive.

The job owns the model, the optimizers and the run folder; it reports through a
``Reporter`` and obeys a ``Control`` (pause / resume / stop) between steps.
"""

from __future__ import annotations

import dataclasses
import math
import platform
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from ..imaging import make_grid, to_unit_range
from ..errors import Cancelled, SpecError
from ..models.config import SUPPORTED_RESOLUTIONS  # torch-free there: the window checks it before torch is in
from ..fsio import os_reason
from ..runs import Run, RunError, RunWriteError, run_dataset
from ..specs import TrainSpec, is_early_preview, is_preview_step, load_training_data, next_preview_step
from .allocator import tune_allocator
from .batches import Batches
from .compiling import compile_networks  # noqa: F401 (imported from here by bench and tests)
from .control import Control
from .devices import autocast_factory, resolve_device, resolve_precision
from .distributed import Distributed, FollowerRun, on_main
from .early_stop import stopped_before_first_step
from .jobs import Job, Outcome, describe_error
from .reporting import Progress, Reporter
from .resume import build_training, reseed_after_divergence, restore
from .threads import FixedThreads, thread_policy

PREVIEW_COLUMNS = 8
RESUME_OVERRIDES = ("lr", "checkpoint_every", "preview_every", "device")  # safe to change mid-run
SLOW_ON_CPU = 128  # px: 4× the pixels of 64 px, and a net stage more


def resolution_note(resolution: int, device: str = "auto") -> str | None:
    """One line telling a CPU user that ``resolution`` px trains slowly (None when it doesn't
    apply): a run says it as it starts (the CLI prints it), the Train page's Images card shows it
    beside the image size."""
    try:
        if resolution < SLOW_ON_CPU or resolve_device(device).type != "cpu":
            return None
    except ValueError:  # a device not available here: the spec's own check says so
        return None
    return (f"{resolution}×{resolution} px on the CPU is slow (4× the pixels of 64 px per image: the larger "
            f"models may take hours): a GPU (--device cuda) or 64 px trains much faster")


class TrainJob:
    """Create with ``TrainJob.create`` (new run) or ``TrainJob.resume`` (existing run),
    then call ``run()``; it returns the final status."""

    threads: int | None = None  # torch threads: None adapts them while training (engine.threads), N fixes them
    tuner: FixedThreads | None = None  # the thread policy while running
    batches: Batches | None = None  # the training batches while running (engine.batches)
    compile: bool = False  # torch.compile the model's networks (--compile; off by default, README: measured)

    def __init__(self, run: Run, spec: TrainSpec, dataset, target_step: int,
                 reporter: Reporter | None = None, control: Control | None = None, dist: Distributed | None = None):
        self.run_folder, self.spec, self.dataset = run, spec, dataset
        self.dist = dist or Distributed()  # this process's place in a torchrun run (engine.distributed)
        self.target_step = target_step
        self.reporter = reporter or Reporter()
        self.control = control or Control()
        self.step = 0
        self.last_checkpoint = 0  # the newest checkpoint written (0: none)
        self.last_good: int | None = None  # the newest with finite weights and held-out figures
        self._restored, self._changes = None, {}
        self._meta_before: dict | None = None  # a resume's run.json as it was, until its first step

    # --- construction ---------------------------------------------------------------
    @classmethod
    def create(cls, spec: TrainSpec, run_dir: str | Path, reporter: Reporter | None = None,
               control: Control | None = None, command: list[str] | None = None,
               dist: Distributed | None = None) -> "TrainJob":
        """``dist`` (``Distributed.from_env()`` under torchrun): this rank joins the process group,
        rank 0 creates the folder (its path is the one every rank uses), the others follow it."""
        dist = dist or Distributed()
        spec = spec.resolved()
        dist.check_batch(spec.batch_size)
        resolve_precision(spec.precision, dist.start(resolve_device(spec.device)))  # available here
        run_dir = dist.broadcast(Path(run_dir))
        dataset = load_training_data(spec)  # a bad dataset fails before anything is written
        if dataset.image_shape[1] not in SUPPORTED_RESOLUTIONS:
            raise SpecError(f"is {dataset.image_shape[1]}×{dataset.image_shape[2]} px in {spec.data}; the models "
                            f"take {', '.join(map(str, SUPPORTED_RESOLUTIONS))} px: choose one of those",
                            "resolution")
        from ..models import config_from_dict, get_family
        from ..models.base import require_classes

        family = get_family(spec.family)
        if family.needs_labels(config_from_dict(family.Config, spec.options)):  # before any file is written
            require_classes(spec.family, dataset.num_classes, spec.data,
                            "" if family.capabilities.class_conditional else " with class_conditional=true")
        meta = {"family": spec.family, "data": spec.data, "image_shape": list(dataset.image_shape),
                "num_classes": dataset.num_classes, "label_names": dataset.label_names,
                "dataset": dataset.info(), "spec": dataclasses.asdict(spec), "options": spec.options,
                "target_step": spec.steps, "versions": _versions(), "command": command}
        if control is not None and control.stopped:  # Stop before the first step: no empty run folder
            raise Cancelled()
        from ..data.folder import SKIPPED_FILE, skipped_report  # a folder's skipped files, with reasons

        files = {SKIPPED_FILE: skipped_report(dataset.skipped)} if dataset.skipped else {}
        run = on_main(dist, lambda: Run.create(run_dir, meta, files), lambda: FollowerRun.following(run_dir, meta))
        return cls(run, spec, dataset, spec.steps, reporter, control, dist)

    @classmethod
    def resume(cls, run_dir: str | Path, extra_steps: int, reporter: Reporter | None = None,
               control: Control | None = None, overrides: dict[str, Any] | None = None,
               dist: Distributed | None = None) -> "TrainJob":
        """Continue a run for ``extra_steps`` from its newest intact, good checkpoint (see
        ``engine.resume``), locking the folder. ``overrides`` (``RESUME_OVERRIDES``; None values
        ignored) change the spec from here on and are recorded in run.json. Everything is read
        and checked before anything is written: a refusal (RunError / SpecError, one line)
        leaves the folder as it was. Under torchrun (``dist``) every rank reads; rank 0 alone locks
        and writes, after every rank has read (``Distributed.agree``)."""
        dist = dist or Distributed()
        if extra_steps < 1:
            raise SpecError(f"must be a positive integer (got {extra_steps})", "steps")
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        if unknown := sorted(set(overrides) - set(RESUME_OVERRIDES)):
            raise SpecError(f"cannot change on a resume (only {', '.join(RESUME_OVERRIDES)} can)", unknown[0])
        run = (Run if dist.is_main else FollowerRun).open(run_dir)
        try:
            latest = run.latest_checkpoint()
        except RunError:  # a damaged latest.json: restore() below falls back to the newest pair on disk
            latest = None
        run.check_resumable(latest)  # a demo is refused before the lock writes a file in its folder
        run.lock_for_writing()
        try:
            run.check_folders()
            stored = run.spec()
            spec = dataclasses.replace(stored, **overrides).resolved() if overrides else stored
            dist.check_batch(spec.batch_size)
            device = dist.start(resolve_device(spec.device))
            resolve_precision(spec.precision, device)
            dataset = run.dataset("train")
            if list(dataset.image_shape) != list(run.meta["image_shape"]):
                raise RunError(f"dataset {spec.data} now gives images of shape {list(dataset.image_shape)}, "
                               f"but the run was trained on {run.meta['image_shape']}")
            restored = restore(run, spec, dataset, device, new_lr=spec.lr != stored.lr)
            if run.meta.get("status") == "diverged":
                reseed_after_divergence(restored, spec.seed, int(run.meta.get("divergences", 1)))
        except BaseException as exc:
            run.close()
            dist.agree(exc)  # every rank raises (a collective once started)
            raise
        try:
            dist.agree(None)  # every rank has read the folder: rank 0 may now write it
        except BaseException:
            run.close()
            raise
        job = cls(run, spec, dataset, restored.step + extra_steps, reporter, control, dist)
        job._restored = restored
        job._changes = {k: [getattr(stored, k), getattr(spec, k)] for k in overrides
                        if getattr(stored, k) != getattr(spec, k)}
        return job

    # --- the loop -------------------------------------------------------------------
    def run(self) -> str:
        run = self.run_folder
        try:
            status = self._train()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) and self._before_first_step():  # aborted (a second Ctrl-C)
                _try(self._stopped_before_first_step)
                raise
            failure = self._write_error(exc, f"at step {self.step}") if _unexplained_os_error(exc) else exc
            message = f"training failed at step {self.step}: {failure or type(failure).__name__}"
            self.reporter.status(message)
            _try(lambda: run.save_meta(status="failed", error=message))  # a full disk may refuse this too
            if failure is not exc:
                raise failure from None
            raise
        finally:
            if self.tuner is not None:
                self.tuner.close()
            if self.batches is not None:  # stops a streamed folder's worker processes
                self.batches.close()
            run.close()
        return status

    def _write_error(self, exc: OSError, doing: str) -> RunWriteError:
        """A failed write (a full disk) in one line: the run folder and the cause (``fsio.os_reason``;
        never the file's name, a hidden temporary), doing what, and what is intact."""
        intact = (f"the checkpoint at step {self.last_checkpoint} is intact" if self.last_checkpoint
                  else "no checkpoint was written yet")
        return RunWriteError(f"can't write to {self.run_folder.path} ({os_reason(exc)}) {doing}; {intact}")

    def _setup(self):
        """(device, precision, model, optimizers, sampler, elapsed): fresh for a new run; for a
        resume, what ``restore`` checked, after the run folder is cut back to its step."""
        spec, run = self.spec, self.run_folder
        device = self.dist.place(resolve_device(spec.device))
        precision = resolve_precision(spec.precision, device, spec.family)  # auto: bf16 only where it holds
        restored = self._restored
        if restored is None:
            return (device, precision, *build_training(spec, self.dataset, device), 0.0)
        self.step = self.last_checkpoint = restored.step
        self.last_good = restored.step or None
        if removed := run.start_from(restored.step):  # the first write: metrics, newer checkpoints, previews
            restored.notes.append(f"removed the checkpoints after step {restored.step} (steps "
                                  f"{', '.join(map(str, removed))})")
        for note in restored.notes:
            self.reporter.status(note)
        return device, precision, restored.model, restored.optimizers, restored.sampler, restored.elapsed

    def _train(self) -> str:
        spec, run, reporter, control = self.spec, self.run_folder, self.reporter, self.control
        tune_allocator()  # steps stop giving their memory back to the system (engine.allocator)
        device_type = resolve_device(spec.device).type
        self.tuner = tuner = thread_policy(self.dist.threads(self.threads, device_type), device_type)  # from now
        device, precision, model, optimizers, sampler, elapsed = self._setup()
        self.dist.seed(spec.seed, self.step)  # ranks > 0 draw their own noise
        replicas = self.dist.replicate(model, device)  # DDP for the step (engine.distributed)
        if self._restored is not None:
            self._meta_before = dict(run.meta)
        run.save_meta(status="running", target_step=self.target_step, device=str(device), precision=precision,
                      error=None, **self._resume_record())
        reporter.status(f"training {spec.family} on {spec.data}: {device.type}, {precision}, "
                        f"{len(self.dataset)} images of {'×'.join(map(str, self.dataset.image_shape))}"
                        + (", read from disk as it trains (over the memory budget)" if self.dataset.streamed else ""))
        if note := resolution_note(self.dataset.image_shape[1], device.type):
            reporter.status(note)
        if self.compile:
            reporter.status(compile_networks(model, device))
        autocast = autocast_factory(device, precision)
        self.batches = batches = Batches(self.dataset, sampler, device, self.dist.shard)  # memory or disk: one rule
        preview_noise, preview_real = self._preview_inputs(model, device)
        start_step = self.step
        started = time.perf_counter() - elapsed
        if self._restored is not None and self._restored.needs_evaluation and self.step and self.dist.is_main:
            reporter.status(f"the held-out evaluation of step {self.step} is missing (stopped during it): running it")
            self._record_evaluation(model, device, elapsed)
        step_time = float("nan")
        status = "finished"
        tuner.start()

        while self.step < self.target_step:
            if self.dist.any(control.wait_while_paused(self._on_pause, self._on_resume)):
                status = "stopped"
                break
            tick = time.perf_counter()
            x, y = batches.next()  # this rank's part of the global batch
            x = to_unit_range(x)
            with replicas:
                values = self.dist.average(model.train_step(x, y, optimizers, autocast))  # over the ranks
            self.step += 1
            if not all(math.isfinite(v) for v in values.values()):
                bad = next(k for k, v in values.items() if not math.isfinite(v))
                message = self._divergence(bad, values[bad])
                reporter.status(message)
                run.save_meta(status="diverged", error=message, step=self.last_good or 0,
                              divergences=int(run.meta.get("divergences", 0)) + 1)
                return "diverged"
            now = time.perf_counter()
            dt = now - tick
            tuner.observe(dt)
            step_time = dt if math.isnan(step_time) else 0.9 * step_time + 0.1 * dt
            run.append_metrics([{"step": self.step, "time": round(now - started, 4), "epoch": sampler.epoch,
                                 **values}])
            reporter.metrics(self.step, values)
            reporter.progress(Progress(self.step, self.target_step, sampler.epoch, spec.batch_size / step_time,
                                       (self.target_step - self.step) * step_time,
                                       next_preview=next_preview_step(self.step, spec.preview_every, start_step,
                                                                      self.target_step)))
            if is_preview_step(self.step, spec.preview_every, start_step):
                self._preview(model, preview_noise, preview_real,
                              early=is_early_preview(self.step, spec.preview_every, start_step))
            if self.step % spec.checkpoint_every == 0:
                self._checkpoint(model, optimizers, sampler, device, time.perf_counter() - started)

        if status == "stopped" and self._before_first_step():
            return self._stopped_before_first_step()
        if self.step != self.last_checkpoint or self.step == start_step:
            # cancelled (the window closing): checkpoint at once, without the held-out evaluation
            self._checkpoint(model, optimizers, sampler, device, time.perf_counter() - started,
                             evaluate=not control.cancelled)
        if not control.cancelled and not is_preview_step(self.step, spec.preview_every, start_step):
            self._preview(model, preview_noise, preview_real)
        run.save_meta(status=status, step=self.step)
        reporter.status(f"{status} at step {self.step}; run folder: {run.path}")
        return status

    # --- helpers --------------------------------------------------------------------
    def _before_first_step(self) -> bool:
        return self.step == (self._restored.step if self._restored is not None else 0)

    def _stopped_before_first_step(self) -> str:
        return stopped_before_first_step(self.run_folder, self.reporter, self._restored is not None, self.step,
                                         self._meta_before)

    def _preview_inputs(self, model, device):
        """Fixed noise (and fixed real images for reconstructions), the same on every
        preview and after a resume, so the grids show learning, not resampling."""
        generator = torch.Generator().manual_seed(self.spec.seed + 1)
        reconstructs = model.capabilities.reconstruct
        n = 32 if reconstructs else 64
        noise = model.sample_noise(n, generator=generator).to(device)
        pick = torch.randperm(len(self.dataset), generator=generator)[:32 if reconstructs else 0]
        real = to_unit_range(self.dataset.images[pick].to(device))
        self._preview_labels = {}
        if model.capabilities.class_conditional and self.dataset.labels is not None:
            self._preview_labels = {"labels": self.dataset.labels[pick].to(device)}
        return noise, real

    def _preview(self, model, noise, real, early: bool = False) -> None:
        """A grid of ``model.preview``; an early one (studio.specs) shows only the family's
        ``early_preview_images`` samples (and as many reconstructions), so it comes in seconds."""
        if not self.dist.is_main:
            return
        labels = self._preview_labels
        if early:
            n = model.early_preview_images
            noise, real, labels = noise[:n], real[:n], {k: v[:n] for k, v in labels.items()}
        with torch.random.fork_rng(devices=[]), _eval_mode(model):
            grid = make_grid(model.preview(noise, real, **labels), ncol=PREVIEW_COLUMNS)
        self.run_folder.write_sample(f"step-{self.step:07d}.png", grid)
        self.reporter.preview(self.step, grid)

    def _on_pause(self) -> None:
        self.reporter.status(f"paused at step {self.step}")
        self.reporter.progress(Progress(self.step, self.target_step, paused=True))

    def _on_resume(self) -> None:
        self.reporter.status(f"training resumed at step {self.step}")

    def _checkpoint(self, model, optimizers, sampler, device, elapsed: float, evaluate: bool = True) -> None:
        run = self.run_folder
        if not self.dist.is_main:  # rank 0 writes (and evaluates) for every rank
            self.last_checkpoint = self.step
            return
        rng = {"torch": torch.get_rng_state()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state()
        state = {"optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                 "sampler": sampler.state_dict(), "rng": rng, "elapsed": elapsed}
        weights = model.state_dict()
        try:
            run.save_checkpoint(self.step, weights, state)
        except OSError as exc:
            raise self._write_error(exc, f"while writing the checkpoint at step {self.step}") from None
        self.last_checkpoint = self.step
        evaluation = self._record_evaluation(model, device, elapsed) if evaluate else {}
        if all(v is not None for v in evaluation.values()) and all(
                torch.isfinite(t).all() for t in weights.values() if t.is_floating_point()):
            self.last_good = self.step
        run.save_meta(step=self.step, evaluation=evaluation or run.meta.get("evaluation"))

    def _record_evaluation(self, model, device, elapsed: float) -> dict[str, float | None]:
        """The held-out figures at this step, appended to metrics.jsonl as ``test/…``. A
        non-finite figure is written as null and reported: that checkpoint is not a good one,
        and a resume rolls back past it."""
        values = {**self._evaluate(model, device), **self._sample_quality(model, device, elapsed)}
        figures = {f"test/{k}": float(v) if math.isfinite(v) else None for k, v in values.items()}
        if not figures:
            return {}
        self.run_folder.append_metrics([{"step": self.step, **figures}])
        if finite := {k: v for k, v in figures.items() if v is not None}:
            self.reporter.metrics(self.step, finite)
        if bad := [f"{k} = {values[k[5:]]}" for k, v in figures.items() if v is None]:
            self.reporter.status(f"held-out {', '.join(bad)} at step {self.step}: this checkpoint is not a good "
                                 f"one (a resume rolls back past it)")
        return {k[5:]: v for k, v in figures.items()}

    def _divergence(self, name: str, value: float) -> str:
        """Advice that can be followed: where the run stands and the command that continues it."""
        remaining = self.target_step - (self.last_good or 0)
        kept = (f"the checkpoint at step {self.last_good} is kept" if self.last_good
                else "no good checkpoint was written yet, so a resume starts again from step 0")
        return (f"{name} became {value} at step {self.step} — stopped; {kept}: lower the learning rate and resume "
                f"(studio resume {self.run_folder.path} --steps {remaining} --lr {self.spec.lr / 10:.3g})")

    def _resume_record(self) -> dict[str, Any]:
        """run.json fields a resume updates: the spec (if overridden) and the list of resumes."""
        if self._restored is None:
            return {}
        entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "from_step": self.step, "to_step": self.target_step}
        if self._changes:
            entry["changes"] = self._changes
        if self._restored.reseeded is not None:
            entry["reseeded"] = self._restored.reseeded
        record = {"resumes": [*self.run_folder.meta.get("resumes", []), entry]}
        return {**record, "spec": dataclasses.asdict(self.spec)} if self._changes else record

    def _evaluate(self, model, device) -> dict[str, float]:
        """The family's held-out metrics on (up to) 1000 test images, if the dataset has a split."""
        if not hasattr(self, "_test_images"):
            self._test_images = self._load_test_images()
        if self._test_images is None or len(self._test_images) == 0:
            return {}
        totals: dict[str, float] = {}
        labels = self._test_labels if model.capabilities.class_conditional else None
        with torch.random.fork_rng(devices=[]), _eval_mode(model):
            torch.manual_seed(self.spec.seed)
            for i, chunk in enumerate(self._test_images.split(250)):
                x = to_unit_range(chunk.to(device))
                extra = {} if labels is None else {"labels": labels[250 * i:250 * (i + 1)].to(device)}
                for k, v in model.evaluate(x, **extra).items():
                    totals[k] = totals.get(k, 0.0) + float(v) * len(chunk)
        return {k: v / len(self._test_images) for k, v in totals.items()}

    def _sample_quality(self, model, device, elapsed: float) -> dict[str, float]:
        """FCD / KID / class coverage of a fixed, modest number of samples (studio.metrics),
        when a classifier ships for the dataset and the family samples; the sample count is
        chosen once to stay within ~5% of the training time between checkpoints."""
        from ..metrics import CheckpointMetrics

        if not hasattr(self, "_quality"):
            self._quality = CheckpointMetrics.for_run(self.spec.data, self.dataset.image_shape, model, device,
                                                      self.spec.seed)
        if self._quality is None:
            return {}
        first = self._quality.n is None
        interval = elapsed / max(self.step, 1) * min(self.spec.checkpoint_every, self.step)  # training time
        with torch.random.fork_rng(devices=[]), _eval_mode(model):
            values = self._quality(model, interval)
        if first:
            self.reporter.status(self._quality.describe())
        return values

    def _load_test_images(self):
        self._test_labels = None
        test = run_dataset(self.spec, "test")  # None: no held-out split (folders, some datasets)
        if test is None:
            return None
        self._test_labels = test.labels[:1000] if test.labels is not None else None
        return test.images[:1000]


def train_job(make: Callable[[Reporter, Control], "TrainJob"], threads: int | None = None) -> Job:
    """Training as a protocol job (``studio.engine.jobs``): ``make(reporter, control)`` creates
    or resumes the TrainJob in the job's thread (so a bad dataset fails there, not in the UI),
    then runs it. The outcome's status is the run's — "finished", "stopped" (a cancel too: the
    run checkpointed and can be resumed) or "diverged" — and its result the run folder; "cancelled"
    (result None): a new run stopped before its first step, nothing kept (``engine.early_stop``).
    ``threads`` fixes torch's thread count; None adapts it (``studio.engine.threads``)."""

    def job(reporter: Reporter, control: Control) -> Outcome:
        train = make(reporter, control)
        train.threads = threads
        try:
            status = train.run()
        except Exception as exc:
            if not isinstance(exc, ValueError):
                traceback.print_exc()
            where = f"training failed at step {train.step}: " if train.step else ""
            raise TrainingFailed(where + describe_error(exc)) from exc
        return Outcome(status, result=None if status == "cancelled" else str(train.run_folder.path))

    return job


class TrainingFailed(ValueError):
    """Training ended with an error; the message says at which step and why."""


class _eval_mode:
    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.was_training = self.model.training
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


def _unexplained_os_error(exc: BaseException) -> bool:
    """An OSError (a full disk, a lost drive) not yet put into words by the run folder."""
    return isinstance(exc, OSError) and not isinstance(exc, RunError)


def _try(action) -> None:
    try:
        action()
    except Exception:
        pass


def _versions() -> dict[str, str]:
    from .. import __version__

    return {"studio": __version__, "torch": torch.__version__, "python": platform.python_version()}
