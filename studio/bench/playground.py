"""``studio bench playground``: how many frames per second each playground family's view
draws while it trains, on one torch thread, and (when Qt is at hand) how late the UI gets.

- per family (its lesson's data set, the default 5 steps per frame): ``fps`` = frames per
  wall-clock second of (5 training steps + one frame of the view), the job's loop without its
  frame-rate cap; ``fps_cpu`` the same per second of this thread's CPU time (what an idle core
  would give; on a shared machine wall time also counts the waits for a core); ``step_ms`` and
  ``frame_ms`` split the cost. Target: fps ≥ 20 for every family.
- ``ui`` (not with --quick, and only if PySide6 imports): the Playground page in a window
  (offscreen without a display) drawing each family live through the job runner, while a 10 ms
  UI timer measures its lateness (``studio.qt.bench_playground``). Targets: p99 ≤ 16 ms, and the
  page draws ≥ 20 frames/s.
"""

from __future__ import annotations

import time

import torch

from . import machine_info, print_table

STEPS_PER_FRAME = 5


def measure_family(family: str, frames: int = 20) -> dict:
    """Train ``family`` on its lesson's data set frame by frame; time it."""
    from ..playground import LESSONS, PlaygroundJob, PlaygroundSpec

    lesson = next(lesson for lesson in LESSONS if lesson.family == family)
    job = PlaygroundJob(PlaygroundSpec(family=family, options=dict(lesson.options), dataset=lesson.dataset,
                                       steps_per_frame=STEPS_PER_FRAME))
    job.train(10)
    job.frame()  # warm up
    train_s = frame_s = cpu = 0.0
    for _ in range(frames):
        c0, t0 = time.thread_time(), time.perf_counter()
        job.train(STEPS_PER_FRAME)
        t1 = time.perf_counter()
        job.frame()
        t2 = time.perf_counter()
        train_s, frame_s, cpu = train_s + t1 - t0, frame_s + t2 - t1, cpu + time.thread_time() - c0
    return {"family": family, "dataset": lesson.dataset, "fps": frames / (train_s + frame_s),
            "fps_cpu": frames / cpu, "step_ms": 1000 * train_s / (frames * STEPS_PER_FRAME),
            "frame_ms": 1000 * frame_s / frames}


def run(quick: bool = False, families: list[str] | None = None) -> dict:
    from ..playground import family_names

    names = families or family_names()
    unknown = sorted(set(names) - set(family_names()))
    if unknown:
        raise ValueError(f"unknown playground family {', '.join(unknown)}; choose from {', '.join(family_names())}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [measure_family(name, 8 if quick else 30) for name in names]
    finally:
        torch.set_num_threads(threads)
    result = {"families": {r["family"]: r for r in rows}, "min_fps": min(r["fps"] for r in rows),
              "steps_per_frame": STEPS_PER_FRAME, "threads": 1}
    print(f"studio bench playground — {STEPS_PER_FRAME} training steps + one frame of the view, 1 torch thread")
    print_table(rows, [("family", ""), ("dataset", ""), ("fps", ".1f"), ("fps_cpu", ".1f"), ("step_ms", ".2f"),
                       ("frame_ms", ".1f")])
    meets = result["min_fps"] >= 20
    result["meets_targets"] = meets  # the page's UI lateness is added by studio.qt.bench_playground
    result.update(machine_info())
    print(f"target: ≥ 20 frames/s for every family; slowest {result['min_fps']:.1f}; meets targets: {meets}")
    return result
