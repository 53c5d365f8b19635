"""Your picture in a model's latent space: encode (families with an encoder), invert a GAN by
optimising z, and clean a noisy picture with an autoencoder.

- ``encode_picture`` / ``decode_latent``: the encoder's code (the posterior mean for a VAE,
  the exact f(x) for RealNVP) and back; a cVAE needs the picture's class.
- ``InvertJob``: GANs have no encoder, so z is found by gradient descent on the
  reconstruction error ‖G(z) − x‖² (Zhu et al. 2016, "Generative Visual Manipulation on the
  Natural Image Manifold", §3.1, without their encoder initialisation): the best of a few
  random starting z, then Adam on z, with a small pull ‖z‖²/d towards the prior's typical
  set. A job of the one protocol: progress and the error per iteration through the reporter,
  pause / cancel through the control.
- ``denoise_picture``: noisy → cleaned by an autoencoder's reconstruction; trained with
  ``--set denoise=σ`` it is a denoising autoencoder (Vincent et al. 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import rng
from ..engine.jobs import Cancelled, Control, Progress, Reporter
from ..errors import SpecError
from ..models.autoencoder import add_pixel_noise

INVERT_STEPS = 300
INVERT_LR = 0.05
INVERT_CANDIDATES = 64  # random z tried before the descent; the best one starts it
PRIOR_WEIGHT = 1e-3  # λ of λ‖z‖²/d


def _labels(model, labels, n: int, what: str, required: bool) -> Tensor | None:
    """Checked labels (N,) for a class-conditional model; None for the others."""
    if not getattr(model.capabilities, "class_conditional", False):
        if labels is not None:
            raise SpecError(f"does not apply: this {model.family} is unconditional", field="label")
        return None
    if labels is None:
        if required:
            raise SpecError(f"is needed: a {model.family} {what} given its class "
                            f"(0..{model.num_classes - 1})", field="label")
        return None
    device = next(model.parameters()).device
    y = torch.as_tensor(labels, dtype=torch.int64, device=device).reshape(-1)
    y = y.expand(n) if y.numel() == 1 else y
    if y.numel() != n or int(y.min()) < 0 or int(y.max()) >= model.num_classes:
        raise SpecError(f"must be in 0..{model.num_classes - 1} for each of the {n} pictures, "
                        f"got {labels}", field="label")
    return y


def _on_device(model, x: Tensor) -> Tensor:
    x = x.float()
    x = x[None] if x.dim() == 3 else x
    if x.dim() != 4 or tuple(x.shape[1:]) != tuple(model.image_shape):
        raise SpecError(f"must be (N, {', '.join(map(str, model.image_shape))}) for this model, "
                        f"got {tuple(x.shape)}", field="image")
    return x.to(next(model.parameters()).device)


def encode_picture(model, x: Tensor, labels=None) -> Tensor:
    """Pictures float (N, C, H, W) in [−1, 1] → latent codes float (N, d). Raises ``SpecError``
    for a family without an encoder (GANs: use ``InvertJob``) or a cVAE without the class."""
    if not model.capabilities.encode:
        raise SpecError(f"({model.family}) has no encoder; GANs are inverted by optimising z instead (InvertJob)",
                        field="run")
    x = _on_device(model, x)
    y = _labels(model, labels, x.shape[0], "encodes a picture", required=True)
    return model.encode(x) if y is None else model.encode(x, labels=y)


def decode_latent(model, z: Tensor, labels=None) -> Tensor:
    """Latent codes (N, d) → pictures float (N, C, H, W) in [−1, 1]."""
    if not model.capabilities.decode:
        raise SpecError(f"({model.family}) has no decoder", field="run")
    y = _labels(model, labels, z.shape[0], "decodes", required=False)
    out = model.decode(z) if y is None else model.decode(z, labels=y)
    return out.clamp(-1, 1)


def round_trip(model, x: Tensor, labels=None) -> tuple[Tensor, Tensor]:
    """(z, decode(encode(x))) of pictures x."""
    z = encode_picture(model, x, labels)
    return z, decode_latent(model, z, labels)


def psnr(a: Tensor, b: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB per image of pictures in [−1, 1] (peak-to-peak 2):
    10 log₁₀(2² / MSE). Shape (N,)."""
    mse = (a.float() - b.float()).square().flatten(1).mean(1)
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-12))


# --- denoising ------------------------------------------------------------------------------------
def check_denoiser(model) -> None:
    caps = model.capabilities
    if not caps.reconstruct or caps.exact_likelihood:
        why = "an invertible flow reconstructs the noise too" if caps.exact_likelihood else "it has no encoder"
        raise SpecError(f"({model.family}) cannot denoise: use an autoencoder, vae or cvae "
                        f"({why})", field="run")


def denoise_picture(model, x: Tensor, sigma: float, seed: int = 0, labels=None) -> tuple[Tensor, Tensor]:
    """(noisy, cleaned): ``x`` float (N, C, H, W) in [−1, 1] with Gaussian noise of ``sigma``
    (the model's [−1, 1] pixel units, clipped; 0 = the picture is already noisy) from ``seed``,
    and its reconstruction by the autoencoder."""
    check_denoiser(model)
    s = float(sigma)
    if not 0 <= s <= 2:
        raise SpecError(f"must be in [0, 2] ([-1, 1] pixel units; 0 = the picture is already noisy), "
                        f"got {sigma}", field="sigma")
    x = _on_device(model, x)
    noisy = add_pixel_noise(x, s, rng.generator(int(seed)))
    y = _labels(model, labels, x.shape[0], "reconstructs a picture", required=True)
    cleaned = model.reconstruct(noisy) if y is None else model.reconstruct(noisy, labels=y)
    return noisy, cleaned.clamp(-1, 1)


# --- GAN inversion --------------------------------------------------------------------------------
@dataclass
class Inversion:
    """``z`` float (N, d) that best reconstructs the pictures, ``images`` = G(z) in [−1, 1] and
    ``errors`` the mean squared error (per pixel, [−1, 1] units) after every iteration."""

    z: Tensor
    images: Tensor
    errors: list[float]


class InvertJob:
    """Find z with G(z) ≈ ``target`` (float (N, C, H, W) in [−1, 1]) for a GAN (a family that
    decodes but has no encoder): ``steps`` Adam iterations at learning rate ``lr`` from the best
    of ``candidates`` random z drawn from ``seed``. A job: ``InvertJob(...)(reporter, control)
    -> Inversion``; it reports ``Progress(i, steps)``, ``metrics(i, {"mse": e})`` and, every
    ``preview_every`` iterations, ``preview(i, G(z))``; it raises ``Cancelled`` once the control
    is stopped or cancelled."""

    def __init__(self, model, target: Tensor, steps: int = INVERT_STEPS, lr: float = INVERT_LR, seed: int = 0,
                 labels=None, candidates: int = INVERT_CANDIDATES, prior_weight: float = PRIOR_WEIGHT,
                 preview_every: int = 25):
        caps = model.capabilities
        if caps.encode or not caps.decode or not hasattr(model, "_generate"):
            raise SpecError(f"({model.family}) cannot be inverted by optimising z (that is for GANs): it "
                            f"{'has an encoder: encode the picture' if caps.encode else 'has no generator'}",
                            field="run")
        if not 1 <= int(steps) <= 100_000:
            raise SpecError(f"must be in 1..100000, got {steps}", field="steps")
        if not 0 < float(lr) <= 10:
            raise SpecError(f"must be in (0, 10], got {lr}", field="lr")
        self.model, self.steps, self.lr = model, int(steps), float(lr)
        self.target = _on_device(model, target)
        n = self.target.shape[0]
        self.labels = _labels(model, labels, n, "inverts a picture", required=True)
        self.seed, self.candidates, self.prior_weight = int(seed), max(1, int(candidates)), float(prior_weight)
        self.preview_every = preview_every

    def _generate(self, z: Tensor) -> Tensor:
        # the generator with gradients (``decode`` runs without); eval mode: BatchNorm's running stats
        return self.model._generate(z, self.labels).float()

    @torch.no_grad()
    def _start(self) -> Tensor:
        """Per picture, the best of ``candidates`` z ~ N(0, I)."""
        model, n = self.model, self.target.shape[0]
        shape = (self.candidates, n, model.capabilities.latent_dim)
        z = rng.randn(shape, rng.generator(self.seed), self.target.device)
        best = z[0].clone()
        best_err = torch.full((n,), float("inf"), device=z.device)
        for cand in z:
            err = (self._generate(cand) - self.target).square().flatten(1).mean(1)
            better = err < best_err
            best[better], best_err[better] = cand[better], err[better]
        return best

    def __call__(self, reporter: Reporter, control: Control) -> Inversion:
        from ..models.convnets import eval_mode

        model = self.model
        errors: list[float] = []
        with eval_mode(model):
            z = self._start().requires_grad_(True)
            opt = torch.optim.Adam([z], lr=self.lr)
            best_z, best_err = z.detach().clone(), float("inf")
            for i in range(1, self.steps + 1):
                if control.wait_while_paused():
                    raise Cancelled()
                with torch.enable_grad():
                    image = self._generate(z)
                    mse = F.mse_loss(image, self.target)
                    loss = mse + self.prior_weight * z.square().mean()
                    # gradients for z only: the model's own .grad stays untouched
                    (grad,) = torch.autograd.grad(loss, z)
                err = mse.item()  # the error of the z before this update
                if err < best_err:
                    best_z, best_err = z.detach().clone(), err
                z.grad = grad
                opt.step()
                errors.append(err)
                reporter.progress(Progress(i, self.steps))
                reporter.metrics(i, {"mse": err})
                if self.preview_every and (i % self.preview_every == 0 or i == self.steps):
                    reporter.preview(i, image.detach().clamp(-1, 1))
            with torch.no_grad():
                final = self._generate(z.detach())
                final_err = F.mse_loss(final, self.target).item()
                if final_err < best_err:
                    best_z, best_err = z.detach().clone(), final_err
                images = self._generate(best_z).clamp(-1, 1)
        return Inversion(best_z, images, errors)


__all__ = ["INVERT_STEPS", "Inversion", "InvertJob", "check_denoiser", "decode_latent", "denoise_picture",
           "encode_picture", "psnr", "round_trip"]
