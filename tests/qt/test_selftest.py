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
    assert "self-test passed: 6 checks" in out
    result = json.loads((report / "selftest.json").read_text())
    assert result["passed"] and not result["bundle"]
    checks = {c["name"]: c for c in result["checks"]}
    assert list(checks) == ["environment", "resources", "torchvision", "window", "train", "demo-models"]
    assert all(c["ok"] for c in checks.values())
    pages = checks["window"]["files"]
    assert {"page-train.png", "page-runs.png"} <= set(pages)
    assert checks["demo-models"]["files"] == ["demo-ddpm-tiny.png", "demo-vae-tiny.png"]
    for name in [*pages, "train-samples.png", "demo-ddpm-tiny.png"]:
        assert (report / name).stat().st_size > 500
    assert "2 demo runs" in checks["demo-models"]["detail"]
    assert (report / "selftest.txt").read_text().count("ok  ") == 6


def test_selftest_without_demo_models_fails_naming_the_check(tmp_path, capsys):
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
