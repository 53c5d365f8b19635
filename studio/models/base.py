"""The interface every model family implements (its options, capabilities and defaults are
torch-free: ``config.py``, ``options.py``).

A family is one ``GenerativeModel`` subclass in one file. The engine, the CLI and the
GUI only talk to this interface; panels enable features from ``capabilities`` instead
of testing family names.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, ClassVar, ContextManager

import torch
from torch import Tensor, nn

# torch-free (the window's forms and the CLI's checks read them before torch is in); exported here too
from .config import Capabilities, FamilyOptions, config_from_dict, param, validate_config  # noqa: F401

Autocast = Callable[[], ContextManager[Any]]


def no_autocast() -> ContextManager[Any]:
    return contextlib.nullcontext()


def class_labels(labels: Tensor | None, n: int, num_classes: int, device: torch.device | str) -> Tensor:
    """The labels of a conditional batch of ``n``: ``labels`` checked, or cycling 0, 1, …, K−1."""
    if labels is None:
        return torch.arange(n, device=device) % num_classes
    labels = torch.as_tensor(labels, device=device).long().reshape(-1)
    if labels.shape[0] != n:
        raise ValueError(f"got {labels.shape[0]} labels for {n} images")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0…{num_classes - 1} (got {labels.min().item()}…"
                         f"{labels.max().item()})")
    return labels


def require_classes(family: str, num_classes: int, data: str = "the dataset", what: str = "") -> None:
    """Raise the error a conditional family gives on a dataset without labels."""
    if num_classes < 2:
        raise ValueError(
            f"{family}{what} is class-conditional and needs a labelled dataset with at least 2 classes, "
            f"but {data} has {num_classes or 'no'} labels: pick a labelled dataset (fashion-mnist-5k, "
            f"mnist-5k, shapes, color-shapes, or a folder with one subfolder per class)"
            + (" or leave class conditioning off" if what else ""))


class GenerativeModel(FamilyOptions, nn.Module):
    """Base class of every family.

    Images enter and leave as float tensors in [-1, 1], shape (N, C, H, W).
    ``image_shape`` is (C, H, W) of the dataset; H == W is one of 28, 32, 64 or 128.
    """

    def __init__(self, config: Any, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__()
        self.config = config
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes

    # --- training -----------------------------------------------------------------
    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        """One full update (forward, backward, optimizer step(s), EMA).

        Returns named scalar metrics as detached 0-d tensors; the first key is the
        headline curve (``recon``, ``loss``, ``d_loss``, ``eps_mse``...)."""
        raise NotImplementedError

    def compile_networks(self) -> list[str]:
        """Compile the forward of each network (each child module: encoder, generator, U-Net…)
        with ``torch.compile`` (TorchInductor; Ansel et al. 2024, "PyTorch 2"), in place, so that
        state dicts keep their keys. Compilation happens at the first call of each input shape (a
        one-off cost of seconds to minutes); ``engine.trainer`` does this for ``--compile``.
        Returns the names compiled."""
        names = []
        for name, child in self.named_children():
            if any(p.requires_grad for p in child.parameters()):  # not frozen copies (the EMA net)
                child.compile()
                names.append(name)
        return names

    # --- generation ---------------------------------------------------------------
    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """The starting noise of ``sample``; the engine keeps a fixed one for previews."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, noise: Tensor | None = None, generator: torch.Generator | None = None,
               **options: Any) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def preview(self, noise: Tensor, real: Tensor, **labels: Any) -> Tensor:
        """Images for the live preview grid: samples from ``noise`` (and, for
        autoencoders, reconstructions of ``real`` appended after them). Class-conditional
        models also get ``labels=`` (the labels of ``real``)."""
        return self.sample(noise.shape[0], noise=noise)

    # --- optional, per capabilities ---------------------------------------------------
    # Class-conditional families (``capabilities.class_conditional``) also take ``labels=``
    # (LongTensor (N,)) in ``sample`` and ``decode`` (and ``encode`` where it needs them);
    # ``labels=None`` cycles through the classes 0, 1, …, K−1.
    def encode(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{self.family} has no encoder")

    def decode(self, z: Tensor) -> Tensor:
        raise NotImplementedError(f"{self.family} has no decoder")

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    # Families with ``denoise_step`` (diffusion) also provide ``predict_noise(x_t, t)`` and
    # ``make_scheduler(sampler, steps, eta)``; the scheduler's ``step`` returns
    # ``(prev_sample, pred_original_sample)`` so a viewer can drive the loop itself.

    @torch.no_grad()
    def evaluate(self, x: Tensor) -> dict[str, float]:
        """Held-out metrics on a batch (e.g. the VAE's negative ELBO in nats)."""
        return {}


class LikelihoodModel(GenerativeModel):
    """A family trained by maximum likelihood alone (flows, autoregressive models): it
    defines ``bits_per_dim(x, autocast=...)`` per image, and training minimises its mean."""

    grad_clip: ClassVar[float] = 1.0  # max gradient norm

    def bits_per_dim(self, x: Tensor, autocast: Autocast = no_autocast) -> Tensor:
        raise NotImplementedError

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": torch.optim.Adam(self.parameters(), lr=lr)}

    def train_step(self, x: Tensor, y: Tensor | None, optimizers: dict[str, torch.optim.Optimizer],
                   autocast: Autocast = no_autocast) -> dict[str, Tensor]:
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss = self.bits_per_dim(x, autocast=autocast, **self.conditioning(y)).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.parameters(), self.grad_clip)
        opt.step()
        return {"bits_per_dim": loss.detach().float().reshape(())}

    def conditioning(self, labels: Tensor | None) -> dict[str, Tensor]:
        """What ``bits_per_dim`` is conditioned on: ``labels=`` for a class-conditional model."""
        if not self.capabilities.class_conditional:
            return {}
        if labels is None:
            raise ValueError(f"a class-conditional {self.family} needs the images' labels; got none")
        return {"labels": labels}

    @torch.no_grad()
    def evaluate(self, x: Tensor, labels: Tensor | None = None) -> dict[str, float]:
        """Test NLL in bits/dim (of p(x | class) for a class-conditional model)."""
        return {"bits_per_dim": self.bits_per_dim(x, **self.conditioning(labels)).mean().item()}
