"""The editing figures and tables of the README (docs/editing/), on the bundled demos.

    python scripts/editing_figures.py OUT_DIR --dae RUN     # RUN: an autoencoder trained with --set denoise=0.3

- ``denoise.md``: PSNR on noisy fashion-mnist-5k test images (1000, Gaussian σ in [−1, 1] units,
  clipped): the noisy input, a Gaussian blur (its width picked on 500 training images), the plain
  demo autoencoder, and the denoising autoencoder RUN.
- ``inpaint-demo-ddpm.png``: test garments, the right half masked (grey), three RePaint fillings.
- ``sdedit-demo-ddpm.png`` and ``sdedit.md``: SDEdit of test garments at growing strength; the
  classifier-feature distance of the edits to their input and to plain samples, and how often the
  classifier still sees the input's class.
- ``class-swap-demo-ddpm-cfg.png``: shirts and pullovers turned into dresses (class 3).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch

from studio.data import load_dataset, to_unit_range
from studio.editing import InpaintJob, SDEditJob, class_swap_job, denoise_picture, load_mask, psnr
from studio.editing.picture import to_pixels
from studio.engine.control import Control
from studio.engine.reporting import RecordingReporter
from studio.engine.sampling import SamplingSpec, tile
from studio.imaging import save_png
from studio.runs import Run, demo_runs_root, load_model

SIGMAS = (0.1, 0.3, 0.5)
BLUR_WIDTHS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.5, 2.0)


def blur(x: torch.Tensor, width: float) -> torch.Tensor:
    from torchvision.transforms.functional import gaussian_blur

    k = 2 * math.ceil(3 * width) + 1
    return gaussian_blur(x, [k, k], [width, width])


def denoise_table(dae_path: str, out: Path) -> str:
    test = to_unit_range(load_dataset("fashion-mnist-5k", split="test").images[:1000])
    train = to_unit_range(load_dataset("fashion-mnist-5k", split="train").images[:500])
    plain = load_model(Run.open(demo_runs_root() / "autoencoder-fashion-mnist"))
    dae = load_model(Run.open(dae_path))
    rows = {"noisy input": [], "Gaussian blur (best width)": [], "plain autoencoder (demo, 2000 steps)": [],
            f"denoising autoencoder (σ {dae.config.denoise:g}, {Run.open(dae_path).step} steps)": []}
    widths = {}
    for sigma in SIGMAS:
        noisy_train, _ = denoise_picture(plain, train, sigma, seed=1)
        width = widths[sigma] = max(BLUR_WIDTHS, key=lambda w: psnr(blur(noisy_train, w), train).mean().item())
        noisy, from_plain = denoise_picture(plain, test, sigma, seed=0)
        _, from_dae = denoise_picture(dae, test, sigma, seed=0)
        values = [psnr(noisy, test), psnr(blur(noisy, width), test), psnr(from_plain, test), psnr(from_dae, test)]
        for (name, cells), v in zip(rows.items(), values):
            cells.append(f"{v.mean().item():.2f}" + (f" (width {width:g} px)" if "blur" in name else ""))
    head = "| PSNR (dB), 1000 test images | " + " | ".join(f"σ = {s:g}" for s in SIGMAS) + " |"
    lines = [head, "| --- |" + " --- |" * len(SIGMAS)] + [f"| {k} | " + " | ".join(v) + " |" for k, v in rows.items()]
    table = "\n".join(lines) + "\n"
    (out / "denoise.md").write_text(table)
    # a picture: noisy | blur | plain AE | denoising AE for 8 test garments at σ 0.3
    noisy, from_plain = denoise_picture(plain, test[:8], 0.3, seed=0)
    _, from_dae = denoise_picture(dae, test[:8], 0.3, seed=0)
    cols = [test[:8], noisy, blur(noisy, widths[0.3]), from_plain, from_dae]
    rows = [to_pixels(torch.stack([c[i] for c in cols])) for i in range(8)]
    save_png(tile(np.concatenate(rows), ncol=5), out / "denoise-demo.png", scale=4)
    return table


def inpaint_figure(out: Path) -> None:
    model = load_model(Run.open(demo_runs_root() / "ddpm-fashion-mnist"))
    test = to_unit_range(load_dataset("fashion-mnist-5k", split="test").images[:6])
    mask = load_mask("right", model.image_shape)
    rows = []
    for x in test:
        spec = SamplingSpec(sampler="ddim", steps=50, eta=1.0, seed=0, batch=3)
        result = InpaintJob(model, x[None], mask, spec, jump_length=5, resample=5)(RecordingReporter(), Control())
        shown = torch.where(mask.bool(), torch.zeros_like(x), x)[0:1]  # the masked half grey (0 = mid-grey)
        rows.append(to_pixels(torch.cat([x[None], shown, result.images])))
    save_png(tile(np.concatenate(rows), ncol=5), out / "inpaint-demo-ddpm.png", scale=4)


def sdedit_figure(out: Path) -> str:
    from studio.metrics.classifier import load_classifier

    model = load_model(Run.open(demo_runs_root() / "ddpm-fashion-mnist"))
    ds = load_dataset("fashion-mnist-5k", split="test")
    x, y = to_unit_range(ds.images[:16]), ds.labels[:16]
    clf = load_classifier("fashion-mnist-5k")
    strengths = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    edits = {}
    for s in strengths:
        spec = SamplingSpec(sampler="ddim", steps=50, eta=1.0, seed=3, batch=16)
        edits[s] = SDEditJob(model, x, spec, s)(RecordingReporter(), Control()).images
    with torch.no_grad():
        f_in = clf.features(x)
        f_random = clf.features(edits[1.0])  # strength 1: plain samples, the same noise
        lines = ["| strength t₀ | 0 | 0.2 | 0.4 | 0.6 | 0.8 | 1 |", "| --- |" + " --- |" * len(strengths)]
        to_input, to_random, same = [], [], []
        for s in strengths:
            f = clf.features(edits[s])
            to_input.append((f - f_in).norm(dim=1).mean().item())
            to_random.append(torch.cdist(f, f_random).mean().item())
            same.append((clf(edits[s]).argmax(1) == y).float().mean().item())
    lines.append("| feature distance to the input | " + " | ".join(f"{v:.2f}" for v in to_input) + " |")
    lines.append("| feature distance to plain samples | " + " | ".join(f"{v:.2f}" for v in to_random) + " |")
    lines.append("| classifier keeps the input's class | " + " | ".join(f"{100 * v:.0f}%" for v in same) + " |")
    table = "\n".join(lines) + "\n"
    (out / "sdedit.md").write_text(table)
    cells = [to_pixels(torch.stack([edits[s][i] for s in strengths])) for i in range(6)]
    save_png(tile(np.concatenate(cells), ncol=len(strengths)), out / "sdedit-demo-ddpm.png", scale=4)
    # class swap: shirts (6) and pullovers (2) into dresses (3) on the conditional demo
    cfg = load_model(Run.open(demo_runs_root() / "ddpm-cfg-fashion-mnist"))
    picks = [i for i in range(len(ds)) if int(ds.labels[i]) in (2, 6)][:4]
    rows = []
    for i in picks:
        pic = to_unit_range(ds.images[i:i + 1])
        spec = SamplingSpec(sampler="ddim", steps=50, eta=1.0, seed=0, batch=3)
        swapped = class_swap_job(cfg, pic, 3, strength=0.7, spec=spec)(RecordingReporter(), Control()).images
        rows.append(to_pixels(torch.cat([pic, swapped])))
    save_png(tile(np.concatenate(rows), ncol=4), out / "class-swap-demo-ddpm-cfg.png", scale=4)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the figures and tables")
    parser.add_argument("--dae", required=True, help="run folder of an autoencoder trained with --set denoise=0.3")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    print(denoise_table(args.dae, out))
    inpaint_figure(out)
    print(sdedit_figure(out))
    print(f"wrote {sorted(p.name for p in out.iterdir())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
