"""Kill ``studio train`` and ``studio resume`` at random moments and in the middle of their file
writes, and check after every kill that the run folder is intact and that resuming finishes
the same curve an uninterrupted run draws.

    python scripts/fault_inject.py                          # 3 trials x 4 families (a quick look)
    python scripts/fault_inject.py --trials 10 --json out.json
    python scripts/fault_inject.py --families vae --trials 2 --steps 12

A trial: ``train`` is SIGKILLed, then a ``resume`` is SIGKILLed, then a last ``resume`` runs to
the end (two kills a trial). Each kill is one of

- ``time``    an outside SIGKILL after a random delay (mostly while training, sometimes at start-up)
- ``fsync``   the process kills itself just before its Nth ``os.fsync`` (a written, unsynced temp file)
- ``replace`` ... just before its Nth ``os.replace``/``os.rename`` (a synced temp file, not in place)
- ``create``  ... just after its Nth file creation (an empty file)

with N drawn up to the count an uninterrupted run makes (a calibration run per family, which
also gives the reference curve and weights). After each kill: ``run.json`` parses and is ours;
``checkpoints/latest.json`` names a complete pair whose ``.safetensors`` loads and whose
``.state.pt`` loads with ``torch.load(weights_only=True)``, at the same step; every other
checkpoint file loads; every line of ``metrics.jsonl`` but a torn last one parses; sample PNGs
open. After the last resume: run.json says finished at the last step; metrics hold exactly one
training record per step 1..S (no duplicates, no holes), the same losses as the uninterrupted
run (bit for bit) and its held-out (``test/``) records at the same steps, once each; the final
weights equal the uninterrupted run's; no temporary files are left. Prints a table (family,
kills, trials, failures) and every failure; exit 1 if any.

Each child runs on one torch thread (OMP_NUM_THREADS=1, --threads 1) with the tiny model sizes
of ``tests/conftest.py``.
"""

from __future__ import annotations

import argparse
import builtins
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("time", "fsync", "replace", "create")
DEFAULT_FAMILIES = "vae,dcgan,ddpm,realnvp"  # AE/VAE, GAN, diffusion, likelihood
CHILD_TIMEOUT = 600


# --- the child: studio's CLI with a fault armed ----------------------------------------
def child(event: str, argv: list[str]) -> int:
    """Run ``studio ARGV`` with a hook that SIGKILLs this process at the Nth IO event
    (``fsync:N``, ``replace:N``, ``create:N``), or counts the events into a file (``count:PATH``)."""
    sys.path.insert(0, str(ROOT))
    kind, _, arg = event.partition(":")
    counts = {"fsync": 0, "replace": 0, "create": 0}

    def hit(name: str) -> None:
        counts[name] += 1
        if kind == name and counts[name] == int(arg):
            os.kill(os.getpid(), signal.SIGKILL)

    real_fsync, real_replace, real_rename, real_open, real_os_open = (
        os.fsync, os.replace, os.rename, io.open, os.open)

    def fsync(fd):
        hit("fsync")
        return real_fsync(fd)

    def replace(src, dst, **kw):
        hit("replace")
        return real_replace(src, dst, **kw)

    def rename(src, dst, **kw):
        hit("replace")
        return real_rename(src, dst, **kw)

    def open_(file, mode="r", *args, **kw):
        f = real_open(file, mode, *args, **kw)
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wxa"):
            hit("create")
        return f

    def os_open(path, flags, *args, **kw):
        fd = real_os_open(path, flags, *args, **kw)
        if flags & os.O_CREAT:
            hit("create")
        return fd

    os.fsync, os.replace, os.rename, builtins.open, io.open, os.open = fsync, replace, rename, open_, open_, os_open
    if kind == "count":
        import atexit

        atexit.register(lambda: Path(arg).write_text(json.dumps(counts)))
    from studio.cli import main

    return main(argv)


# --- checks -------------------------------------------------------------------------------
def _load_pair(weights: Path, state: Path | None) -> tuple[int | None, int | None]:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    load_file(str(weights))
    with safe_open(str(weights), framework="pt") as f:
        w_step = int((f.metadata() or {}).get("step", -1))
    s_step = None
    if state is not None:
        s_step = int(torch.load(state, map_location="cpu", weights_only=True)["step"])
    return w_step, s_step


def check_intact(run: Path) -> list[str]:
    """Problems with the files of a run folder right after a kill (empty list: intact)."""
    problems = []
    if not run.exists():
        return problems
    meta_path = run / "run.json"
    if not meta_path.exists():
        if any(p for p in run.rglob("*") if p.is_file()):
            problems.append("files but no run.json (train refuses the folder, resume calls it not a run)")
        return problems
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        assert meta.get("format") == "generative-studio-run", "no format marker"
    except Exception as exc:
        problems.append(f"run.json unreadable: {exc}")
    ckpt = run / "checkpoints"
    latest = ckpt / "latest.json"
    named = set()
    if latest.exists():
        try:
            pointer = json.loads(latest.read_text(encoding="utf-8"))
            weights, state = ckpt / pointer["weights"], ckpt / pointer["state"]
            named = {weights.name, state.name}
            w_step, s_step = _load_pair(weights, state)
            if not w_step == s_step == int(pointer["step"]):
                problems.append(f"latest.json step {pointer['step']} names weights of step {w_step}, state {s_step}")
        except Exception as exc:
            problems.append(f"latest.json does not name a loadable pair: {type(exc).__name__}: {exc}")
    for path in sorted(ckpt.glob("step-*")) if ckpt.is_dir() else []:
        if path.name in named or path.name.endswith(".tmp"):
            continue
        try:
            _load_pair(path, None) if path.suffix == ".safetensors" else _load_pair_state(path)
        except Exception as exc:
            problems.append(f"{path.name} is torn: {type(exc).__name__}: {str(exc)[:120]}")
    lines = (run / "metrics.jsonl").read_bytes().split(b"\n") if (run / "metrics.jsonl").exists() else []
    for i, line in enumerate(lines[:-1]):  # the last element is b"" or a torn line: both allowed
        try:
            json.loads(line)
        except ValueError:
            problems.append(f"metrics.jsonl line {i + 1} is not JSON: {line[:60]!r}")
            break
    for png in sorted((run / "samples").glob("*.png")) if (run / "samples").is_dir() else []:
        try:
            from PIL import Image

            with Image.open(png) as im:
                im.verify()
        except Exception as exc:
            problems.append(f"samples/{png.name} is torn: {exc}")
    return problems


def _load_pair_state(path: Path) -> None:
    import torch

    torch.load(path, map_location="cpu", weights_only=True)


def _records(run: Path) -> tuple[list[dict], list[dict]]:
    """(training records, held-out records) of metrics.jsonl."""
    train, test = [], []
    for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        (test if any(k.startswith("test/") for k in record) else train).append(record)
    return train, test


def _final_weights(run: Path) -> dict:
    from safetensors.torch import load_file

    pointer = json.loads((run / "checkpoints" / "latest.json").read_text())
    return load_file(str(run / "checkpoints" / pointer["weights"]))


def check_finished(run: Path, reference: dict, steps: int) -> list[str]:
    """Problems with a run resumed to the end, against the uninterrupted reference run."""
    import torch

    problems = check_intact(run)
    if problems:
        return problems
    meta = json.loads((run / "run.json").read_text())
    if meta.get("status") != "finished" or meta.get("step", 0) < steps:
        problems.append(f"run.json says {meta.get('status')} at step {meta.get('step')}, expected finished at {steps}")
    try:
        train, test = _records(run)
    except (OSError, ValueError) as exc:
        return problems + [f"metrics.jsonl unreadable after the last resume: {exc}"]
    seen = [r["step"] for r in train if r.get("step", 0) <= steps]
    if seen != list(range(1, steps + 1)):
        dupes = sorted({s for s in seen if seen.count(s) > 1})
        holes = sorted(set(range(1, steps + 1)) - set(seen))
        problems.append(f"training steps: {len(dupes)} duplicated {dupes[:8]}, {len(holes)} missing {holes[:8]}")
    else:
        strip = lambda r: {k: v for k, v in r.items() if k != "time"}  # noqa: E731
        differ = [r["step"] for r, ref in zip(train, reference["train"]) if strip(r) != strip(ref)]
        if differ:
            problems.append(f"losses differ from the uninterrupted run at {len(differ)} steps, first {differ[0]}")
    test_steps = sorted(r["step"] for r in test if r["step"] <= steps)
    if test_steps != reference["test_steps"]:
        problems.append(f"held-out records at steps {test_steps}, uninterrupted run: {reference['test_steps']}")
    if meta.get("step") == steps:
        final = _final_weights(run)
        if final.keys() != reference["weights"].keys() or not all(
                torch.equal(final[k], reference["weights"][k]) for k in final):
            problems.append("final weights differ from the uninterrupted run's")
    leftovers = [p.relative_to(run).as_posix() for p in run.rglob("*.tmp")]
    if leftovers:
        problems.append(f"temporary files left: {leftovers[:4]}")
    return problems


def _tiny_options() -> dict:
    """The tests' tiny model sizes (tests/conftest.py TINY_OPTIONS), read without pytest's help."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("_tests_conftest", ROOT / "tests" / "conftest.py")
    conftest = module_from_spec(spec)
    spec.loader.exec_module(conftest)
    return conftest.TINY_OPTIONS


# --- the parent ---------------------------------------------------------------------------
class Harness:
    def __init__(self, args, work: Path):
        self.args, self.work = args, work
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "STUDIO_RUNS_DIR": str(work),
                    "PYTHONPATH": str(ROOT)}

    def studio(self, event: str, argv: list[str], kill_after: float | None = None) -> tuple[int, str, float]:
        """Run ``studio ARGV`` in a child with ``event`` armed; SIGKILL it after ``kill_after`` s."""
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", event, "--", *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=self.env, cwd=self.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            out, err = proc.communicate(timeout=kill_after if kill_after is not None else CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL, the process this harness started
            out, err = proc.communicate()
            if kill_after is None:
                err += "\n[fault_inject: the child hung past the timeout]"
        return proc.returncode, (out or "") + (err or ""), time.perf_counter() - start

    def train_args(self, family: str, run: Path) -> list[str]:
        sets = [a for k, v in _tiny_options().get(family, {}).items() for a in ("--set", f"{k}={v}")]
        a = self.args
        return ["train", "--family", family, "--data", a.data, "--steps", str(a.steps), "--batch-size", "8",
                "--checkpoint-every", str(a.checkpoint_every), "--preview-every", str(a.preview_every),
                "--seed", "0", "--device", "cpu", "--precision", "fp32", "--threads", "1",
                "--run-dir", str(run), *sets]

    def calibrate(self, family: str) -> dict:
        run, counts = self.work / f"{family}-reference", self.work / f"{family}-counts.json"
        code, output, wall = self.studio(f"count:{counts}", self.train_args(family, run))
        if code != 0:
            raise SystemExit(f"the uninterrupted {family} run failed (exit {code}):\n{output[-2000:]}")
        train, test = _records(run)
        return {"train": train, "test_steps": sorted(r["step"] for r in test), "weights": _final_weights(run),
                "counts": json.loads(counts.read_text()), "wall": wall,
                "startup": wall - float(train[-1]["time"])}

    def kill_once(self, family: str, run: Path, ref: dict, rng: random.Random) -> tuple[str, int, str]:
        """One killed ``train`` (no run yet) or ``resume``; returns (kind, exit code, output)."""
        argv = self._next_command(family, run)
        left = 1.0 if argv[0] == "train" else int(argv[3]) / self.args.steps  # the share of the work to do
        kind = rng.choice(KINDS)
        if kind == "time":
            startup = ref["startup"]
            delay = (rng.uniform(0, startup) if rng.random() < 0.2 else
                     rng.uniform(startup, startup + left * (ref["wall"] - startup)))
            code, output, _ = self.studio("none", argv, kill_after=delay)
        else:
            n = rng.randint(1, max(1, round(left * ref["counts"][kind])))
            code, output, _ = self.studio(f"{kind}:{n}", argv)
            kind = f"{kind}:{n}"
        return kind, code, output

    def _next_command(self, family: str, run: Path) -> list[str]:
        if not (run / "run.json").exists():
            if run.exists():
                shutil.rmtree(run)  # a folder the kill left without run.json (already reported)
            return self.train_args(family, run)
        try:
            latest = json.loads((run / "checkpoints" / "latest.json").read_text())["step"]
        except (OSError, ValueError, KeyError):
            latest = 0
        return ["resume", str(run), "--steps", str(max(1, self.args.steps - latest)), "--threads", "1"]

    def trial(self, family: str, index: int, ref: dict) -> tuple[int, list[str]]:
        rng = random.Random(f"{self.args.seed}-{family}-{index}")
        run = self.work / f"{family}-trial{index:03d}"
        failures, kills = [], []
        for stage in range(2):
            kind, code, output = self.kill_once(family, run, ref, rng)
            killed = code == -signal.SIGKILL
            if killed:
                kills.append(kind.split(":")[0])
            what = f"{'train' if stage == 0 else 'resume'} killed by {kind}" if killed else \
                f"{'train' if stage == 0 else 'resume'} ({kind}) ended with exit {code} before the kill"
            if not killed and code != 0:
                failures.append(f"{what}: {output.strip().splitlines()[-1] if output.strip() else ''}")
            failures += [f"after {what}: {p}" for p in check_intact(run)]
        code, output, _ = self.studio("none", self._next_command(family, run))
        if code != 0:
            last = output.strip().splitlines()[-1] if output.strip() else ""
            failures.append(f"the last resume exited {code}: {last}")
        else:
            failures += [f"after the last resume: {p}" for p in check_finished(run, ref, self.args.steps)]
        if not self.args.keep and not failures:
            shutil.rmtree(run, ignore_errors=True)
        return kills, failures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1], argv[3:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--families", default=DEFAULT_FAMILIES, help=f"comma-separated (default {DEFAULT_FAMILIES})")
    p.add_argument("--trials", type=int, default=3, help="trials per family, two kills each (default 3)")
    p.add_argument("--steps", type=int, default=24, help="training steps of every run (default 24)")
    p.add_argument("--checkpoint-every", type=int, default=4)
    p.add_argument("--preview-every", type=int, default=6)
    p.add_argument("--data", default="fashion-mnist-5k")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", help="folder for the runs (default: a temporary folder, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep every run folder (failed ones are always kept)")
    p.add_argument("--json", help="also write the table and failures to this JSON file")
    args = p.parse_args(argv)
    if args.trials < 1 or args.steps < 2 or args.checkpoint_every < 1:
        p.error("--trials must be >= 1, --steps >= 2, --checkpoint-every >= 1")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="fault-inject-"))
    work.mkdir(parents=True, exist_ok=True)
    harness, rows, report = Harness(args, work), [], {}
    started = time.perf_counter()
    for family in [f.strip() for f in args.families.split(",") if f.strip()]:
        ref = harness.calibrate(family)
        kills, failed, notes = [], 0, []
        for i in range(args.trials):
            k, failures = harness.trial(family, i, ref)
            kills += k
            failed += bool(failures)
            notes += [f"{family} trial {i}: {f}" for f in failures]
            print(f"{family} trial {i}: killed by {', '.join(k) or 'nothing'}; "
                  + ("ok" if not failures else f"{len(failures)} problems"), flush=True)
        rows.append({"family": family, "trials": args.trials, "kills": len(kills), "failed_trials": failed,
                     "kinds": {kind: kills.count(kind) for kind in KINDS}, "io_events": ref["counts"]})
        report[family] = notes
    print(f"\n{'family':<12} {'trials':>6} {'kills':>6} {'failed':>7}  kills by kind")
    for r in rows:
        kinds = " ".join(f"{k}={n}" for k, n in r["kinds"].items())
        print(f"{r['family']:<12} {r['trials']:>6} {r['kills']:>6} {r['failed_trials']:>7}  {kinds}")
    problems = [n for notes in report.values() for n in notes]
    for line in problems:
        print(f"  {line}")
    print(f"{sum(r['kills'] for r in rows)} kills in {time.perf_counter() - started:.0f} s; run folders: {work}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "failures": report}, indent=2))
    if not args.work and not problems and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
