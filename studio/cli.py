"""The command line: ``studio train | resume | sample | eval | runs | datasets | families | bench | demo``,
the listing and measuring commands ``runs | datasets | families | bench`` (``cli_info``), the editing
commands ``edit | inpaint | encode | denoise`` (``cli_edit``);
``studio`` alone opens the window.

Option spellings are a contract shared with the GUI and user scripts. Bad input gives
one line on stderr and exit code 2, and nothing is written."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import cli_edit, cli_info
from .errors import SpecError, UsageError, bad_input

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line instead of usage + error
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    from .engine.devices import DEVICES, PRECISIONS

    parser = _Parser(prog="studio", description="Generative Studio: train, sample and explore small "
                     "generative models on your own or bundled images, offline.")
    parser.add_argument("--selftest", action="store_true",
                        help="check this installation headless (window, training, demo models); exit 0 if it works")
    parser.add_argument("--report", metavar="DIR", help="--selftest: folder for the report (default: a temporary one)")
    parser.add_argument("--demo-root", metavar="DIR", help=argparse.SUPPRESS)  # --selftest: other demo runs (tests)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model into a new run folder")
    train.add_argument("--family", help="model family (see 'studio families'); required unless --config gives it")
    train.add_argument("--config", metavar="FILE", help="train the run a config file describes (from --print-config, "
                       "the Train page's Export run config…, or a run's run.json); flags given too override it")
    train.add_argument("--print-config", action="store_true",
                       help="print the run's resolved config (JSON) and exit: nothing is trained or written")
    train.add_argument("--data",
                       help="dataset name (see 'studio datasets') or folder:PATH (default: fashion-mnist-5k)")
    train.add_argument("--steps", type=int, help="optimizer steps (default: the family's)")
    train.add_argument("--batch-size", type=int, help="images per step (default: the family's)")
    train.add_argument("--lr", help="learning rate (default: the family's)")
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument("--device", choices=DEVICES, help="default auto: cuda > mps > cpu")
    train.add_argument("--precision", choices=PRECISIONS,
                       help="auto: bf16 on CUDA and on CPUs with AMX tiles, else fp32")
    train.add_argument("--run-dir", help="run folder to create (default: RUNS_ROOT/<family>-<data>-<time>)")
    train.add_argument("--preset", choices=("quick", "standard", "quality"), help="a family preset")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a family option, e.g. --set latent_dim=32 (repeatable; see 'studio families')")
    _add_data_options(train)
    train.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (default 500)")
    train.add_argument("--preview-every", type=int, help="steps between sample grids (0: only at the end)")
    train.add_argument("--threads", type=int, help="torch CPU threads (default: chosen and adapted while "
                       "training, fewer when other programs keep cores busy)")
    train.add_argument("--compile", action="store_true", help="torch.compile the networks (off by default; see the README)")

    resume = sub.add_parser("resume", help="continue a run from its last checkpoint")
    resume.add_argument("run", help="run folder")
    resume.add_argument("--steps", type=int, required=True, help="further steps to train")
    resume.add_argument("--lr", help="a new learning rate from here on (e.g. after a divergence)")
    resume.add_argument("--checkpoint-every", type=int, help="a new checkpoint interval")
    resume.add_argument("--preview-every", type=int, help="a new preview interval (0: only at the end)")
    resume.add_argument("--device", choices=DEVICES, help="train on another device from here on")
    resume.add_argument("--threads", type=int, help="torch CPU threads (default: adapted while training)")

    sample = sub.add_parser("sample", help="write a grid of samples from a run")
    sample.add_argument("run", help="run folder")
    sample.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    sample.add_argument("--out", required=True, help="PNG file to write")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--sampler", help="diffusion only: ddpm, ddim or dpmpp2m (default: the run's)")
    sample.add_argument("--sample-steps", type=int, help="diffusion only: denoising steps, at least 2 (default: the run's)")
    sample.add_argument("--eta", type=float, help="diffusion, ddim only: η (0 = deterministic, 1 = as much noise as DDPM)")
    sample.add_argument("--class", dest="class_label", type=int,
                        help="class-conditional models: draw only this class (label index; default: all cycling)")
    sample.add_argument("--guidance", type=float,
                        help="conditional diffusion: classifier-free guidance scale s (0 unconditional, "
                             "1 conditional; default: the run's)")
    sample.add_argument("--device", choices=DEVICES, default="auto")
    sample.add_argument("--scale", type=int, default=2, help="pixel magnification of the PNG (default 2)")

    cli_info.add_parsers(sub)  # runs, datasets, families, bench

    evaluate = sub.add_parser("eval", help="FCD, KID, class coverage and likelihoods of a run")
    evaluate.add_argument("run", help="run folder")
    evaluate.add_argument("--n", type=int, default=5000, help="samples to judge (default 5000)")
    evaluate.add_argument("--k", type=int, default=100, help="importance samples of the VAE's IWAE bound (default 100)")
    evaluate.add_argument("--nll-images", type=int, default=1000,
                          help="test images for the likelihoods (default 1000, the whole test split of the bundled sets)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--sample-steps", type=int, help="diffusion only: denoising steps (default: the model's)")
    evaluate.add_argument("--device", choices=DEVICES, default="auto")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    evaluate.add_argument("--threads", type=int, help="torch CPU threads (on a busy machine 1 can be much faster)")

    demo = sub.add_parser("demo", help="headless demo: train the default model briefly, write a sample grid")
    demo.add_argument("--steps", type=int, default=600)
    demo.add_argument("--run-dir")
    cli_edit.add_parsers(sub, DEVICES)  # edit, inpaint, encode, denoise
    return parser


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resolution", type=int, help="resize images to this size (folders default to 32)")
    p.add_argument("--channels", type=int, choices=(1, 3), help="1 = gray, 3 = RGB (default: the data's)")
    p.add_argument("--data-root", help="folder for torchvision-style datasets (mnist, fashion-mnist, cifar10)")
    p.add_argument("--download", action="store_true", help="download torchvision datasets (needs internet)")
    p.add_argument("--size", type=int, help="procedural datasets: number of images")
    p.add_argument("--memory-mb", type=int, help="folders: decode up to this many MiB, else stream (0: always)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv:
            return open_window()
        args = build_parser().parse_args(argv)
        if args.selftest:
            from .export import folder_problem
            from .qt.selftest import run_selftest

            if args.report and (problem := folder_problem(args.report)):
                raise UsageError(f"error: --report {args.report}: {problem}")

            return run_selftest(args.report, args.demo_root)
        if args.report or args.demo_root:
            raise UsageError("studio: --report and --demo-root go with --selftest")
        if args.command is None:
            raise UsageError("studio: choose a command (see 'studio --help'), or run 'studio' alone for the window")
        return COMMANDS[args.command](args)
    except UsageError as exc:
        if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 alone says it
            print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def open_window() -> int:
    """``studio`` alone: the desktop window (Qt is imported only here)."""
    try:
        from .qt.app import main as window_main
    except ImportError as exc:
        print(f"studio: cannot open the window ({exc}); install the GUI libraries with "
              f"'bash scripts/setup.sh', or use the command line ('studio --help', 'studio demo')", file=sys.stderr)
        return 1
    return window_main([])


# --- commands -----------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from .engine import TrainJob
    from .engine.distributed import Distributed
    from .runs import RunError, default_runs_root
    from .engine.compiling import compile_refusal
    from .specs import config_of, new_run_dir
    from .train_words import batch_warning

    try:
        spec = _train_spec(args)
        if args.compile and (refusal := compile_refusal(spec.family)):
            raise UsageError(f"error: {refusal}")
        if args.print_config:
            print(json.dumps(config_of(spec), indent=2))
            return 0
        dist = Distributed.from_env()  # torchrun's RANK, WORLD_SIZE, …; a plain run without them
    except ValueError as exc:
        raise bad_input(exc) from None
    run_dir = Path(args.run_dir) if args.run_dir else new_run_dir(default_runs_root(), spec.family, spec.data)
    _set_threads(args.threads)
    with _reporter() as reporter:  # shown by torchrun's rank 0 alone
        try:
            job = TrainJob.create(spec, run_dir, reporter=reporter if dist.is_main else None, dist=dist,
                                  command=["studio", "train", *sys.argv[2:]])
        except (ValueError, RunError) as exc:
            dist.close(barrier=False)
            raise bad_input(exc) from None
        _print_skipped(job)
        if dist.is_main and (warning := batch_warning(job.spec.batch_size, len(job.dataset))):
            print(f"warning: {warning}", file=sys.stderr)  # as the window says it: trains all the same
        job.threads, job.compile = args.threads, args.compile  # threads None: adapted (studio.engine.threads)
        return _finish(job, reporter)


def _train_spec(args: argparse.Namespace):
    """The TrainSpec of ``studio train``: the flags, or ``--config FILE`` with the flags given too
    overriding it (options and data options merged key by key)."""
    import dataclasses

    from .specs import TrainSpec, read_config

    options = dict(_parse_assignment(item) for item in args.set)
    data_options = {k: v for k, v in {"resolution": args.resolution, "channels": args.channels,
                                      "root": args.data_root, "size": args.size,
                                      "memory_mb": args.memory_mb}.items() if v is not None}
    if args.download:
        data_options["download"] = True
    names = ("data", "steps", "batch_size", "lr", "seed", "device", "precision", "preset", "checkpoint_every",
             "preview_every")
    given = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    if args.config:
        base = read_config(args.config)
        if args.family and args.family != base.family:
            raise UsageError(f"error: --family {args.family} differs from {args.config}'s {base.family}; "
                             f"leave --family out")
        return dataclasses.replace(base, **given, options={**base.options, **options},
                                   data_options={**base.data_options, **data_options})
    if not args.family:
        raise UsageError("error: --family is required (or --config FILE)")
    return TrainSpec(family=args.family, options=options, data_options=data_options, **given)


def _print_skipped(job) -> None:
    """A folder's skipped files on stderr: the count and the first few with reasons, and where
    the full list was written (the run folder's skipped.txt)."""
    from .data.folder import SKIPPED_FILE, describe_skipped

    if job.dataset.skipped:
        root = job.spec.data[len("folder:"):] if job.spec.data.startswith("folder:") else None
        lines = describe_skipped(job.dataset.skipped, root)
        print("\n".join([*lines, f"  full list: {job.run_folder.path / SKIPPED_FILE}"]), file=sys.stderr)


def cmd_resume(args: argparse.Namespace) -> int:
    from .engine import TrainJob
    from .engine.distributed import Distributed
    from .runs import RunError

    _set_threads(args.threads)
    try:
        dist = Distributed.from_env()
    except ValueError as exc:
        raise bad_input(exc) from None
    with _reporter() as reporter:  # shown by torchrun's rank 0 alone
        try:
            job = TrainJob.resume(args.run, args.steps, reporter=reporter if dist.is_main else None, overrides={
                "lr": args.lr, "checkpoint_every": args.checkpoint_every, "preview_every": args.preview_every,
                "device": args.device}, dist=dist)
        except (ValueError, RunError) as exc:
            dist.close(barrier=False)
            raise bad_input(exc) from None
        job.threads = args.threads
        return _finish(job, reporter)


def _finish(job, reporter) -> int:
    import signal

    from .runs import RunError

    def stop_gently(signum, frame):  # first Ctrl-C or SIGTERM: stop after this step, with a checkpoint
        if job.control.stopped:
            raise KeyboardInterrupt
        job.control.stop()
        job.reporter.status("stopping after this step and writing a checkpoint (Ctrl-C again to abort)")

    previous = {sig: signal.signal(sig, stop_gently) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = job.run()
    except RunError as exc:  # the run folder failed under it (a full disk): one line, what is intact
        job.dist.close(barrier=False)
        raise bad_input(exc) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    reporter.close()
    job.dist.close()  # torchrun: every rank ends together, after rank 0's last checkpoint
    if status == "cancelled":  # stopped before the first step: the engine said so and removed the folder
        return 130
    if not job.dist.is_main:
        return 0 if status in ("finished", "stopped") else 1
    sample = job.run_folder.latest_sample()
    print(f"{status}: {job.run_folder.path} (step {job.step})")
    if sample:
        print(f"samples: {sample}")
    return 0 if status in ("finished", "stopped") else 1


def cmd_sample(args: argparse.Namespace) -> int:
    """Samples in batches straight into a PNG written row by row: memory stays bounded for any
    ``--n`` (``metrics.evaluate.generate_batches``, ``imaging.save_grid_png``)."""
    import torch

    from .engine.devices import resolve_device
    from .engine.sampling import check_options
    from .errors import SpecError
    from .export import check_writable
    from .imaging import save_grid_png
    from .metrics.evaluate import generate_batches
    from .runs import Run, RunError, load_model

    if args.n < 1:
        raise UsageError("error: --n must be at least 1")
    try:
        run = Run.open(args.run)
        check_writable(args.out)  # the folder exists and takes files, before any sampling
        device = resolve_device(args.device)
        model = load_model(run, device)
        # one rule for every sampling option, shared with the window (engine.sampling.check_options)
        check_options(model, sampler=args.sampler, steps=args.sample_steps, eta=args.eta, guidance=args.guidance,
                      label=args.class_label)
    except SpecError as exc:
        raise UsageError(f"error: {exc.worded(SAMPLE_FLAGS)}") from None
    except (ValueError, RunError) as exc:
        raise bad_input(exc) from None
    options = {k: v for k, v in {"sampler": args.sampler, "steps": args.sample_steps, "eta": args.eta,
                                 "guidance_scale": args.guidance}.items() if v is not None}
    if args.class_label is not None:
        options["labels"] = torch.full((args.n,), args.class_label, dtype=torch.long)
    batches = generate_batches(model, args.n, args.seed, **options)
    out = save_grid_png(batches, args.n, args.out, scale=max(1, args.scale))
    print(f"wrote {args.n} samples from {run.path} (step {run.step}) to {out}")
    return 0


# how ``studio sample`` names the fields of engine.sampling.check_options
SAMPLE_FLAGS = {"sampler": "--sampler", "steps": "--sample-steps", "eta": "--eta", "guidance": "--guidance",
                "label": "--class", "out": "--out"}


def cmd_eval(args: argparse.Namespace) -> int:
    from .engine.devices import resolve_device
    from .metrics import ClassifierError, evaluate_run
    from .metrics.report import StageBars, format_evaluation
    from .models import get_family
    from .runs import Run, RunError

    if args.n < 10:
        raise UsageError("error: --n must be at least 10 samples")
    if args.k < 1 or args.nll_images < 1:
        raise UsageError("error: --k and --nll-images must be at least 1")
    try:
        run = Run.open(args.run)
        device = resolve_device(args.device)
        samplers = get_family(run.family).capabilities.samplers
    except (ValueError, RunError) as exc:
        raise bad_input(exc) from None
    options = {}
    if args.sample_steps is not None:
        if not samplers:
            raise UsageError(f"error: --sample-steps applies to diffusion models; {run.family} has none")
        from .engine.sampling import check_options
        from .runs import load_model

        try:  # the one rule for sampling options (as studio sample and the window)
            check_options(load_model(run), steps=args.sample_steps)
        except SpecError as exc:
            raise UsageError(f"error: {exc.worded(SAMPLE_FLAGS)}") from None
        except (ValueError, RunError) as exc:
            raise bad_input(exc) from None
        options["steps"] = args.sample_steps
    _set_threads(args.threads)
    bars = StageBars(enabled=sys.stderr.isatty() or not args.json)
    try:
        result = evaluate_run(run, n=args.n, seed=args.seed, device=device, k=args.k, nll_images=args.nll_images,
                              progress=bars, **options)
    except (ClassifierError, RunError) as exc:
        raise bad_input(exc) from None
    finally:
        bars.close()
    print(json.dumps(result) if args.json else format_evaluation(result))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import time

    from .runs import default_runs_root

    run_dir = args.run_dir or str(default_runs_root() / f"demo-vae-{time.strftime('%Y%m%d-%H%M%S')}")
    print("Generative Studio headless demo: training a VAE on fashion-mnist-5k ('studio' alone opens the window).")
    code = cmd_train(build_parser().parse_args(
        ["train", "--family", "vae", "--steps", str(args.steps), "--run-dir", run_dir, "--preview-every", "0"]))
    if code == 0:
        cmd_sample(build_parser().parse_args(["sample", run_dir, "--n", "64", "--out",
                                              str(Path(run_dir) / "samples" / "demo-grid.png")]))
    return code


COMMANDS = {"train": cmd_train, "resume": cmd_resume, "sample": cmd_sample, "demo": cmd_demo, "eval": cmd_eval,
            **cli_info.COMMANDS, **cli_edit.COMMANDS}


# --- helpers ------------------------------------------------------------------------
def _parse_assignment(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise UsageError(f"error: --set expects KEY=VALUE, got {item!r}")
    key, value = item.split("=", 1)
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(value.lower(), value)


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise UsageError("error: --threads must be at least 1")
        import torch

        torch.set_num_threads(threads)


class _reporter:
    """Context manager giving a tqdm-backed reporter that is closed on exit."""

    def __enter__(self):
        from .engine.tqdm_reporter import TqdmReporter

        self.reporter = TqdmReporter()
        return self.reporter

    def __exit__(self, *exc):
        self.reporter.close()
