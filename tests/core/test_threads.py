"""The adaptive thread count (studio.engine.threads), driven by made-up step times: no real
clock, no real threads. A fake machine says how long a step takes with n threads and how
many cores other processes leave free; the tuner sees only those numbers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from studio.engine.threads import CpuSampler, FixedThreads, ThreadTuner, thread_policy


class Machine:
    """``step(n)``: seconds per step with n threads; ``busy``: cores taken by other processes."""

    def __init__(self, cores: int, step, busy: float = 0.0):
        self.cores, self.step, self.busy = cores, step, busy
        self.set_calls: list[int] = []
        self.torch_threads = 7  # what the thread had before the job

    def tuner(self, **settings) -> ThreadTuner:
        return ThreadTuner(self.cores, lambda: self.cores - self.busy, set_threads=self.set_calls.append,
                           get_threads=lambda: self.torch_threads, **settings)


def train(tuner: ThreadTuner, machine: Machine, seconds: float, until: float | None = None) -> dict[int, float]:
    """Feed steps until the tuner's clock reaches ``seconds``; returns seconds spent per count."""
    spent: dict[int, float] = {}
    while tuner.clock < seconds:
        dt = machine.step(tuner.threads)
        spent[tuner.threads] = spent.get(tuner.threads, 0.0) + dt
        tuner.observe(dt)
    return spent


def quiet(n: int) -> float:  # 2 cores, nobody else: 2 threads 1.5x faster than 1
    return {1: 0.15, 2: 0.10}[n]


def contended(n: int) -> float:  # one core busy elsewhere: 2 threads 7x slower than 1
    return {1: 0.15, 2: 1.05}[n]


def test_quiet_machine_keeps_all_cores_and_probes_rarely():
    machine = Machine(2, quiet)
    tuner = machine.tuner()
    tuner.start()
    assert tuner.threads == 2 and machine.set_calls == [2]
    spent = train(tuner, machine, 300)
    assert tuner.threads == 2
    assert spent[1] / sum(spent.values()) < 0.02  # probes cost under 2 % of the time
    probes = [h for h in tuner.history if h[2] == "probe"]
    # it does look: after the first window, then at doubling intervals (~0.5, 10, 30, 70, 150, 270 s)
    assert 3 <= len(probes) <= 7
    assert all(h[1] == 1 for h in probes)
    # a probe of fewer threads counts its first step (no pool to wake): one window, 3 steps of 0.15 s
    assert spent[1] == pytest.approx(len(probes) * 3 * 0.15)


def test_busy_core_starts_at_one_and_never_waits_at_two():
    machine = Machine(2, contended, busy=1.0)
    tuner = machine.tuner()
    tuner.start()
    assert tuner.threads == 1
    spent = train(tuner, machine, 300)
    assert tuner.threads == 1
    # n+1 is tried only when a core looks free, or once per max_interval_s (120 s), and
    # such a probe ends after its first slow step: 2 probes x 1.05 s in 300 s
    assert spent.get(2, 0.0) <= 2 * 1.05 + 1e-9
    assert [h[1:] for h in tuner.history if h[2] != "start"] == [(2, "probe"), (1, "back")] * 2


def test_unknown_load_starts_at_all_cores_and_leaves_the_busy_one_within_seconds():
    machine = Machine(2, contended, busy=1.0)
    tuner = ThreadTuner(2, lambda: None, set_threads=machine.set_calls.append, get_threads=lambda: 4)
    tuner.start()
    assert tuner.threads == 2
    train(tuner, machine, 8)
    assert tuner.threads == 1
    # the first window (a warm-up step and 2 steps at 2 threads), then a probe of 1 thread wins
    assert tuner.history[1][0] <= 3 * 1.05 + 1e-9 and tuner.history[1][1:] == (1, "faster")
    assert len(tuner.history) == 2  # then 1 thread kept: n+1 waits its interval (5 s)


def test_contention_arriving_mid_run_is_left_at_once():
    machine = Machine(2, quiet)
    tuner = machine.tuner()
    tuner.start()
    train(tuner, machine, 60)
    assert tuner.threads == 2
    machine.step, machine.busy = contended, 1.0
    spent = train(tuner, machine, 65)
    assert tuner.threads == 1 and tuner.history[-1][1:] == (1, "faster")
    # the window in progress (its median still quiet) and one of 2 slow steps: at most 4 slow steps
    assert spent[2] <= 4 * 1.05 + 1e-9


def test_a_core_coming_free_is_taken_back():
    machine = Machine(2, contended, busy=1.0)
    tuner = machine.tuner()
    tuner.start()
    train(tuner, machine, 30)
    machine.step, machine.busy = quiet, 0.0
    before = tuner.clock
    train(tuner, machine, before + 12)  # within the probe interval (≤ 10 s here)
    assert tuner.threads == 2 and (2, "faster") in [h[1:] for h in tuner.history if h[0] >= before]


def test_hill_climb_finds_the_best_of_many_cores():
    cost = {n: 1.0 / n + 0.05 * (n - 5) ** 2 for n in range(1, 9)}  # best at 5 of 8
    machine = Machine(8, lambda n: cost[n])
    tuner = ThreadTuner(8, lambda: None, set_threads=machine.set_calls.append, get_threads=lambda: 8)
    tuner.start()
    spent = train(tuner, machine, 600)
    assert tuner.threads == 5
    assert spent[5] / sum(spent.values()) > 0.9


def test_a_probe_within_the_margin_does_not_switch():
    machine = Machine(2, lambda n: {1: 0.100, 2: 0.098}[n])  # 2 % apart: below the 5 % margin
    tuner = machine.tuner()
    tuner.start()
    train(tuner, machine, 60)
    assert tuner.threads == 2 and not any(h[2] == "faster" for h in tuner.history)


def test_close_puts_back_the_previous_count_and_fixed_counts_never_move():
    machine = Machine(2, quiet)
    tuner = machine.tuner()
    tuner.start()
    tuner.close()
    assert machine.set_calls == [2, 7]

    calls: list[int] = []
    fixed = FixedThreads(3, set_threads=calls.append, get_threads=lambda: 1)
    fixed.start()
    for _ in range(1000):
        fixed.observe(5.0)
    fixed.close()
    assert calls == [3, 1] and fixed.threads == 3


def test_one_core_never_probes():
    machine = Machine(1, lambda n: 0.1)
    tuner = ThreadTuner(1, lambda: 1.0, set_threads=machine.set_calls.append, get_threads=lambda: 1)
    tuner.start()
    train(tuner, machine, 600)
    assert machine.set_calls == [1]


def test_policy_choice():
    assert isinstance(thread_policy(None), ThreadTuner)
    assert thread_policy(3).threads == 3 and not isinstance(thread_policy(3), ThreadTuner)
    gpu = thread_policy(None, "cuda")
    assert gpu.threads is None and not isinstance(gpu, ThreadTuner)
    with pytest.raises(ValueError, match="at least 1"):
        thread_policy(0)
    with pytest.raises(ValueError, match="at least 1"):
        ThreadTuner(0)


class _CpuTimes(tuple):
    """psutil's namedtuple shape: iterable and with field names."""

    _fields = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")

    def __new__(cls, user=0.0, nice=0.0, system=0.0, idle=0.0):
        return super().__new__(cls, (user, nice, system, idle, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))

    def __getattr__(self, name):
        return self[self._fields.index(name)]


@pytest.mark.parametrize("niced, expected", [(False, 2.0 - 0.5), (True, 2.0 - 1.5)])
def test_cpu_sampler_counts_what_others_used(monkeypatch, niced, expected):
    import psutil

    state = {"t": 0.0, "cpus": [_CpuTimes(), _CpuTimes()], "mine": 0.0}
    monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: list(state["cpus"]))
    process = SimpleNamespace(cpu_times=lambda: SimpleNamespace(user=state["mine"], system=0.0),
                              nice=lambda: 10 if niced else 0)
    monkeypatch.setattr(psutil, "Process", lambda: process)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr("studio.engine.threads.usable_cores", lambda: 2)
    sampler = CpuSampler(clock=lambda: state["t"])
    # over 2 s: this process used 1.0 s, a normal process 1.0 s, a niced one 2.0 s; 0 idle left
    state.update(t=2.0, mine=1.0, cpus=[_CpuTimes(user=2.0, idle=0.0), _CpuTimes(nice=2.0, idle=0.0)])
    assert sampler() == pytest.approx(expected)
    state["t"] = 2.01  # too soon to tell: None, and the next reading still counts from t = 2
    assert sampler() is None


@pytest.mark.parametrize("threads", [None, 2])
def test_a_training_job_uses_the_policy_and_puts_the_count_back(tmp_path, tiny_options, threads):
    import torch

    from studio.engine import Reporter, TrainJob, TrainSpec

    class Seen(Reporter):
        counts: list[int] = []

        def progress(self, progress) -> None:
            self.counts.append(torch.get_num_threads())

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        spec = TrainSpec(family="vae", steps=4, batch_size=8, device="cpu", precision="fp32", preview_every=0,
                         checkpoint_every=100, options=tiny_options["vae"])
        reporter = Seen()
        job = TrainJob.create(spec, tmp_path / "run", reporter=reporter)
        job.threads = threads
        assert job.run() == "finished"
        assert torch.get_num_threads() == 3  # put back for whatever the thread does next
        if threads:
            assert set(reporter.counts) == {2} and not isinstance(job.tuner, ThreadTuner)
        else:
            assert isinstance(job.tuner, ThreadTuner) and job.tuner.history[0][2] == "start"
            assert reporter.counts[0] == job.tuner.history[0][1]  # (a slow machine may probe within 4 steps)
            assert set(reporter.counts) <= {count for _, count, _ in job.tuner.history}
    finally:
        torch.set_num_threads(before)
