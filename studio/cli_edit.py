"""The editing commands of the CLI (``studio edit | inpaint | encode | denoise``), on
``studio.editing``. Registered by ``studio.cli``; the same rules hold: bad input gives one line on
stderr and exit code 2 with nothing written, long work shows a progress bar.

Pictures are fitted to the model (``--fit crop|pad``) and decoded with bounded size; results are
written at the model's resolution (several as a grid) plus a copy magnified ``--scale`` times
(``OUT-x8.png`` beside ``OUT.png``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_SCALE = 8


def add_parsers(sub, devices: tuple[str, ...]) -> None:
    """The four subcommands, added to the ``studio`` parser's subparsers."""
    edit = sub.add_parser("edit", help="SDEdit / img2img with a diffusion run: noise your picture to --strength "
                                       "and denoise it (with --class: swap its class)")
    edit.add_argument("run", help="run folder of a diffusion model (ddpm)")
    edit.add_argument("--strength", type=float, default=0.6,
                      help="t₀ in [0, 1]: 0 returns the picture, 1 ignores it (plain sampling); default 0.6")
    _picture_options(edit, devices)
    _diffusion_options(edit)

    inpaint = sub.add_parser("inpaint", help="regenerate the masked part of your picture with a diffusion run "
                                             "(RePaint)")
    inpaint.add_argument("run", help="run folder of a diffusion model (ddpm)")
    inpaint.add_argument("--mask", required=True,
                         help="mask image (white = regenerate, black = keep), or left, right, top, bottom, centre")
    inpaint.add_argument("--invert-mask", action="store_true", help="regenerate the black part instead")
    inpaint.add_argument("--jump-length", type=int, default=5, help="RePaint jump length j (default 5 steps)")
    inpaint.add_argument("--resample", type=int, default=5,
                         help="RePaint resampling count r (default 5; 1 = no resampling)")
    _picture_options(inpaint, devices)
    _diffusion_options(inpaint)

    encode = sub.add_parser("encode", help="your picture's latent code (autoencoder, vae, cvae, realnvp), or "
                                           "a GAN's z found by optimisation (dcgan, cdcgan, wgan-gp)")
    encode.add_argument("run", help="run folder")
    encode.add_argument("--image", required=True, help="picture file (png, jpg, webp, …)")
    encode.add_argument("--fit", choices=("crop", "pad"), default="crop",
                        help="a non-square picture: crop its centre (default) or pad it")
    encode.add_argument("--out", help="write the latent here as a .npy file (float32, shape (d,))")
    encode.add_argument("--reconstruction", metavar="PNG", help="also write decode(latent) as a PNG")
    encode.add_argument("--class", dest="class_label", type=int, help="cvae / cdcgan: the picture's class")
    encode.add_argument("--steps", type=int, default=300, help="GANs: optimisation steps on z (default 300)")
    encode.add_argument("--lr", type=float, default=0.05, help="GANs: Adam learning rate on z (default 0.05)")
    encode.add_argument("--seed", type=int, default=0, help="GANs: seed of the starting z (default 0)")
    encode.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="magnification of the PNG copy")
    encode.add_argument("--device", choices=devices, default="auto")

    denoise = sub.add_parser("denoise", help="add Gaussian noise of --sigma to your picture and clean it with an "
                                             "autoencoder (best one trained with --set denoise=σ)")
    denoise.add_argument("run", help="run folder of an autoencoder, vae or cvae")
    denoise.add_argument("--sigma", type=float, required=True,
                         help="noise σ in [-1, 1] pixel units (0.3 ≈ 38 grey levels; 0: the picture is already noisy)")
    denoise.add_argument("--class", dest="class_label", type=int, help="cvae: the picture's class")
    _picture_options(denoise, devices)


def _picture_options(p: argparse.ArgumentParser, devices) -> None:
    p.add_argument("--image", required=True, help="picture file (png, jpg, webp, …)")
    p.add_argument("--out", required=True, help="PNG to write at the model's resolution (and OUT-xS.png magnified)")
    p.add_argument("--fit", choices=("crop", "pad"), default="crop",
                   help="a non-square picture: crop its centre (default) or pad it")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--scale", type=int, default=DEFAULT_SCALE,
                   help=f"magnification of the copy (default {DEFAULT_SCALE}; 1: no copy)")
    p.add_argument("--device", choices=devices, default="auto")


def _diffusion_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=1, help="edits of the picture, each with its own noise (1-16)")
    p.add_argument("--sampler", help="ddpm, ddim or dpmpp2m (default: the run's)")
    p.add_argument("--sample-steps", type=int, help="steps of the sampler's whole grid (default: the run's)")
    p.add_argument("--eta", type=float, help="DDIM η (default: the run's)")
    p.add_argument("--class", dest="class_label", type=int,
                   help="class-conditional runs: denoise towards this class (a class swap in 'edit')")
    p.add_argument("--guidance", type=float, help="classifier-free guidance scale with --class (default: the run's)")


# --- shared steps -----------------------------------------------------------------------------------
# how these commands name the fields of a SpecError (the rest as the spec spells them)
FLAGS = {"strength": "--strength", "image": "--image", "mask": "--mask", "out": "--out", "fit": "--fit",
         "reconstruction": "--reconstruction", "jump_length": "--jump-length", "resample": "--resample",
         "sigma": "--sigma", "steps": "--steps", "lr": "--lr", "run": "the run", "batch": "--n", "seed": "--seed",
         "label": "--class", "sampler": "--sampler", "eta": "--eta", "guidance": "--guidance"}


def _usage(exc: Exception, sample_steps: bool = True):
    """A bad input as the CLI's one line, naming a spec field by its flag."""
    from .errors import UsageError
    from .errors import SpecError

    if isinstance(exc, SpecError):
        flags = {**FLAGS, "steps": "--sample-steps"} if sample_steps else FLAGS
        return UsageError(f"error: {exc.worded(flags)}")
    return UsageError(f"error: {exc}")


def _open(args):
    """(run, model) of ``args.run`` on ``args.device``; bad input → UsageError."""
    from .engine.devices import resolve_device
    from .runs import Run, RunError, load_model

    try:
        run = Run.open(args.run)
        return run, load_model(run, resolve_device(args.device))
    except (ValueError, RunError) as exc:
        raise _usage(exc) from None


def _check_common(args) -> None:
    from .errors import UsageError

    if getattr(args, "scale", 1) < 1 or getattr(args, "scale", 1) > 64:
        raise UsageError(f"error: --scale must be in 1..64, got {args.scale}")
    if getattr(args, "seed", 0) < 0:
        raise UsageError(f"error: --seed must be non-negative, got {args.seed}")


def _sampling_spec(model, args):
    from .engine.sampling import SamplingSpec
    from .errors import SpecError

    cfg = model.config
    sampler = args.sampler or cfg.sampler
    steps = args.sample_steps
    if steps is None:
        steps = model.num_train_timesteps if sampler == "ddpm" else cfg.sample_steps
    guidance = args.guidance
    if guidance is not None and args.class_label is None:
        raise SpecError("goes with --class (classifier-free guidance towards a class)", "guidance")
    if guidance is None:
        guidance = getattr(cfg, "guidance_scale", 1.0)
    return SamplingSpec(sampler=sampler, steps=steps, eta=cfg.eta if args.eta is None else args.eta,
                        seed=args.seed, batch=args.n, label=args.class_label, guidance=guidance)


def _run(job) -> object:
    """Run a job with a progress bar; a failure (not bad input: that was checked) exits 1."""
    from .engine.jobs import run_job
    from .engine.tqdm_reporter import TqdmReporter

    reporter = TqdmReporter()
    try:
        outcome = run_job(job, reporter)
    finally:
        reporter.close()
    if not outcome.ok:
        print(f"error: {outcome.error or outcome.status}", file=sys.stderr)
        raise SystemExit(1)
    return outcome.result


def _write(images, out, scale) -> str:
    from .editing import save_pictures

    path, big = save_pictures(images, out, scale)
    return f"{path}" + (f" (and ×{scale}: {big})" if big else "")


# --- commands -------------------------------------------------------------------------------------
def _diffusion_edit(args: argparse.Namespace, make_job):
    """Check the inputs every diffusion edit shares (run, output, sampling options, picture),
    build the job with ``make_job(model, picture, spec)`` and run it: (job, result)."""
    from .editing import load_picture
    from .editing.diffusion import check_diffusion
    from .editing.picture import check_output

    _check_common(args)
    _, model = _open(args)
    try:
        check_diffusion(model)
        check_output(args.out)
        spec = _sampling_spec(model, args)
        picture = load_picture(args.image, model.image_shape, args.fit)
        job = make_job(model, picture, spec)
    except ValueError as exc:
        raise _usage(exc) from None
    return job, _run(job)


def cmd_edit(args: argparse.Namespace) -> int:
    from .editing import SDEditJob, class_swap_job

    def make_job(model, picture, spec):
        if args.class_label is not None:
            return class_swap_job(model, picture, args.class_label, args.strength, spec.guidance, spec)
        return SDEditJob(model, picture, spec, args.strength)

    job, result = _diffusion_edit(args, make_job)
    print(f"{job.describe()}\nwrote {_write(result.images, args.out, args.scale)}")
    return 0


def cmd_inpaint(args: argparse.Namespace) -> int:
    from .editing import InpaintJob, load_mask

    def make_job(model, picture, spec):
        mask = load_mask(args.mask, model.image_shape, args.fit, invert=args.invert_mask)
        return InpaintJob(model, picture, mask, spec, args.jump_length, args.resample)

    job, result = _diffusion_edit(args, make_job)
    share = 100 * float(job.mask.mean())
    print(f"{job.describe()}\nregenerated {share:.0f}% of the picture; wrote "
          f"{_write(result.images, args.out, args.scale)}")
    return 0


def cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    from .editing import InvertJob, load_picture, psnr, round_trip
    from .editing.picture import check_output
    from .errors import SpecError
    from .export import check_writable

    _check_common(args)
    run, model = _open(args)
    caps = model.capabilities
    try:
        if args.out is not None:
            out = Path(args.out)
            if out.suffix.lower() != ".npy":
                raise SpecError(f"{out} must end in .npy", field="out")
            check_writable(out)
        if args.reconstruction is not None:
            check_output(args.reconstruction, "reconstruction")
        picture = load_picture(args.image, model.image_shape, args.fit)
        labels = args.class_label
        if caps.encode:
            z, recon = round_trip(model, picture, labels)
            how = "encoded"
        else:
            job = InvertJob(model, picture, steps=args.steps, lr=args.lr, seed=args.seed, labels=labels)
    except ValueError as exc:
        raise _usage(exc, sample_steps=False) from None
    if not caps.encode:
        inversion = _run(job)
        z, recon = inversion.z, inversion.images
        how = (f"inverted by optimising z ({args.steps} Adam steps): MSE {inversion.errors[0]:.4f} → "
               f"{min(inversion.errors):.4f}")
    z = z[0].detach().float().cpu()
    quality = psnr(recon.cpu(), picture.cpu()).item()
    values = np.array2string(z.numpy(), precision=4, separator=", ", max_line_width=100, threshold=z.numel() + 1)
    print(f"{args.image} {how} by {run.family} {run.path.name}: latent of {z.numel()} values, ‖z‖ = "
          f"{z.norm():.3f}\n{values}\nround trip decode(z): PSNR {quality:.1f} dB against the fitted picture")
    if args.out is not None:
        np.save(args.out, z.numpy().astype(np.float32), allow_pickle=False)
        print(f"wrote {args.out}")
    if args.reconstruction is not None:
        print(f"wrote {_write(recon, args.reconstruction, args.scale)}")
    return 0


def cmd_denoise(args: argparse.Namespace) -> int:
    from .editing import denoise_picture, load_picture, psnr
    from .editing.picture import check_output

    _check_common(args)
    run, model = _open(args)
    try:
        check_output(args.out)
        picture = load_picture(args.image, model.image_shape, args.fit)
        noisy, cleaned = denoise_picture(model, picture, args.sigma, args.seed, args.class_label)
    except ValueError as exc:
        raise _usage(exc) from None
    noisy_path = Path(args.out).with_name(f"{Path(args.out).stem}-noisy.png")
    written = _write(cleaned, args.out, args.scale)
    _write(noisy, noisy_path, args.scale)
    trained = getattr(model.config, "denoise", 0)
    kind = f"a denoising autoencoder, trained at σ {trained:g}" if trained else "not trained for denoising"
    line = f"denoised with {run.family} {run.path.name} ({kind})"
    if args.sigma > 0:
        before, after = psnr(noisy.cpu(), picture).item(), psnr(cleaned.cpu(), picture).item()
        line += f": PSNR against your picture {before:.1f} dB noisy → {after:.1f} dB cleaned"
    print(f"{line}\nwrote {written}; the noisy input: {noisy_path}")
    return 0


COMMANDS = {"edit": cmd_edit, "inpaint": cmd_inpaint, "encode": cmd_encode, "denoise": cmd_denoise}
