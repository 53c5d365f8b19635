"""Time from launching the app to a visible and to a usable window, cold and warm.

    python packaging/startup_time.py [--runs 3] [--evict PATH ...] -- COMMAND [ARGS...]

Launches COMMAND (``studio`` from source, or the bundle's executable) with
``STUDIO_STARTUP_PROBE`` set; the app writes four moments, then quits (studio/qt/startup.py):
``window`` (first paint of the window with its Train page, before torch is imported),
``usable`` (the Train page's forms filled in and Start enabled; a Start clicked before torch and
the images are in waits for them), ``loaded`` (torch and the core imported) and ``ready`` (the
dataset's summary is in too: a Start begins at once). Older builds write ``window``, ``loaded``
and ``usable`` (Start enabled only once everything was in, like ``ready``). *Cold*: first the files under each
``--evict`` folder are dropped from the page cache (``posix_fadvise(DONTNEED)``, Linux; only
those files, so nothing else on the machine is disturbed), as after a reboot. *Warm*: launched
again at once. Prints the median (and range) of ``--runs`` launches of each, in seconds; cold
and warm launches alternate, so a change in the machine's load reaches both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARKS = ("window", "usable", "loaded", "ready")  # studio/qt/startup.py


def evict(folders: list[str]) -> int:
    """Drop the folders' files from the page cache; returns how many files."""
    count = 0
    for folder in folders:
        for dirpath, _, files in os.walk(folder):
            for name in files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    continue
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.fdatasync(fd)  # dirty pages would stay cached
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    count += 1
                finally:
                    os.close(fd)
    return count


def launch(command: list[str], timeout: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="studio-startup-") as scratch:
        probe = Path(scratch) / "probe.json"
        env = {**os.environ, "STUDIO_STARTUP_PROBE": str(probe), "STUDIO_RUNS_DIR": str(Path(scratch) / "runs"),
               "XDG_CONFIG_HOME": str(Path(scratch) / "config")}  # fresh settings: the first-launch window
        started = time.time()
        subprocess.run(command, env=env, timeout=timeout, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        marks = json.loads(probe.read_text())
        return {name: marks[name] - started for name in MARKS if name in marks}


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="launches of each kind (default 3)")
    parser.add_argument("--evict", action="append", default=[], metavar="PATH",
                        help="folder whose files a cold start reads from disk (repeatable)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to launch after --")
    if not hasattr(os, "posix_fadvise") and args.evict:
        parser.error("--evict needs posix_fadvise (Linux)")
    results: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    for _ in range(args.runs):
        if args.evict:
            evict(args.evict)
            results["cold"].append(launch(command, args.timeout))
        results["warm"].append(launch(command, args.timeout))
    table = {kind: {mark: summary([r[mark] for r in runs if mark in r]) for mark in MARKS if mark in runs[0]}
             for kind, runs in results.items() if runs}
    if args.json:
        print(json.dumps({"runs": args.runs, "load_average": os.getloadavg(), **table}))
    else:
        for kind, marks in table.items():
            print(f"{kind:<5} " + "   ".join(f"{mark} {m['median']:5.2f} s ({m['min']:.2f}-{m['max']:.2f})"
                                             for mark, m in marks.items()) + f"   (median of {args.runs})")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
