"""Ready-made lessons: a data set, a family and its options, and a "what to look for" paragraph
a teacher can read aloud. The page's lesson picker fills the data and family pickers from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .job import PlaygroundSpec


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    family: str
    dataset: str
    text: str
    options: dict[str, Any] = field(default_factory=dict)
    lr: float | None = None  # None: the family's default
    steps_per_frame: int = 5
    # what "Compare" shows beside it: (family, options); None: ``compare.partner``'s default
    compare: tuple[str, dict[str, Any]] | None = None

    def spec(self, **changes: Any) -> "PlaygroundSpec":
        """The lesson as a ``PlaygroundSpec`` (with any field changed)."""
        from .job import PlaygroundSpec

        fields = dict(family=self.family, options=dict(self.options), dataset=self.dataset, lr=self.lr,
                      steps_per_frame=self.steps_per_frame)
        return PlaygroundSpec(**{**fields, **changes})


LESSONS = [
    Lesson("gan-mode-collapse", "GAN: mode collapse", "gan", "8-gaussians",
           "Eight islands of data on a circle. The background shows the discriminator's verdict: red where it "
           "says \"real\", blue where it says \"fake\". Watch the orange samples: instead of spreading over "
           "all eight islands, the generator crowds onto a few of them and hops between them as the "
           "discriminator learns to reject each one. The 'modes covered' count stays below 8: this is mode "
           "collapse. The thin lines show where the generator sends a grid of its inputs z: it folds the "
           "whole square onto the islands it has found. (With this lesson's large learning rate, 3e-3, two "
           "seeds in three drop modes; with gentler settings a vanilla GAN sometimes finds all eight.)",
           {"loss": "vanilla"}, lr=3e-3, compare=("gan", {"loss": "wgan-gp"})),
    Lesson("wgan-gp-coverage", "WGAN-GP: every mode", "gan", "8-gaussians",
           "The same eight islands, now with the Wasserstein loss and a gradient penalty. The critic's "
           "background is no longer a yes/no verdict but a smooth landscape that rises towards every island. "
           "Its slope pulls generated points towards all the data at once, so the samples spread out until "
           "all eight islands are covered (watch the count reach 8). The price: five critic steps per "
           "generator step, so it learns more slowly per second.", {"loss": "wgan-gp", "critic_steps": 5},
           compare=("gan", {"loss": "vanilla"})),
    Lesson("vae-posteriors", "VAE: posteriors and the prior", "vae", "two-moons",
           "The right plot is the VAE's latent plane. Each small ellipse is where the encoder thinks one data "
           "point's code lies (its posterior); the circle is the prior that samples are drawn from. The KL "
           "term pushes the ellipses to fill the circle, the reconstruction term pushes them apart. On the "
           "left, the grid lines are the decoder's picture of the latent plane: a sheet folded onto the "
           "moons. Samples are blurrier than the data, because the decoder adds Gaussian noise and the sheet "
           "also covers the gap between the moons.", {"beta": 1.0}, compare=("vae", {"beta": 8.0})),
    Lesson("vae-posterior-collapse", "VAE: a large β collapses the posterior", "vae", "two-moons",
           "With β = 8 every nat of information in the code costs eight times more. Watch the ellipses on the "
           "right: along one direction they stretch to the prior's full height. That latent dimension is "
           "switched off: it no longer says anything about the point (posterior collapse, in one dimension), "
           "while the other still places each point along the moons, since the moons are really a curve. "
           "On the left the decoder's grid folds into little more than that curve, and the KL beside the view "
           "drops to about 2 nats. Raise β to 30 and the last dimension starts to go too: the samples blur "
           "off the moons.", {"beta": 8.0}, compare=("vae", {"beta": 1.0})),
    Lesson("flow-exact", "Coupling flow: an exact density", "flow", "rings",
           "The heatmap is the flow's density p(x), exact and normalised: it integrates to 1 (the number "
           "beside the view). Move the slider to see the grid of the Gaussian base carried into data space "
           "one coupling at a time: each coupling slides points along one axis only, and together they bend "
           "the plane into rings. On the right the data is carried the other way, into something that "
           "should look like a round Gaussian. Note the thin bridge between the rings: an invertible map "
           "cannot tear the plane, so some density always leaks between the parts."),
    Lesson("ddpm-reverse", "Diffusion: the reverse process", "ddpm", "spiral",
           "Move the t slider: blue points are the data with noise added up to time t; at large t it is a "
           "round cloud. The arrows are the network's answer to \"which way is the data?\" (−ε) at that noise "
           "level: long and smooth at large t, short and detailed at small t. Pink points are each noisy "
           "point's guess of its clean original, x̂₀: blurry at large t, sharp at small t. The lines are "
           "samples travelling from noise to data; change the sampler or its steps to see speed against "
           "quality."),
    Lesson("flow-matching-straight", "Flow matching: straight paths", "flow-matching", "checkerboard",
           "Flow matching learns a velocity that carries noise (t = 0) to data (t = 1) along straight lines. "
           "The arrows are that velocity at the slider's t. The paths are curved where paths from different "
           "noise points cross and the model averages their directions, but much straighter than "
           "diffusion's, so even 5 Euler steps already give a recognisable board. Pink points show where "
           "each particle is heading, x̂₁.", {"sample_steps": 20}),
    Lesson("autoregressive-bins", "Autoregressive: one coordinate at a time", "autoregressive", "smiley",
           "This model never sees the plane at once: it learns the distribution of x₁ (the top histogram), "
           "then for each x₁ a separate distribution of x₂ (the bottom one, for the column at the slider). "
           "Watch the histograms fill towards their outlines (the data). The heatmap is their product, a "
           "density made of little squares: the model is exact but only as sharp as its bins."),
]

LESSONS_BY_KEY = {lesson.key: lesson for lesson in LESSONS}
