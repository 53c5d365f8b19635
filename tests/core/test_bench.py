"""The benchmarks' own parts on tiny models: FLOP counting for every family, the engine
comparison, and the diffusion and contention benchmarks' cheap paths."""

from __future__ import annotations

import pytest
import torch

from studio.models import family_names

BATCH = 4


@pytest.fixture(scope="module")
def dataset():
    from studio.data import load_dataset

    return load_dataset("fashion-mnist-5k")


@pytest.mark.parametrize("family", family_names())
def test_flops_are_counted_for_every_family(family, dataset, tiny_options):
    """WGAN-GP's gradient penalty (autograd.grad with create_graph) used to crash the counter."""
    from studio.bench.engine import step_flops
    from studio.models import build_model

    flops = step_flops(family, dataset, "fp32", BATCH, tiny_options[family])
    # at least the forward pass of the trained network(s), counted the same way, once
    torch.manual_seed(0)
    model = build_model(family, tiny_options[family], dataset.image_shape, dataset.num_classes)
    params = sum(p.numel() for p in model.parameters())
    assert flops >= 2 * params  # every weight is used in at least one multiply-add of a step
    # and the count does not depend on what else ran before (no state kept between calls)
    assert step_flops(family, dataset, "fp32", BATCH, tiny_options[family]) == flops


def test_flop_count_through_a_gradient_penalty_is_exact():
    """The upstream failure case (pytorch#131753): a module's output differentiated with
    create_graph=True. Forward x @ Wᵀ: 2·3·5·7; the input gradient g @ W: 2·3·7·5."""
    from studio.bench.engine import count_flops

    layer = torch.nn.Linear(5, 7)
    x = torch.randn(3, 5, requires_grad=True)

    def work():
        (grad,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
        assert grad.requires_grad

    assert count_flops(work) == 2 * 3 * 5 * 7 * 2


@pytest.mark.parametrize("args, message", [
    (["bench", "diffusion", "--long"], "--long does not apply to 'studio bench diffusion'"),
    (["bench", "engine", "--quality", "10"], "--quality does not apply to 'studio bench engine'"),
    (["bench", "diffusion", "--quality", "1"], "--quality takes the number of samples per sampler, at least 2"),
    (["bench", "nothing"], "unknown benchmark 'nothing'"),
])
def test_bench_options_that_do_not_fit_are_one_line_and_exit_2(args, message, capsys):
    from studio.cli import main

    assert main(args) == 2
    out = capsys.readouterr()
    assert message in out.err and out.err.count("\n") == 1 and out.out == ""


def test_contention_thread_counts():
    from studio.bench.contention import thread_counts

    assert thread_counts(1) == [1] and thread_counts(2) == [1, 2] and thread_counts(4) == [1, 2, 3, 4]
    assert thread_counts(16) == [1, 2, 8, 15, 16]


def test_spinners_are_started_and_ended():
    import psutil

    from studio.bench.contention import Spinners

    with Spinners(2) as spinners:
        pids = [p.pid for p in spinners.processes]
        assert len(pids) == 2 and all(p.poll() is None for p in spinners.processes)
        assert psutil.Process(pids[0]).cpu_times().user > 0.1  # spinning since 0.5 s
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


def test_contention_benchmark_end_to_end_on_a_tiny_model(monkeypatch, tiny_options, capsys):
    from studio.bench import contention

    monkeypatch.setattr(contention, "LENGTHS", {**contention.LENGTHS, "quick": (1, 0.3)})
    monkeypatch.setattr("studio.engine.devices.usable_cores", lambda: 2)
    result = contention.run(quick=True, families=["vae"], options=tiny_options["vae"], batch_size=8)
    assert result["thread_counts"] == [1, 2] and result["busy_processes"] == 1
    for condition in ("quiet", "busy"):
        entry = result["families"]["vae"][condition]
        assert set(entry["images_per_s"]) == {"adaptive", "1", "2"} and min(entry["images_per_s"].values()) > 0
        best = max(entry["images_per_s"]["1"], entry["images_per_s"]["2"])
        assert entry["adaptive_vs_best_fixed"] == pytest.approx(entry["images_per_s"]["adaptive"] / best)
        assert entry["adaptive_final_threads"][0] in (1, 2)
    assert isinstance(result["meets_targets"], bool) and result["cpu"]
    assert "adaptive/best" in capsys.readouterr().out
