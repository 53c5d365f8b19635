"""`--precision auto`: bf16 only on hardware where it is fast (AMX, AVX-512-BF16, CUDA with bf16)
and only for the families whose bf16 quality was measured to hold (devices.BF16_PROVEN_FAMILIES)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from studio.engine import devices
from studio.engine.devices import (BF16_PROVEN_FAMILIES, cpu_bf16_kind, default_precision, resolve_precision)
from studio.models import family_names

CPU = torch.device("cpu")
KINDS = {  # the CPU flags torch reports -> the kind
    "amx": {"_is_amx_tile_supported": True, "_is_avx512_bf16_supported": True},
    "avx512-bf16": {"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": True},
    "emulated": {"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": False},
}


def fake_cpu(monkeypatch, flags: dict[str, bool]) -> None:
    for name, value in flags.items():
        monkeypatch.setattr(torch.cpu, name, lambda value=value: value, raising=False)


@pytest.mark.parametrize("kind", list(KINDS))
def test_cpu_kind_follows_the_flags(monkeypatch, kind):
    fake_cpu(monkeypatch, KINDS[kind])
    assert cpu_bf16_kind() == kind


def test_a_torch_without_the_probes_counts_as_emulated(monkeypatch):
    for name in KINDS["amx"]:
        monkeypatch.delattr(torch.cpu, name, raising=False)
    assert cpu_bf16_kind() == "emulated"


@pytest.mark.parametrize("kind, expected", [("amx", "bf16"), ("avx512-bf16", "bf16"), ("emulated", "fp32")])
def test_auto_on_the_cpu(monkeypatch, kind, expected):
    fake_cpu(monkeypatch, KINDS[kind])
    assert resolve_precision("auto", CPU) == expected
    assert resolve_precision("auto", CPU, "vae") == expected  # a proven family follows the hardware


@pytest.mark.parametrize("family", family_names())
def test_auto_gives_bf16_only_to_proven_families(monkeypatch, family):
    fake_cpu(monkeypatch, KINDS["amx"])
    assert resolve_precision("auto", CPU, family) == ("bf16" if family in BF16_PROVEN_FAMILIES else "fp32")


def test_the_proven_list_names_real_families_and_leaves_some_out():
    assert BF16_PROVEN_FAMILIES <= set(family_names())
    assert {"vae", "ddpm"} <= BF16_PROVEN_FAMILIES  # checked on AMX (issue 20)


def test_the_proven_list_is_the_readme_table_s_holds_rows():
    """One rule: the families marked *holds* in the README's "bf16 against fp32" table, no more, no fewer."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("**bf16 against fp32.**", 1)[1].split("\n\n| family |", 1)[1].split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table.splitlines()[2:]]
    assert {row[0] for row in rows} == set(family_names())
    assert {row[0] for row in rows if row[-1].startswith("holds")} == BF16_PROVEN_FAMILIES


def test_an_explicit_precision_is_kept_whatever_the_family(monkeypatch):
    fake_cpu(monkeypatch, KINDS["emulated"])
    assert resolve_precision("bf16", CPU, "pixelcnn") == "bf16"
    assert resolve_precision("fp32", CPU, "vae") == "fp32"


def test_cuda_and_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert default_precision(torch.device("cuda"), "vae") == "bf16"
    # every shipped family holds today; one not in the list gets fp32

    monkeypatch.setattr(devices, "BF16_PROVEN_FAMILIES", BF16_PROVEN_FAMILIES - {"pixelcnn"})
    assert default_precision(torch.device("cuda"), "pixelcnn") == "fp32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert default_precision(torch.device("cuda"), "vae") == "fp32"
    assert default_precision(torch.device("mps"), "vae") == "fp32"


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="unknown precision 'fp16'; choose one of auto, fp32, bf16"):
        resolve_precision("fp16", CPU)


@pytest.mark.parametrize("family, expected", [("vae", "bf16"), ("dcgan", None)])
def test_a_training_job_records_the_family_rule(monkeypatch, tmp_path, tiny_options, family, expected):
    """TrainJob resolves `auto` with its family: run.json holds what the step ran in."""
    from studio.engine import TrainJob, TrainSpec

    fake_cpu(monkeypatch, KINDS["amx"])
    expected = expected or ("bf16" if family in BF16_PROVEN_FAMILIES else "fp32")
    spec = TrainSpec(family=family, data="fashion-mnist-5k", steps=2, batch_size=8, seed=0, device="cpu",
                     precision="auto", checkpoint_every=2, preview_every=0, options=tiny_options[family])
    assert TrainJob.create(spec, tmp_path / "run").run() == "finished"
    assert json.loads((tmp_path / "run" / "run.json").read_text())["precision"] == expected
    assert devices.resolve_precision("auto", CPU, family) == expected
