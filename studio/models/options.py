"""Every family's options (the Config dataclass: defaults, ranges, choices, help) and training
defaults (learning rate, batch, steps, presets, preview cadence), without PyTorch.

The CLI validates ``--set`` and the window's Train page builds and checks its forms from these
while torch is still importing; each family's model file (``vae.py``…) inherits its
``…Options`` class here and adds the networks. ``models.family_options(name)`` looks one up.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schedulers.names import BETA_SCHEDULES, MIN_STEPS, SAMPLER_NAMES
from .config import Capabilities, FamilyOptions, param

SAMPLERS = SAMPLER_NAMES  # every scheduler in studio.schedulers drives the DDPM


# --- autoencoder ------------------------------------------------------------------------------
@dataclass
class AutoencoderConfig:
    latent_dim: int = param(32, min=2, max=512, help="size of the bottleneck code")
    width: int = param(64, min=8, max=512, help="channels of the first conv layer (doubled per downsampling)")
    norm: str = param("batch", choices=("batch", "group"), help="normalisation in encoder and decoder")
    latent_momentum: float = param(0.02, min=0.0001, max=1.0,
                                   help="update rate of the running latent mean/covariance used to sample")
    denoise: float = param(0.0, min=0.0, max=2.0,
                           help="denoising AE (Vincent et al. 2008): Gaussian noise of this σ on the input "
                                "([-1, 1] pixel units), the clean image as the target; 0 = off")


class AutoencoderOptions(FamilyOptions):
    family = "autoencoder"
    capabilities = Capabilities(encode=True, decode=True, sample=True, reconstruct=True)
    Config = AutoencoderConfig
    default_lr = 2e-3
    default_batch_size = 128
    default_steps = 2000
    preview_every = 200
    presets = {
        "quick": {"steps": 600, "batch_size": 64},
        "standard": {"steps": 2000, "batch_size": 128},
        "quality": {"steps": 6000, "batch_size": 128, "latent_dim": 64, "width": 96},
    }


# --- VAE and conditional VAE -------------------------------------------------------------------
@dataclass
class VAEConfig:
    latent_dim: int = param(32, min=2, max=512, help="size of the latent code z")
    width: int = param(64, min=8, max=512, help="channels of the first conv layer (doubled per downsampling)")
    beta: float = param(1.0, min=0.0, max=100.0, help="weight of the KL term (1 = the true ELBO)")
    norm: str = param("batch", choices=("batch", "group"), help="normalisation in encoder and decoder")


class VAEOptions(FamilyOptions):
    family = "vae"
    Config = VAEConfig
    capabilities = Capabilities(encode=True, decode=True, sample=True, reconstruct=True)
    default_lr = 2e-3
    default_batch_size = 128
    default_steps = 2000
    preview_every = 200
    presets = {
        "quick": {"steps": 600, "batch_size": 64},
        "standard": {"steps": 2000, "batch_size": 128},
        "quality": {"steps": 6000, "batch_size": 128, "width": 96},
    }


@dataclass
class CVAEConfig(VAEConfig):
    latent_dim: int = param(16, min=2, max=512, help="size of the style code z (the class is given separately)")


class CVAEOptions(VAEOptions):
    family = "cvae"
    Config = CVAEConfig
    capabilities = Capabilities(encode=True, decode=True, sample=True, reconstruct=True, class_conditional=True)
    # learning rate, batch size, steps and presets: the VAE's


# --- GANs ---------------------------------------------------------------------------------------
@dataclass
class DCGANConfig:
    z_dim: int = param(100, min=2, max=512, help="size of the generator's input noise z")
    width: int = param(64, min=8, max=512, help="channels of D's first layer and G's last hidden layer")


class DCGANOptions(FamilyOptions):
    family = "dcgan"
    Config = DCGANConfig
    capabilities = Capabilities(decode=True, sample=True)
    default_lr = 2e-4
    # many small updates: on Fashion-MNIST b64 matched b128 step for step, at half the compute
    default_batch_size = 64
    default_steps = 2500
    preview_every = 250
    presets = {
        "quick": {"steps": 1000, "batch_size": 64},
        "standard": {"steps": 2500, "batch_size": 64},
        "quality": {"steps": 6000, "batch_size": 64, "width": 96},
    }


class CDCGANOptions(DCGANOptions):
    family = "cdcgan"
    Config = DCGANConfig  # the same options as the DCGAN
    capabilities = Capabilities(decode=True, sample=True, class_conditional=True)
    # the DCGAN's learning rate, batch and presets, but 3000 steps: the class adds to learn
    default_steps = 3000
    presets = {**DCGANOptions.presets, "standard": {"steps": 3000, "batch_size": 64}}


@dataclass
class WGANGPConfig:
    z_dim: int = param(100, min=2, max=512, help="size of the generator's input noise z")
    width: int = param(64, min=8, max=512, help="channels of the critic's first layer and G's last hidden layer")
    gp_weight: float = param(10.0, min=0.0, max=1000.0, help="λ, the weight of the gradient penalty")
    n_critic: int = param(5, min=1, max=20, help="critic updates per generator update")
    critic_norm: str = param("layer", choices=("layer", "none"),
                             help="normalisation in the critic (batch norm would break the per-image penalty)")


class WGANGPOptions(FamilyOptions):
    family = "wgan-gp"
    Config = WGANGPConfig
    capabilities = Capabilities(decode=True, sample=True)
    default_lr = 2e-4  # the paper's 1e-4 learns the same, only slower, in a CPU-sized run
    default_batch_size = 64
    default_steps = 5000  # critic updates: 1000 generator updates with n_critic = 5
    preview_every = 500
    presets = {
        "quick": {"steps": 2000, "batch_size": 64},
        "standard": {"steps": 5000, "batch_size": 64},
        "quality": {"steps": 15000, "batch_size": 64, "width": 96},
    }


# --- diffusion ----------------------------------------------------------------------------------
@dataclass
class DDPMConfig:
    schedule: str = param("cosine", choices=BETA_SCHEDULES,
                          help="noise schedule β_t: linear (Ho et al.) or cosine "
                               "(Nichol & Dhariwal)")
    num_train_timesteps: int = param(1000, min=10, max=4000, help="diffusion steps T")
    base_channels: int = param(32, min=8, max=256,
                               help="U-Net width at full resolution (multiples of 32 run fastest)")
    channel_mults: str = param("1,2,2", help="width multipliers per resolution, e.g. 1,2,2 "
                                             "(the last one repeats for deeper images)")
    num_res_blocks: int = param(1, min=1, max=4, help="residual blocks per resolution")
    attention: bool = param(True, help="self-attention at the lowest resolution")
    ema_decay: float = param(0.999, min=0.0, max=0.99999,
                             help="EMA of the weights used for sampling")
    sampler: str = param("ddim", choices=SAMPLERS, help="default sampler")
    sample_steps: int = param(50, min=MIN_STEPS, max=4000,
                              help="DDIM steps (ancestral DDPM always takes T steps by default)")
    eta: float = param(1.0, min=0.0, max=1.0,
                       help="DDIM noise: 0 deterministic, 1 as much as DDPM (cleaner samples "
                            "from briefly trained models)")
    preview_steps: int = param(20, min=MIN_STEPS, max=1000, help="DDIM steps of the live previews")
    clip_sample: bool = param(True, help="clip the predicted clean image x̂₀ to [-1, 1]")
    objective: str = param("eps", choices=("eps", "v"),
                           help="what the U-Net predicts: the noise ε (Ho et al.) or the velocity "
                                "v = √ᾱ ε − √(1−ᾱ) x₀ (Salimans & Ho 2022)")
    class_conditional: bool = param(False, help="condition on the dataset's labels, with "
                                                "classifier-free guidance (needs a labelled dataset)")
    label_dropout: float = param(0.1, min=0.0, max=1.0,
                                 help="conditional: probability of training on the null label "
                                      "(learns the unconditional model for guidance)")
    guidance_scale: float = param(2.0, min=0.0, max=20.0,
                                  help="conditional: default guidance s (0 unconditional, 1 conditional, "
                                       ">1 stronger class fidelity)")


class DDPMOptions(FamilyOptions):
    family = "ddpm"
    capabilities = Capabilities(sample=True, denoise_step=True, samplers=SAMPLERS)
    Config = DDPMConfig
    # ~51k images seen: about 8 minutes on two CPU cores for 28×28, and garments are
    # clearly recognisable (with DDIM η = 1 or ancestral sampling)
    default_lr = 2e-3
    default_batch_size = 64
    default_steps = 800
    preview_every = 200
    presets = {
        "quick": {"steps": 300},
        "standard": {},
        "quality": {"steps": 4000, "num_res_blocks": 2, "ema_decay": 0.9995},
    }

    @classmethod
    def needs_labels(cls, config: DDPMConfig) -> bool:
        return config.class_conditional


# --- likelihood models ------------------------------------------------------------------------------
@dataclass
class RealNVPConfig:
    # 3 scales on 28×28 (28 → 14 → 7): the coarsest scale sees the whole garment. With 2, the
    # same 3000 steps gave 3.55 test bits/dim and shapeless blobs; with 3, 3.41 and recognisable items.
    num_scales: int = param(3, min=1, max=5, help="scales of the multi-scale architecture "
                                                  "(the image side must divide by 2^(scales−1))")
    hidden: int = param(32, min=8, max=256, help="channels of the s/t networks in every coupling")
    res_blocks: int = param(1, min=1, max=8, help="residual blocks in each s/t network")
    temperature: float = param(0.8, min=0.1, max=1.5,
                               help="sampling: z ~ N(0, T²I); below 1 gives cleaner, less varied images")


class RealNVPOptions(FamilyOptions):
    family = "realnvp"
    Config = RealNVPConfig
    capabilities = Capabilities(encode=True, decode=True, sample=True, reconstruct=True, exact_likelihood=True)
    default_lr = 1e-3
    default_batch_size = 32  # many small steps: a flow learns per update, and 28×28 convs dominate
    default_steps = 3000
    preview_every = 250
    presets = {
        "quick": {"steps": 1000},
        "standard": {},
        "quality": {"steps": 10000, "hidden": 64, "res_blocks": 2},
    }


@dataclass
class PixelCNNConfig:
    hidden: int = param(32, min=8, max=256, help="channels of each gated layer")
    layers: int = param(6, min=2, max=20, help="gated layers (the receptive field grows with each)")
    kernel: int = param(5, min=3, max=9, help="kernel width of the vertical and horizontal stacks (odd)")
    class_conditional: str = param("auto", choices=("auto", "true", "false"),
                                   help="condition on the class (§2.3), so you can draw a chosen garment; "
                                        "auto: when the dataset has labels")
    positional: bool = param(True, help="location-dependent bias (§2.3): every layer knows where in the image "
                                        "it is, which helps it draw whole shapes")
    temperature: float = param(1.0, min=0.1, max=2.0, help="sampling: softmax temperature (below 1: cleaner)")
    preview_images: int = param(8, min=1, max=64,
                                help="images in the live preview (sampling is one pixel at a time, so it is slow)")


class PixelCNNOptions(FamilyOptions):
    family = "pixelcnn"
    Config = PixelCNNConfig
    capabilities = Capabilities(sample=True, exact_likelihood=True)
    default_lr = 2e-3
    # small batches, many updates: in the same 13 min on 2 CPU cores, 2400 steps of 16 reached
    # 3.01 test bits/dim where 1200 steps of 32 reached 3.08
    default_batch_size = 16
    default_steps = 2400
    preview_every = 800
    early_preview_images = 1  # drawing costs H·W passes: one image takes 4-5 s on a busy 2-core CPU
    presets = {
        "quick": {"steps": 800},
        "standard": {},
        "quality": {"steps": 10000, "hidden": 64, "layers": 10},
    }

    @classmethod
    def needs_labels(cls, config: PixelCNNConfig) -> bool:
        return config.class_conditional == "true"
