"""Plain words for the studio's numbers: each metric and readout a first-time user meets, with
the exact definition and the field's technical name (for tooltips, plot titles and the Help ›
Glossary a teacher can open). One place: the window and the CLI both read it.

``plain_name("test/neg_elbo_nats")`` → "Held-out loss (−ELBO)"; ``definition(...)`` gives the
sentence with the technical term; unknown keys fall back to the key itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    plain: str  # what a first-time user reads
    technical: str  # the field's name for it
    definition: str  # exact, with units
    better: str = ""  # "lower" / "higher" / "" (neither: it is diagnostic)


TERMS: dict[str, Term] = {
    "loss": Term("Training loss", "loss", "The objective the optimizer minimises on each batch.", "lower"),
    "recon": Term("Reconstruction error", "reconstruction loss",
                  "How far the model's rebuilt image is from the input: mean squared error per pixel (images "
                  "scaled to [−1, 1]), or for a VAE the negative log-likelihood of the input under the decoder.",
                  "lower"),
    "kl": Term("Latent cost", "KL divergence",
               "KL(q(z|x) ‖ p(z)) in nats: how far the encoder's distribution over codes is from the standard "
               "normal prior. Near 0 for every latent means the latent is unused (posterior collapse).", ""),
    "neg_elbo": Term("VAE loss (−ELBO)", "negative evidence lower bound",
                     "Reconstruction error plus the latent cost: an upper bound on −log p(x), in nats per image.",
                     "lower"),
    "neg_elbo_nats": Term("VAE loss (−ELBO)", "negative evidence lower bound",
                          "−ELBO = reconstruction + KL, an upper bound on −log p(x), in nats per image.", "lower"),
    "iwae": Term("Tighter likelihood bound", "IWAE bound",
                 "The importance-weighted bound of Burda et al. (2016) with k samples: closer to −log p(x) than the "
                 "ELBO; nats per image.", "lower"),
    "bits_per_dim": Term("Bits per pixel", "negative log-likelihood (bits/dim)",
                         "−log₂ p(x) divided by the number of pixel values (H·W·C): the code length of one pixel "
                         "value under the model. 8 is a uniform guess over 256 levels.", "lower"),
    "eps_mse": Term("Noise-prediction error", "ε-MSE",
                    "Mean squared error between the noise ε added by the forward process and the model's "
                    "prediction of it, at a random timestep (Ho et al. 2020, eq. 14).", "lower"),
    "mse": Term("Reconstruction error", "MSE", "Mean squared error per pixel, images scaled to [−1, 1].", "lower"),
    "denoise_mse": Term("Denoising error", "denoising MSE",
                        "Mean squared error between the clean image and the model's output for a noisy input.",
                        "lower"),
    "d_loss": Term("Discriminator loss", "discriminator loss",
                   "The discriminator's binary cross-entropy on real and generated images.", ""),
    "g_loss": Term("Generator loss", "generator loss",
                   "The non-saturating generator loss −log D(G(z)) (Goodfellow et al. 2014).", ""),
    "d_real": Term("Real judged real", "D(x)", "The discriminator's mean probability that a real image is real.",
                   ""),
    "d_fake": Term("Fake judged real", "D(G(z))",
                   "The discriminator's mean probability that a generated image is real.", ""),
    "critic_loss": Term("Critic loss", "WGAN critic loss",
                        "Critic score of fakes minus reals, plus the gradient penalty (Gulrajani et al. 2017).", ""),
    "wasserstein": Term("Distance estimate", "Wasserstein estimate",
                        "The critic's estimate of the Wasserstein-1 distance between real and generated images.",
                        "lower"),
    "gp": Term("Gradient penalty", "gradient penalty", "λ·(‖∇D(x̂)‖₂ − 1)² on interpolated images.", ""),
    "fcd": Term("Sample quality distance", "FCD (Fréchet classifier distance)",
                "Fréchet distance between the features a small classifier sees in real and in generated images "
                "(as FID, with a classifier trained on the dataset instead of Inception).", "lower"),
    "kid": Term("Sample quality distance (small sets)", "KID (kernel inception distance)",
                "Unbiased squared MMD with a cubic polynomial kernel between classifier features of real and "
                "generated images (Bińkowski et al. 2018); fair for small sample counts.", "lower"),
    "coverage": Term("Classes drawn", "class coverage",
                     "How many of the dataset's classes the classifier finds among the samples.", "higher"),
    "class_entropy_bits": Term("Class variety", "class entropy (bits)",
                               "Entropy of the classifier's class histogram of the samples; log₂(classes) is "
                               "an even mix.", "higher"),
    "pc_variance": Term("Share of the spread shown", "explained variance",
                        "The share of the codes' variance along each principal component (PCA) of the map.", ""),
    "latent_norm": Term("Distance from the centre", "|z| (latent norm)",
                        "The length of the latent vector; the prior N(0, I) puts most codes near √dim.", ""),
}


def _key(name: str) -> tuple[str, bool]:
    held_out = name.startswith("test/")
    return (name[5:] if held_out else name), held_out


def term(name: str) -> Term | None:
    return TERMS.get(_key(name)[0])


def plain_name(name: str) -> str:
    """A metric key as a first-time user reads it; held-out figures ("test/…") say so."""
    key, held_out = _key(name)
    found = TERMS.get(key)
    text = found.plain if found else key.replace("_", " ")
    return f"{text} (held-out)" if held_out else text


def definition(name: str) -> str:
    """The tooltip: the exact definition and the technical name (and which way is better)."""
    key, held_out = _key(name)
    found = TERMS.get(key)
    if found is None:
        return name
    where = " Measured on held-out test images the model never trained on." if held_out else ""
    better = f" {found.better.capitalize()} is better." if found.better else ""
    return f"{found.technical} ({name}): {found.definition}{where}{better}"


def glossary_html() -> str:
    """Every term as one HTML table (Help › Glossary)."""
    rows = "".join(f"<tr><td><b>{t.plain}</b><br><i>{t.technical}</i></td><td>{t.definition}"
                   f"{' ' + t.better.capitalize() + ' is better.' if t.better else ''}</td></tr>"
                   for key, t in sorted(TERMS.items(), key=lambda kv: kv[1].plain) if key != "neg_elbo_nats")
    return f"<table cellspacing='6'>{rows}</table>"
