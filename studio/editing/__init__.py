"""Editing your own pictures with the models you trained (Qt-free; each long piece is a job of
the one protocol, ``job(reporter, control) -> result``, see ``studio.engine.jobs``).

- ``picture``: bring a picture in (any image file or pasted pixels → the model's resolution,
  channels and [−1, 1] range; crop or pad), inpainting masks, writing results.
- ``diffusion``: SDEdit / img2img, class swap and RePaint inpainting on the viewer's
  step-by-step machinery (x_t, x̂₀, ε at every step).
- ``encoding``: encode → decode for families with an encoder, GAN inversion by optimising z,
  denoising with an autoencoder, PSNR.
"""

from __future__ import annotations

from .diffusion import EditResult, InpaintJob, SDEditJob, class_swap_job, repaint_path
from .encoding import Inversion, InvertJob, decode_latent, denoise_picture, encode_picture, psnr, round_trip
from .picture import FITS, MASK_NAMES, fit_array, load_mask, load_picture, save_pictures

__all__ = ["EditResult", "FITS", "InpaintJob", "Inversion", "InvertJob", "MASK_NAMES", "SDEditJob",
           "class_swap_job", "decode_latent", "denoise_picture", "encode_picture", "fit_array", "load_mask",
           "load_picture", "psnr", "repaint_path", "round_trip", "save_pictures"]
