"""The families' options and training defaults are torch-free (``models.options``), so the
window's Train page builds, fills and checks its forms, and the CLI checks ``--set``, before
torch has loaded; each model class inherits its options, so every default has one home."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from studio.models import family_names, family_options, get_family

ROOT = Path(__file__).resolve().parents[2]

# a fresh interpreter: another test may have imported torch already
TORCH_FREE = textwrap.dedent("""
    import dataclasses, json, sys
    from studio.data import DEFAULT_DATASET, canonical_spec, dataset_names, describe_dataset
    from studio.models import config_from_dict, family_names, family_options
    from studio.models.config import SUPPORTED_RESOLUTIONS
    from studio.specs import TrainSpec, config_of

    out = {"families": {}, "datasets": dataset_names(), "described": all(map(describe_dataset, dataset_names()))}
    for name in family_names():
        options = family_options(name)
        fields = {f.name: f.default for f in dataclasses.fields(options.Config)}
        first = next(f for f in dataclasses.fields(options.Config) if f.metadata.get("min") is not None)
        try:
            config_from_dict(options.Config, {first.name: first.metadata["min"] - 1})
            refused = None
        except ValueError as exc:
            refused = str(exc)
        resolved = {p: TrainSpec(family=name, data=DEFAULT_DATASET, preset=p).resolved().steps for p in options.presets}
        out["families"][name] = {"fields": len(fields), "refused": refused, "first": first.name, "resolved": resolved,
                                 "config": len(config_of(TrainSpec(family=name, data=DEFAULT_DATASET))["spec"]["options"])}
    out["torch"] = sorted(m for m in sys.modules if m == "torch" or m.startswith(("torch.", "torchvision")))
    print("RESULT", json.dumps(out))
""")


def test_the_forms_build_and_check_without_importing_torch():
    done = subprocess.run([sys.executable, "-c", TORCH_FREE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["torch"] == []  # not one torch module: the registry, the checks and config_of are torch-free
    assert out["datasets"][0] == "fashion-mnist-5k" and out["described"]
    assert set(out["families"]) == set(family_names())
    for name, got in out["families"].items():  # the same answers the model classes give (below)
        family = get_family(name)
        fields = dataclasses.fields(family.Config)
        first = next(f for f in fields if f.metadata.get("min") is not None)
        assert got["fields"] == got["config"] == len(fields)
        assert got["refused"] == f"{first.name}={first.metadata['min'] - 1!r} is below its minimum {first.metadata['min']}"
        assert got["resolved"] == {p: v.get("steps", family.default_steps) for p, v in family.presets.items()}


@pytest.mark.parametrize("name", family_names())
def test_each_model_class_inherits_its_options(name):
    options, family = family_options(name), get_family(name)
    assert issubclass(family, options) and options.family == family.family == name
    for attribute in ("Config", "capabilities", "default_lr", "default_batch_size", "default_steps", "preview_every",
                      "early_preview_images", "presets"):
        assert getattr(family, attribute) is getattr(options, attribute), attribute  # declared once, in options.py
    assert "needs_labels" not in vars(family) and "presets" not in vars(family) and "Config" not in vars(family)


def test_unknown_family_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown family 'gan'; choose one of autoencoder, vae"):
        family_options("gan")


def test_the_samplers_torch_free_names_are_the_schedulers():
    from studio.models.options import SAMPLERS
    from studio.schedulers import BETA_SCHEDULES, MIN_STEPS, SCHEDULERS, make_betas, schedule

    assert tuple(SCHEDULERS) == SAMPLERS == get_family("ddpm").capabilities.samplers
    assert schedule.BETA_SCHEDULES is BETA_SCHEDULES and schedule.MIN_STEPS == MIN_STEPS == 2
    assert all(make_betas(kind, 10).shape == (10,) for kind in BETA_SCHEDULES)
