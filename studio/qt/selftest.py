"""``studio --selftest``: a headless check that an installation works, from source or from the
app bundle (which is where it matters: a missing library or data file shows up here, not on
a user's machine).

It opens the main window offscreen and renders each page (and times the first window from the
process's start), opens the glossary, trains a few steps of a tiny model through the Train page
into a temporary folder and samples from it, exports its samples as PNG, GIF and MP4 (each read
back), samples from every bundled demo run, and writes a report (``selftest.json``, ``selftest.txt`` and the pictures)
into a folder. Exit code 0 when every check passed; otherwise 1, and the failed checks are
named on stderr. Nothing of the user's (runs, settings) is read or written.

It drives the window, so it lives in the Qt layer; ``studio --selftest`` imports it only when asked.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

TINY_STEPS = 20
TINY_MODEL = {"width": 8, "latent_dim": 4}  # the smallest VAE that has every part
DEMO_SAMPLES = 16
DEMO_SAMPLE_STEPS = 20  # diffusion demos: DDIM steps, enough to see that sampling works
# Qt messages that say nothing about the installation
HARMLESS_QT_MESSAGES = ("propagateSizeHints", "QStandardPaths: XDG_RUNTIME_DIR",
                        "This plugin does not support raise()")  # offscreen: a dialog's raise_() is a no-op


@dataclass
class Check:
    name: str
    ok: bool = False
    seconds: float = 0.0
    detail: str = ""
    files: list[str] = field(default_factory=list)


class CheckFailed(Exception):
    """A check's own finding (shown without a traceback)."""


class SelfTest:
    """Runs the checks in order; each records ok/failed, a one-line detail and its files."""

    def __init__(self, report_dir: Path, demo_root: Path | None = None, out=None):
        self.report_dir = report_dir
        self.demo_root = demo_root
        self.out = out or sys.stdout or open(os.devnull, "w")  # a windowed app on Windows has no stdout
        self.checks: list[Check] = []
        self.qt_messages: list[str] = []
        self.scratch = Path(tempfile.mkdtemp(prefix="studio-selftest-scratch-"))
        self.app = None
        self.window = None
        self.first_window_s: float | None = None  # process start → the window's first paint
        self.samples = None  # the tiny run's samples, (N, C, H, W) in [-1, 1], for the export check
        self._previous_qt_handler = None

    # --- running ------------------------------------------------------------------------------
    def run(self) -> int:
        started = time.perf_counter()
        self._print(f"Generative Studio self-test ({'app bundle' if is_bundle() else 'from source'}, "
                    f"{platform.system()} {platform.machine()}, report in {self.report_dir})")
        with self._isolated_environment():
            try:
                for name, step in (("environment", self.check_environment),
                                   ("resources", self.check_resources),
                                   ("torchvision", self.check_torchvision),
                                   ("window", self.check_window),
                                   ("glossary", self.check_glossary),
                                   ("train", self.check_train),
                                   ("export", self.check_export),
                                   ("demo-models", self.check_demo_models)):
                    self._run_check(name, step)
            finally:
                self._close_window()
        failed = [c.name for c in self.checks if not c.ok]
        total = time.perf_counter() - started
        self._write_report(total)
        if failed:
            print(f"self-test FAILED: {', '.join(failed)} (report: {self.report_dir / 'selftest.txt'})",
                  file=sys.stderr or self.out, flush=True)
            return 1
        self._print(f"self-test passed: {len(self.checks)} checks in {total:.1f} s")
        return 0

    def _run_check(self, name: str, step: Callable[[Check], str]) -> None:
        check = Check(name)
        self.checks.append(check)
        started = time.perf_counter()
        try:
            check.detail = step(check)
            check.ok = True
        except CheckFailed as exc:
            check.detail = str(exc)
        except Exception as exc:  # a crash in a check is that check's failure; the others still run
            check.detail = f"{type(exc).__name__}: {exc}"
            (self.report_dir / f"{name}-traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
        check.seconds = time.perf_counter() - started
        self._print(f"  {'ok  ' if check.ok else 'FAIL'}  {name:<12} {check.seconds:6.1f} s  {check.detail}")

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    @contextlib.contextmanager
    def _isolated_environment(self):
        """A temporary runs folder and offscreen Qt, restored afterwards."""
        saved = {k: os.environ.get(k) for k in ("STUDIO_RUNS_DIR", "QT_QPA_PLATFORM")}
        os.environ["STUDIO_RUNS_DIR"] = str(self.scratch / "runs")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            shutil.rmtree(self.scratch, ignore_errors=True)

    # --- the checks -------------------------------------------------------------------------------
    def check_environment(self, check: Check) -> str:
        import numpy
        import torch

        from .. import __version__
        from ..engine.devices import resolve_device

        device = resolve_device("auto")
        cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
        kind = ""
        if os.environ.get("STUDIO_BUNDLE_CPU") == "1" and is_bundle():
            # the CPU bundle made from a CUDA torch: its NVIDIA libraries are stubs, so no CUDA device may show
            if torch.cuda.is_available() or device.type == "cuda":
                raise CheckFailed("the CPU bundle sees a CUDA device; its CUDA libraries are stubs and must stay unused")
            kind = "; CPU bundle (NVIDIA libraries left out, CUDA hidden)"
        return (f"studio {__version__}, Python {platform.python_version()}, torch {torch.__version__} ({cuda}), "
                f"numpy {numpy.__version__}; trains on {device.type}{kind}")

    def check_resources(self, check: Check) -> str:
        from ..data import load_dataset
        from ..resources import resource_root

        root = resource_root()
        needed = [root / "styles" / "dark.qss", root / "icons" / "studio-256.png", root / "icons" / "check.png"]
        missing = [str(p) for p in needed if not p.is_file()]
        datasets = sorted(p.stem for p in (root / "data").glob("*.npz"))
        if missing:
            raise CheckFailed(f"missing resource files: {', '.join(missing)}")
        if "fashion-mnist-5k" not in datasets:
            raise CheckFailed(f"the default dataset fashion-mnist-5k.npz is not in {root / 'data'}")
        data = load_dataset("fashion-mnist-5k")
        return f"{root}: {len(datasets)} datasets ({', '.join(datasets)}); fashion-mnist-5k has {len(data)} images"

    def check_torchvision(self, check: Check) -> str:
        """torchvision's compiled operators load (a bundle missing its _C library dies here)."""
        import torch
        import torchvision
        from torchvision.ops import nms

        boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
        kept = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5).tolist()
        if kept != [0, 2]:
            raise CheckFailed(f"torchvision.ops.nms gave {kept}, expected [0, 2]")
        return f"torchvision {torchvision.__version__}: compiled operators work"

    def check_window(self, check: Check) -> str:
        from PySide6.QtCore import QSettings, qInstallMessageHandler

        from .app import create_app
        from .main_window import MainWindow

        self._previous_qt_handler = qInstallMessageHandler(self._on_qt_message)
        self.app = create_app()
        QSettings.setDefaultFormat(QSettings.IniFormat)
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(self.scratch / "settings"))
        self.window = MainWindow(QSettings())
        self.window.resize(1380, 860)
        self.window.show()
        self.window.grab()  # the first paint
        self.first_window_s = first_window_seconds()
        train = self.window.train
        self._wait_until(lambda: not train.setup.dataset.loading, 60, "the Train page to load its dataset")
        pages = []
        for key in self.window.pages:
            self.window.show_page(key)
            self._settle(0.4)
            path = self.report_dir / f"page-{key}.png"
            image = self.window.grab().toImage()
            colours = _distinct_colours(image)
            if colours < 8:
                raise CheckFailed(f"the {key} page rendered blank ({colours} colours)")
            image.save(str(path))
            check.files.append(path.name)
            pages.append(key)
        self.window.show_page("train")
        self._settle(0.1)
        self._raise_on_qt_messages()
        first = f"; first window {self.first_window_s:.1f} s after the process started" \
            if self.first_window_s is not None else ""
        return f"{len(pages)} pages rendered ({', '.join(pages)}) on the {self.app.platformName()} platform{first}"

    def check_glossary(self, check: Check) -> str:
        """Help › Glossary (F1) opens and explains the numbers the pages show."""
        from ..glossary import TERMS

        if self.window is None:
            raise CheckFailed("skipped: the window did not open")
        button = self.window.help_button
        button.glossary()
        self._settle(0.2)
        dialog = button.dialogs.get("glossary")
        if dialog is None or not dialog.isVisible():
            raise CheckFailed("Help › Glossary did not open its window")
        text = dialog.text.toPlainText()
        missing = [t.plain for t in TERMS.values() if t.plain not in text]
        if missing:
            raise CheckFailed(f"the glossary lacks {len(missing)} terms, e.g. {missing[0]!r}")
        path = self.report_dir / "glossary.png"
        dialog.grab().save(str(path))
        check.files.append(path.name)
        dialog.close()
        self._raise_on_qt_messages()
        return f"Help › Glossary shows all {len(TERMS)} terms"

    def check_train(self, check: Check) -> str:
        from ..runs import Run, load_model

        if self.window is None:
            raise CheckFailed("skipped: the window did not open")
        panel = self.window.train
        setup = panel.setup
        setup.family.setCurrentText("vae")
        setup.training_form.editors["steps"].setValue(TINY_STEPS)
        setup.training_form.editors["batch_size"].setValue(16)
        for name, value in TINY_MODEL.items():
            if name in setup.model_form.editors:
                setup.model_form.editors[name].setValue(value)
        if setup.reason:
            raise CheckFailed(f"the Train page refuses to start: {setup.reason}")
        ended: list[tuple[str, str]] = []
        panel.run_ended.connect(lambda path, status: ended.append((path, status)))
        if not panel.start():
            raise CheckFailed("the Train page did not start a run")
        self._wait_until(lambda: ended, 300, f"{TINY_STEPS} training steps")
        path, status = ended[0]
        if status != "finished":
            raise CheckFailed(f"the run ended '{status}': {panel.controls.message.text()}")
        run = Run.open(path)
        steps = [r["step"] for r in run.read_metrics() if "step" in r]
        if run.step != TINY_STEPS or not steps or max(steps) != TINY_STEPS:
            raise CheckFailed(f"the run stopped at step {run.step}, expected {TINY_STEPS}")
        grid = self._sample(load_model(run), "train-samples.png", check, keep=True)
        self._raise_on_qt_messages()
        return f"VAE trained {TINY_STEPS} steps on {run.meta.get('device', 'the default device')}, " \
               f"reloaded from safetensors, sampled {grid}"

    def check_export(self, check: Check) -> str:
        """The tiny run's samples as a PNG strip, a GIF and an MP4, each read back."""
        import numpy as np
        from PIL import Image

        from ..export import mp4_available, save_gif, save_mp4, save_png_strip
        from ..engine.sampling import to_frames

        if self.samples is None:
            raise CheckFailed("skipped: the training check made no samples")
        frames = list(to_frames(self.samples[:8]))
        png = save_png_strip(frames, self.report_dir / "export.png", scale=2)
        gif = save_gif(frames, self.report_dir / "export.gif", fps=4, scale=2)
        with Image.open(png) as image:
            if image.width < 8 * frames[0].shape[1]:
                raise CheckFailed(f"export.png is {image.width} px wide, too narrow for 8 frames")
        with Image.open(gif) as image:
            if getattr(image, "n_frames", 1) < 2:
                raise CheckFailed("export.gif has a single frame")
            gif_frames = image.n_frames
        check.files += [png.name, gif.name]
        if not mp4_available():
            raise CheckFailed("MP4 export is unavailable: imageio-ffmpeg's ffmpeg is missing from this installation")
        mp4 = save_mp4(frames, self.report_dir / "export.mp4", fps=4, scale=4)
        import imageio.v2 as imageio

        with imageio.get_reader(mp4, format="FFMPEG") as reader:
            decoded = sum(1 for _ in reader)
            first = reader.get_data(0)
        if decoded < len(frames) or float(np.asarray(first).std()) < 1:
            raise CheckFailed(f"export.mp4 decodes to {decoded} frames (wrote {len(frames)}) or a blank picture")
        check.files.append(mp4.name)
        return f"PNG strip, GIF ({gif_frames} frames) and MP4 ({decoded} frames, {mp4.stat().st_size} bytes) read back"

    def check_demo_models(self, check: Check) -> str:
        from ..runs import demo_runs_root, list_runs, load_model

        root = self.demo_root if self.demo_root is not None else demo_runs_root()
        runs = [r for r in list_runs(root) if r.latest_checkpoint() is not None]
        if not runs:
            raise CheckFailed(f"no bundled demo run with a checkpoint in {root} (the bundle must include "
                              f"resources/models/<family>-<data>/ run folders)")
        done = []
        for run in sorted(runs, key=lambda r: r.path.name):
            model = load_model(run)
            options = {"steps": DEMO_SAMPLE_STEPS} if model.capabilities.samplers else {}
            self._sample(model, f"demo-{run.path.name}.png", check, **options)
            done.append(f"{run.path.name} (step {run.step})")
        return f"sampled {DEMO_SAMPLES} images from each of {len(done)} demo runs: {', '.join(done)}"

    # --- helpers ---------------------------------------------------------------------------------
    def _sample(self, model, filename: str, check: Check, keep: bool = False, **options) -> str:
        import torch

        from ..imaging import make_grid, save_png

        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            noise = model.sample_noise(DEMO_SAMPLES, generator=generator)
            images = model.sample(DEMO_SAMPLES, noise=noise.to(next(model.parameters()).device), **options)
        images = images.float().cpu()
        if not torch.isfinite(images).all():
            raise CheckFailed(f"{filename}: the samples hold NaN or infinite values")
        if float(images.std()) < 1e-3:
            raise CheckFailed(f"{filename}: the samples are all one value")
        save_png(make_grid(images), self.report_dir / filename, scale=2)
        if keep:
            self.samples = images
        check.files.append(filename)
        return f"{DEMO_SAMPLES} images {tuple(images.shape[1:])}"

    def _on_qt_message(self, mode, context, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) and \
                not any(h in message for h in HARMLESS_QT_MESSAGES):
            self.qt_messages.append(message)
        if self._previous_qt_handler is not None:  # e.g. pytest-qt's
            self._previous_qt_handler(mode, context, message)

    def _raise_on_qt_messages(self) -> None:
        """Qt warnings (a missing plugin, image format or style sheet file) fail the check."""
        messages, self.qt_messages = self.qt_messages, []
        if messages:
            raise CheckFailed(f"Qt warned: {' | '.join(dict.fromkeys(messages))}")

    def _wait_until(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
            self.app.processEvents()
            time.sleep(0.01)

    def _settle(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def _close_window(self) -> None:
        if self.window is None:
            return
        from PySide6.QtCore import QThreadPool, qInstallMessageHandler

        self.window.shutdown()
        self.window.close()
        self.window.deleteLater()
        QThreadPool.globalInstance().waitForDone()
        self.app.processEvents()
        self.window = None
        qInstallMessageHandler(self._previous_qt_handler)

    def _write_report(self, total: float) -> None:
        from .. import __version__

        report = {"version": __version__, "bundle": is_bundle(), "platform": platform.platform(),
                  "cpu_bundle": os.environ.get("STUDIO_BUNDLE_CPU") == "1" and is_bundle(),
                  "first_window_s": None if self.first_window_s is None else round(self.first_window_s, 2),
                  "passed": all(c.ok for c in self.checks), "seconds": round(total, 2),
                  "checks": [asdict(c) | {"seconds": round(c.seconds, 2)} for c in self.checks]}
        (self.report_dir / "selftest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        lines = [f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<12} {c.seconds:6.1f} s  {c.detail}" for c in self.checks]
        (self.report_dir / "selftest.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _distinct_colours(image) -> int:
    """Colours in a 64×40 thumbnail: a blank or black page has one or two."""
    from PySide6.QtCore import Qt

    small = image.scaled(64, 40, Qt.IgnoreAspectRatio, Qt.FastTransformation)
    return len({small.pixel(x, y) for x in range(small.width()) for y in range(small.height())})


def first_window_seconds() -> float | None:
    """Seconds from this process's start (the OS's record of it) to now; None if unknown."""
    try:
        import psutil

        return time.time() - psutil.Process().create_time()
    except Exception:  # psutil missing or the process table unreadable: the report says nothing
        return None


def is_bundle() -> bool:
    return bool(getattr(sys, "frozen", False) and getattr(sys, "_MEIPASS", None))


def run_selftest(report: str | os.PathLike | None = None, demo_root: str | os.PathLike | None = None,
                 out=None) -> int:
    """Run every check; returns the exit code (0: all passed)."""
    report_dir = Path(report) if report else Path(tempfile.mkdtemp(prefix="studio-selftest-"))
    report_dir.mkdir(parents=True, exist_ok=True)
    return SelfTest(report_dir, Path(demo_root) if demo_root is not None else None, out).run()
