"""Importing every core module must work with the Qt packages made unimportable
(napari's habit), so the core stays usable headless and in tests; and the headless user's
commands run that way. Both tests read one subprocess (Python and torch start once): it
imports every core module, then runs the commands one after another."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

QT_BLOCKER = """
import sys
class _BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, _BlockQt())
"""


@pytest.fixture(scope="module")
def headless(tmp_path_factory, tiny_options):
    """One interpreter with the Qt packages blocked by a sitecustomize: first every core module
    imported (section "imports"), then studio train, sample, eval and bench engine (section per
    command, each followed by the Qt modules loaded so far). -> (stdout sections, folder, stderr)."""
    tmp = tmp_path_factory.mktemp("headless")
    site = tmp / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(QT_BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "STUDIO_RUNS_DIR": str(tmp / "runs"), "OMP_NUM_THREADS": "1"}
    run, grid = tmp / "vae", tmp / "grid.png"
    tiny = [f"--set={k}={v}" for k, v in tiny_options["vae"].items()]
    commands = [
        ["train", "--family", "vae", "--steps", "3", "--batch-size", "8", "--device", "cpu", "--precision", "fp32",
         "--run-dir", str(run), "--threads", "1", *tiny],
        ["sample", str(run), "--n", "4", "--out", str(grid)],
        ["eval", str(run), "--n", "100", "--nll-images", "20", "--k", "2", "--json", "--threads", "1"],
        ["bench", "engine", "--quick", "--families", "vae"],
    ]
    script = textwrap.dedent(f"""
        import importlib, json, pkgutil, sys
        try:
            import PySide6
        except ImportError as exc:
            assert "Qt is blocked" in str(exc)
        else:
            raise SystemExit("the Qt blocker is not in force")

        def qt_loaded():
            return [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]

        import studio
        names = [m.name for m in pkgutil.walk_packages(studio.__path__, 'studio.') if '.qt' not in m.name]
        failed = []
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as exc:
                failed.append(f"{{name}}: {{type(exc).__name__}}: {{exc}}")
        from studio.cli import main
        print("### section imports", flush=True)
        print(json.dumps({{"count": len(names), "failed": failed, "families": main(['families']),
                          "qt": qt_loaded()}}), flush=True)

        # the engine benchmark at a test's size (its real lengths and models take 12 s here;
        # test_bench covers its parts): the tiny vae, 3 timed steps a side, a small GEMM
        import studio.bench.engine as bench
        compare, step_flops = bench.compare, bench.step_flops
        bench.compare = lambda family, dataset, precision, rounds, side_s, options=None, batch=None: compare(
            family, dataset, precision, rounds, 0.0, {tiny_options["vae"]!r}, 8)
        bench.step_flops = lambda family, dataset, precision, batch, options=None: step_flops(
            family, dataset, precision, batch, {tiny_options["vae"]!r})
        bench.gemm_flops.__defaults__ = (256,)

        for args in {commands!r}:
            print("### section", *args[:2], flush=True)
            code = main(args)
            print("### exit", json.dumps({{"code": code, "qt": qt_loaded()}}), flush=True)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp)
    assert out.returncode == 0, out.stderr[-3000:]
    sections = {part.split("\n", 1)[0]: part.split("\n", 1)[1] for part in out.stdout.split("### section ")[1:]}
    return sections, tmp, out.stderr


def test_core_imports_without_qt(headless):
    sections, _, _ = headless
    result = json.loads(sections["imports"].strip().splitlines()[-1])
    assert result["failed"] == [] and result["families"] == 0 and result["qt"] == []
    assert result["count"] >= 10


def test_cli_commands_run_without_qt(headless):
    """The headless user's path *runs* with the Qt packages unimportable: studio train, sample,
    eval and bench engine, one after another in one process (torch imported once), each exiting
    0 with its output written and no Qt module loaded after it."""
    sections, tmp, stderr = headless
    parts = [sections[key] for key in ("train --family", f"sample {tmp / 'vae'}", f"eval {tmp / 'vae'}",
                                       "bench engine")]
    exits = [json.loads(p.rsplit("### exit ", 1)[1]) for p in parts]
    assert exits == [{"code": 0, "qt": []}] * 4, (exits, stderr[-3000:])
    assert json.loads((tmp / "vae" / "run.json").read_text())["status"] == "finished"
    assert (tmp / "grid.png").stat().st_size > 0
    evaluation = json.loads(parts[2].rsplit("### exit ", 1)[0].strip().splitlines()[-1])
    assert evaluation["samples"]["n"] == 100 and evaluation["likelihood"]["iwae_nats"] > 0
    bench = json.loads(parts[3].rsplit("### exit ", 1)[0].strip().splitlines()[-1])
    assert list(bench["families"]) == ["vae"] and bench["families"]["vae"]["ratio"] > 0
