"""Training speed of two or more installations of the app, in alternating rounds (Linux).

    python packaging/train_speed.py [--rounds 6] [--steps 10:100] [--mid 60] [--batch 128]
                                    [--precision fp32] [--family vae] LABEL=COMMAND ...

COMMAND starts ``studio`` (``".venv/bin/python -m studio"`` from source, or a bundle's
executable; prefix ``env NAME=VALUE`` to vary the environment). Each round runs every COMMAND
once, in the order given, as ``COMMAND train --family F --threads 1 --precision P --run-dir TMP``;
the run's steps are read from its ``metrics.jsonl`` while it trains. Between step A and step B
(``--steps A:B``; and A to ``--mid``) it samples, from ``/proc``, the CPU time (user + system,
every thread of the process and its children) and the minor page faults, and reports per run
images per CPU-second, images per wall-second, CPU and system milliseconds per step and minor
faults per step; then, per round, each installation's images per CPU-second over the first
one's. CPU time, not wall time: on a shared machine wall time mostly measures the neighbours.
Start-up, the first A steps and the final evaluation are left out. Run it alone (``/tmp/heavy``
or an idle machine); the README's *Start-up* section quotes its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    children.setdefault(int(handle.read().rsplit(")", 1)[1].split()[1]), []).append(int(name))
            except (OSError, ValueError, IndexError):
                pass  # gone meanwhile
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _sample(root: int) -> tuple[int, float, float, float]:
    """(minor faults, CPU seconds, system seconds, wall clock) of the process tree at ``root``."""
    faults, cpu, system = 0, 0.0, 0.0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # proc(5), counted after the ")": minflt is the 8th field, utime the 12th, stime the 13th
        faults += int(fields[7])
        cpu += (int(fields[11]) + int(fields[12])) / TICK
        system += int(fields[12]) / TICK
    return faults, cpu, system, time.perf_counter()


def _last_step(metrics: str) -> int:
    try:
        with open(metrics, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
            lines = handle.read().splitlines()
    except OSError:
        return 0
    for line in reversed(lines):
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut by the seek, or being written
        if "step" in row and "loss" in row:
            return int(row["step"])
    return 0


def _rates(a: tuple, b: tuple, batch: int) -> dict[str, float]:
    steps = b[0] - a[0]
    faults, cpu, system, wall = (b[i + 1] - a[i + 1] for i in range(4))
    return {"steps": steps, "img_per_cpu_s": round(steps * batch / cpu, 1), "img_per_wall_s": round(steps * batch / wall, 1),
            "cpu_ms_per_step": round(1000 * cpu / steps, 1), "sys_ms_per_step": round(1000 * system / steps, 1),
            "minflt_per_step": round(faults / steps)}


def measure(command: list[str], args) -> dict[str, object]:
    """One training run of ``command``; its rates between ``args.first`` and ``args.last`` (and ``args.mid``)."""
    run = tempfile.mkdtemp(prefix="train-speed-")
    shutil.rmtree(run)  # the trainer makes it
    metrics = os.path.join(run, "metrics.jsonl")
    process = subprocess.Popen(command + ["train", "--family", args.family, "--threads", "1", "--precision",
                                          args.precision, "--steps", str(args.last + 50), "--run-dir", run],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marks: dict[int, tuple] = {}
    try:
        while process.poll() is None and args.last not in marks:
            step = _last_step(metrics)
            for mark in (args.first, args.mid, args.last):
                if mark not in marks and step >= mark and (mark == args.first or args.first in marks):
                    marks[mark] = (step, *_sample(process.pid))
            time.sleep(0.01)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(run, ignore_errors=True)
    if args.last not in marks:
        raise SystemExit(f"train_speed.py: {shlex.join(command)} stopped before step {args.last} (exit {process.returncode})")
    result: dict[str, object] = _rates(marks[args.first], marks[args.last], args.batch)
    result["img_per_cpu_s_to_mid"] = _rates(marks[args.first], marks[args.mid], args.batch)["img_per_cpu_s"]
    result["load"] = round(os.getloadavg()[0], 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", metavar="LABEL=COMMAND")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", default="10:100", help="A:B, the steps measured (default 10:100)")
    parser.add_argument("--mid", type=int, default=60, help="also report steps A to this one (default 60)")
    parser.add_argument("--batch", type=int, default=128, help="the family's batch size (default 128)")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--family", default="vae")
    args = parser.parse_args(argv)
    try:
        args.first, args.last = (int(part) for part in args.steps.split(":"))
        configs = [(label, shlex.split(command)) for label, command in (c.split("=", 1) for c in args.configs)]
    except ValueError:
        parser.error("--steps is A:B (two step numbers) and each installation LABEL=COMMAND")
    if not 0 < args.first < args.mid < args.last:
        parser.error(f"need 0 < A < --mid < B, got {args.first}, {args.mid}, {args.last}")
    ratios: dict[str, list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        speeds = {}
        for label, command in configs:
            result = measure(command, args)
            speeds[label] = result["img_per_cpu_s"]
            print(json.dumps({"label": label, "round": round_, **result}), flush=True)
        reference = configs[0][0]
        for label, speed in speeds.items():
            if label != reference:
                ratios.setdefault(label, []).append(speed / speeds[reference])
    for label, values in ratios.items():
        print(f"{label} / {configs[0][0]} images per CPU-second: " + " ".join(f"{v:.3f}" for v in values)
              + f" (median {statistics.median(values):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
