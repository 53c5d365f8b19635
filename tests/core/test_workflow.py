"""The CI workflow that builds the Linux, Windows and macOS bundles (.github/workflows/bundle.yml):
valid against the GitHub workflow schema that check-jsonschema ships (offline: its vendored copy),
and shaped as the README promises: the tests first, then one bundle per system, each built by
scripts/build_bundle.sh under bash with Python 3.11, self-tested, size-checked and uploaded."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "bundle.yml"


def _load() -> dict:
    return YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_is_valid_against_githubs_schema():
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert exe, "check-jsonschema is a test dependency (pyproject's test extra)"
    done = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_workflow_is_caught(tmp_path):
    """The validator is not a no-op: a job without runs-on and a step with a typo'd key fail."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    steps:\n      - uses: actions/checkout@v4\n        wiht: {a: 1}\n")
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    done = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1


def test_tests_run_first_with_the_readme_command():
    flow = _load()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "bash scripts/setup.sh && QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q"
    assert command in readme
    assert [step["run"] for step in flow["jobs"]["tests"]["steps"] if "pytest" in step.get("run", "")] == [command]
    assert flow["jobs"]["bundle"]["needs"] == "tests"
    # .ci/run starts with the same command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))][0] == command


def test_one_bundle_per_system_built_self_tested_and_uploaded():
    job = _load()["jobs"]["bundle"]
    systems = {entry["os"].split("-")[0] for entry in job["strategy"]["matrix"]["include"]}
    assert systems == {"ubuntu", "windows", "macos"}
    assert job["defaults"]["run"]["shell"] == "bash"  # Git Bash on Windows runs the same script
    assert job["timeout-minutes"] <= 90
    steps = job["steps"]
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert python and python[0]["with"]["python-version"] == "3.11"
    build = [s["run"] for s in steps if "build_bundle.sh" in s.get("run", "")]
    # the script runs the bundle's --selftest --report and fails over the size budget
    assert build == ["bash scripts/build_bundle.sh --archive dist --out report"]
    script = (ROOT / "scripts" / "build_bundle.sh").read_text(encoding="utf-8")
    assert '"$APP" --selftest --report' in script and 'over its ${budget} MB budget' in script
    uploads = [s["with"]["path"] for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads == ["dist/*", "report/"]
    longpaths = [s for s in steps if "LongPathsEnabled" in s.get("run", "")]
    assert longpaths and longpaths[0]["if"] == "runner.os == 'Windows'"
