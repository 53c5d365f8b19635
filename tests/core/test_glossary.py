"""Plain words for every number: each metric a family or the evaluation reports has a term."""

from studio import glossary


def test_every_reported_metric_has_plain_words_and_a_definition(tiny_options):
    import torch

    from studio.models import build_model, family_names

    for family in family_names():
        model = build_model(family, tiny_options[family], (1, 28, 28), 10)
        x = torch.rand(4, 1, 28, 28) * 2 - 1
        labels = {"labels": torch.arange(4)} if model.capabilities.class_conditional else {}
        for key in model.eval().evaluate(x, **labels):
            assert glossary.term(key) is not None, (family, key)
            assert glossary.plain_name(f"test/{key}").endswith("(held-out)")
            assert "(test/" in glossary.definition(f"test/{key}")


def test_plain_names_and_definitions():
    assert glossary.plain_name("test/neg_elbo_nats") == "VAE loss (−ELBO) (held-out)"
    assert glossary.plain_name("kl") == "Latent cost"
    assert "KL divergence" in glossary.definition("kl") and "nats" in glossary.definition("kl")
    assert glossary.plain_name("something_new") == "something new"  # unknown keys still read
    html = glossary.glossary_html()
    assert "Bits per pixel" in html and "FCD" in html
