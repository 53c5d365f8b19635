"""The GPU path: train, resume, sample, eval and the step viewer on CUDA in bf16, with the CPU
generators of ``studio.rng`` (a seed names the same starting noise on every device).

Marked ``cuda`` and skipped without a GPU (run them with ``pytest -m cuda`` on a CUDA machine)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from studio import rng
from studio.cli import main
from studio.runs import Run, load_model

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(scope="module")
def ddpm_run(trained_run):
    return trained_run("ddpm")


def test_train_and_resume_on_cuda_in_bf16(tmp_path):
    run = tmp_path / "vae"
    assert main(["train", "--family", "vae", "--steps", "6", "--batch-size", "16", "--device", "cuda",
                 "--precision", "bf16", "--checkpoint-every", "3", "--preview-every", "0",
                 "--run-dir", str(run)]) == 0
    assert main(["resume", str(run), "--steps", "3"]) == 0
    meta = json.loads((run / "run.json").read_text())
    assert meta["step"] == 9 and meta["status"] == "finished"
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(math.isfinite(v) for r in records for k, v in r.items() if isinstance(v, float))


def test_a_cpu_generator_gives_the_same_noise_on_cuda(ddpm_run):
    cuda, cpu = load_model(Run.open(ddpm_run), "cuda"), load_model(Run.open(ddpm_run), "cpu")
    a = cuda.sample_noise(4, rng.generator(3))
    b = cpu.sample_noise(4, rng.generator(3))
    assert a.device.type == "cuda" and torch.equal(a.cpu(), b)
    z = rng.randn((2, 3), rng.generator(1, rng.STEPS), "cuda", torch.bfloat16)
    assert z.device.type == "cuda" and z.dtype == torch.bfloat16


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpmpp2m"])
def test_generate_on_cuda_in_bf16_matches_the_cpu(ddpm_run, sampler):
    from studio.metrics.evaluate import generate

    cuda, cpu = load_model(Run.open(ddpm_run), "cuda"), load_model(Run.open(ddpm_run), "cpu")
    reference = generate(cpu, 8, seed=0, sampler=sampler, steps=10).float()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        images = generate(cuda, 8, seed=0, sampler=sampler, steps=10)
    assert images.dtype == torch.uint8 and images.device.type == "cpu"
    # the same x_T and z on both devices: bf16 rounding moves pixels a little, not the images
    assert (images.float() - reference).abs().mean() < 12


def test_cli_sample_on_cuda(ddpm_run, tmp_path):
    out = tmp_path / "g.png"
    assert main(["sample", ddpm_run, "--n", "300", "--device", "cuda", "--sampler", "ddim", "--eta", "1",
                 "--sample-steps", "5", "--out", str(out)]) == 0
    assert out.stat().st_size > 0


def test_the_step_viewer_on_cuda_branches_exactly(ddpm_run):
    from studio.engine.sampling import SamplingJob, SamplingSpec

    model = load_model(Run.open(ddpm_run), "cuda")
    spec = SamplingSpec(sampler="ddpm", steps=8, seed=2, batch=3)
    parent = SamplingJob(model, spec).run()
    assert parent.finished
    branch = SamplingJob(model, spec, parent=parent, branch_step=4).run()
    assert np.array_equal(branch.final, parent.final)


def test_eval_on_cuda(trained_run):
    from studio.metrics import evaluate_run

    result = evaluate_run(Run.open(trained_run("vae")), n=100, device="cuda", k=4, nll_images=50)
    assert math.isfinite(result["samples"]["fcd"]) and all(math.isfinite(v) for v in result["likelihood"].values())
