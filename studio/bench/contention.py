"""``studio bench contention``: training beside a busy foreign process, with the adaptive
thread count (``studio.engine.threads``) against each fixed count.

For each family (default: the default VAE, DCGAN and DDPM on fashion-mnist-5k), the studio's
training job trains for a fixed time, once per *arm* (adaptive, then each fixed torch thread
count), in two *conditions*: quiet, and busy — one spinning process (``while True: pass``, a
separate Python process at this process's priority) per core to take, started before and
ended after the condition's arms. The arms and conditions are alternated within the run (the
arm order rotates from block to block) so drifting machine load hits them alike. Throughput is images
trained per second from the job's start (its setup and the adaptive count's probing
included) to its last step. Each family first trains briefly, untimed (one-off costs).

Targets: adaptive ≥ 0.9 × the best fixed count in both conditions, and ≥ 3 × the all-cores
count when busy. Length: ``--quick`` 3 s per arm, default 10 s (about 4 minutes for the
three families on 2 cores), ``--long`` 2 rounds of 30 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import machine_info, print_table

FAMILIES = ["vae", "dcgan", "ddpm"]
DATA = "fashion-mnist-5k"
LENGTHS = {"quick": (1, 3.0), "default": (1, 10.0), "long": (2, 30.0)}  # rounds, seconds per arm
TARGET_OF_BEST, TARGET_OVER_ALL_CORES = 0.9, 3.0


def thread_counts(cores: int) -> list[int]:
    """The fixed counts to compare: all of them up to 4 cores, else a spread ending at all."""
    return list(range(1, cores + 1)) if cores <= 4 else sorted({1, 2, cores // 2, cores - 1, cores})


class Spinners:
    """``n`` busy processes while in the ``with`` block (each keeps one core busy)."""

    def __init__(self, n: int):
        self.n, self.processes = n, []

    def __enter__(self) -> "Spinners":
        self.processes = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.n)]
        time.sleep(0.5)  # started and spinning before anything is timed
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
        self.processes = []


def train_for(family: str, seconds: float, threads: int | None, run_dir: Path,
              options: dict | None = None, batch_size: int | None = None) -> dict:
    """Train ``family`` (its defaults, or ``options``) for about ``seconds`` with ``threads``
    (None: adaptive); images per second from the job's start to its last step, and the
    adaptive count's final choice and changes."""
    from ..engine import Control, Progress, Reporter, TrainJob, TrainSpec

    control = Control()

    class Timer(Reporter):
        start = last = 0.0
        step = 0

        def progress(self, progress: Progress) -> None:
            self.last, self.step = time.perf_counter(), progress.step
            if self.last - self.start >= seconds:
                control.cancel()  # no held-out evaluation at the end

    timer = Timer()
    spec = TrainSpec(family=family, data=DATA, steps=10 ** 9, batch_size=batch_size, device="cpu",
                     checkpoint_every=10 ** 9, preview_every=0, options=dict(options or {}))
    job = TrainJob.create(spec, run_dir, reporter=timer, control=control)
    job.threads = threads
    timer.start = time.perf_counter()
    job.run()
    history = job.tuner.history if job.tuner is not None else []
    return {"images_per_s": timer.step * job.spec.batch_size / max(timer.last - timer.start, 1e-9),
            "steps": timer.step, "final_threads": history[-1][1] if history else threads,
            "changes": max(0, len(history) - 1)}


def run(quick: bool = False, families: list[str] | None = None, long: bool = False,
        options: dict | None = None, batch_size: int | None = None) -> dict:
    """``options`` / ``batch_size`` (tests: tiny models) apply to every family."""
    from ..engine.devices import usable_cores

    began = time.perf_counter()
    families = families or FAMILIES
    cores = usable_cores()
    counts = thread_counts(cores)
    taken = max(1, cores // 2)
    length = "long" if long else "quick" if quick else "default"
    rounds, seconds = LENGTHS[length]
    arms = ["adaptive", *map(str, counts)]
    rates = {f: {c: {a: [] for a in arms} for c in ("quiet", "busy")} for f in families}
    adaptive_runs: dict[str, dict[str, list]] = {f: {"quiet": [], "busy": []} for f in families}
    with tempfile.TemporaryDirectory() as scratch:
        for family in families:  # the first training of a process pays one-off costs (oneDNN, allocator)
            train_for(family, min(seconds, 2.0), 1, Path(scratch) / f"warm-{family}", options, batch_size)
        k = block = 0
        for r in range(rounds):
            for family in families:
                for condition in (("quiet", "busy") if r % 2 == 0 else ("busy", "quiet")):
                    with Spinners(taken if condition == "busy" else 0):
                        order = arms[block % len(arms):] + arms[:block % len(arms)]  # no arm always first
                        block += 1
                        for arm in order:
                            k += 1
                            result = train_for(family, seconds, None if arm == "adaptive" else int(arm),
                                               Path(scratch) / f"run{k}", options, batch_size)
                            rates[family][condition][arm].append(result["images_per_s"])
                            if arm == "adaptive":
                                adaptive_runs[family][condition].append(result)
    out, rows, meets = {}, [], True
    all_cores = str(counts[-1])
    for family in families:
        out[family] = {}
        for condition in ("quiet", "busy"):
            median = {arm: statistics.median(v) for arm, v in rates[family][condition].items()}
            best = max(counts, key=lambda n: median[str(n)])
            entry = {"images_per_s": median, "best_fixed": best,
                     "adaptive_vs_best_fixed": median["adaptive"] / median[str(best)],
                     "adaptive_vs_all_cores": median["adaptive"] / median[all_cores],
                     "adaptive_final_threads": [a["final_threads"] for a in adaptive_runs[family][condition]],
                     "adaptive_changes": [a["changes"] for a in adaptive_runs[family][condition]]}
            ok = entry["adaptive_vs_best_fixed"] >= TARGET_OF_BEST and (
                condition == "quiet" or entry["adaptive_vs_all_cores"] >= TARGET_OVER_ALL_CORES)
            entry["meets_targets"] = ok
            meets = meets and ok
            out[family][condition] = entry
            rows.append({"family": family, "condition": condition,
                         **{f"{arm} img/s": median[arm] for arm in arms},
                         "adaptive/best": entry["adaptive_vs_best_fixed"],
                         f"adaptive/{all_cores}": entry["adaptive_vs_all_cores"],
                         "final threads": ",".join(map(str, entry["adaptive_final_threads"])), "ok": ok})
    machine = machine_info()
    print(f"studio bench contention — {length}: {rounds} round(s) × {seconds:g} s per arm; busy = {taken} spinning "
          f"process(es) on {cores} cores; {machine['cpu']}, load average {machine['load_average']}")
    print_table(rows, [("family", ""), ("condition", ""), *[(f"{arm} img/s", ".0f") for arm in arms],
                       ("adaptive/best", ".2f"), (f"adaptive/{all_cores}", ".2f"), ("final threads", ""),
                       ("ok", "")])
    print(f"targets: adaptive ≥ {TARGET_OF_BEST} × the best fixed count in both conditions, ≥ "
          f"{TARGET_OVER_ALL_CORES:g} × {all_cores} threads when busy")
    return {"families": out, "length": length, "seconds_per_arm": seconds, "rounds": rounds,
            "thread_counts": counts, "busy_processes": taken, "meets_targets": meets,
            "targets": {"adaptive_vs_best_fixed": TARGET_OF_BEST, "adaptive_vs_all_cores_busy": TARGET_OVER_ALL_CORES},
            "seconds": time.perf_counter() - began, **machine}
