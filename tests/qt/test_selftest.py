"""``studio --selftest``: every check runs against the real window, a tiny training run and
the demo runs it is pointed at; a missing demo model fails with its name."""

from __future__ import annotations

import json
import shutil

from studio.cli import main
from studio.qt.selftest import run_selftest


def test_selftest_passes_and_writes_its_report(trained_run, tmp_path, capsys):
    demos = tmp_path / "models"
    for family in ("vae", "ddpm"):
        shutil.copytree(trained_run(family), demos / f"{family}-tiny")
    report = tmp_path / "report"
    assert run_selftest(report, demo_root=demos) == 0
    out = capsys.readouterr().out
    assert "self-test passed: 8 checks" in out
    result = json.loads((report / "selftest.json").read_text())
    assert result["passed"] and not result["bundle"]
    checks = {c["name"]: c for c in result["checks"]}
    assert list(checks) == ["environment", "resources", "torchvision", "window", "glossary", "train", "export",
                            "demo-models"]
    assert all(c["ok"] for c in checks.values())
    pages = checks["window"]["files"]
    assert {"page-train.png", "page-runs.png"} <= set(pages)
    assert checks["demo-models"]["files"] == ["demo-ddpm-tiny.png", "demo-vae-tiny.png"]
    for name in [*pages, "train-samples.png", "demo-ddpm-tiny.png"]:
        assert (report / name).stat().st_size > 500
    assert "2 demo runs" in checks["demo-models"]["detail"]
    assert (report / "selftest.txt").read_text().count("ok  ") == 8
    # every page of the window, the Playground included
    assert {f"page-{key}.png" for key in ("train", "latent", "diffusion", "runs", "playground")} <= set(pages)
    # the first window is timed from the process's start (pytest started long before: only its sign is known)
    assert result["first_window_s"] > 0 and "first window" in checks["window"]["detail"]
    assert checks["glossary"]["files"] == ["glossary.png"] and "all" in checks["glossary"]["detail"]
    # exports: a PNG strip 8 frames wide, a GIF of several frames, an MP4 that decodes to 8 frames
    assert checks["export"]["files"] == ["export.png", "export.gif", "export.mp4"]
    from PIL import Image

    with Image.open(report / "export.png") as strip, Image.open(report / "export.gif") as gif:
        assert strip.width >= 8 * 28 * 2 and gif.n_frames >= 2
    assert "MP4 (8 frames" in checks["export"]["detail"]
    assert result["cpu_bundle"] is False


def test_selftest_without_demo_models_fails_naming_the_check(tmp_path, capsys, monkeypatch):
    """The demo check's failure through ``studio --selftest``; the window, glossary, training and
    export checks (test_selftest_passes_and_writes_its_report runs them) stand aside here."""
    from studio.qt.selftest import SelfTest

    for name in ("window", "glossary", "train", "export"):
        monkeypatch.setattr(SelfTest, f"check_{name}", lambda self, check: "run by the passing test")
    empty = tmp_path / "models"
    empty.mkdir()
    report = tmp_path / "report"
    assert main(["--selftest", "--report", str(report), "--demo-root", str(empty)]) == 1
    captured = capsys.readouterr()
    assert "self-test FAILED: demo-models" in captured.err
    result = json.loads((report / "selftest.json").read_text())
    failed = [c for c in result["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["demo-models"]
    assert "no bundled demo run" in failed[0]["detail"] and str(empty) in failed[0]["detail"]


def test_report_without_selftest_is_a_usage_error(tmp_path, capsys):
    assert main(["--report", str(tmp_path)]) == 2
    assert "--selftest" in capsys.readouterr().err
