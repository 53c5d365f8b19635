"""The Playground's notice for a run dropped by a change: one per user action, the furthest step,
playing if any run ended was playing, the reason of the highest rank (a lesson over the family
it sets over Compare)."""

from studio.playground.restarts import COMPARE, FAMILY, LESSON, OPTIONS, Restarts, compare_change, family_change


def test_one_notice_per_action_names_the_highest_reason():
    r = Restarts()
    r.because("ignored: no run ended", FAMILY)
    assert r.take() is None
    assert r.ended(120, playing=True) is True
    r.because("Family changed to VAE", FAMILY)
    assert r.ended(0, playing=False) is False  # the same action: one notice
    r.because(compare_change("vae", {}, "flow", {}), COMPARE)
    r.because("Lesson “VAE: posteriors and the prior”", LESSON)
    d = r.take()
    assert (d.step, d.playing, d.why) == (120, True, "Lesson “VAE: posteriors and the prior”")
    assert d.notice(restarted=True) == ("Lesson “VAE: posteriors and the prior” — training restarted from step 0 "
                                        "with a new model (the last one had reached step 120)")
    assert r.take() is None


def test_reasons_name_the_family_and_the_options_that_changed():
    assert family_change(("gan", {"loss": "vanilla"}), "vae", {"beta": 8.0}) == \
        ("Family changed to VAE (beta = 8.0)", FAMILY)
    assert family_change(("vae", {"beta": 1.0}), "vae", {"beta": 8.0}) == ("Options changed (beta = 8.0)", OPTIONS)
    assert family_change(("vae", {"beta": 1.0}), "vae", {}) == ("Options changed (back to the defaults)", OPTIONS)
    assert compare_change("gan", {}, None, {}) == "One view"
