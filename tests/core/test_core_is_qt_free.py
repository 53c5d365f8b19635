"""Importing every core module must work with the Qt packages made unimportable
(napari's habit), so the core stays usable headless and in tests."""

import subprocess
import sys
import textwrap


def test_core_imports_without_qt():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'):
                    raise ImportError('Qt is blocked in this test: ' + name)
        sys.meta_path.insert(0, Block())
        import studio
        names = [m.name for m in pkgutil.walk_packages(studio.__path__, 'studio.')
                 if '.qt' not in m.name]
        for name in names:
            importlib.import_module(name)
        from studio.cli import main
        assert main(['families']) == 0
        assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]
        print(len(names))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) >= 10


QT_BLOCKER = """
import sys
class _BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, _BlockQt())
"""


def test_cli_commands_run_without_qt(tmp_path, tiny_options):
    """The headless user's path *runs* with the Qt packages unimportable (a sitecustomize that
    blocks them in the subprocess): studio train, sample, eval and bench engine, one after
    another in one process (torch imported once), each exiting 0 with its output written."""
    import json
    import os

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(QT_BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "STUDIO_RUNS_DIR": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    run, grid = tmp_path / "vae", tmp_path / "grid.png"
    tiny = [f"--set={k}={v}" for k, v in tiny_options["vae"].items()]
    commands = [
        ["train", "--family", "vae", "--steps", "3", "--batch-size", "8", "--device", "cpu", "--precision", "fp32",
         "--run-dir", str(run), "--threads", "1", *tiny],
        ["sample", str(run), "--n", "4", "--out", str(grid)],
        ["eval", str(run), "--n", "100", "--nll-images", "20", "--k", "2", "--json", "--threads", "1"],
        ["bench", "engine", "--quick", "--families", "vae"],
    ]
    script = textwrap.dedent(f"""
        import sys
        try:
            import PySide6
        except ImportError as exc:
            assert "Qt is blocked" in str(exc)
        else:
            raise SystemExit("the Qt blocker is not in force")
        from studio.cli import main
        for args in {commands!r}:
            print("### studio", *args[:2], flush=True)
            code = main(args)
            print("### exit", code, flush=True)
        assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    parts = out.stdout.split("### studio ")[1:]
    assert [p.rsplit("### exit ", 1)[1].strip() for p in parts] == ["0"] * 4, out.stdout[-3000:]
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    assert grid.stat().st_size > 0
    evaluation = json.loads(parts[2].strip().splitlines()[-2])
    assert evaluation["samples"]["n"] == 100 and evaluation["likelihood"]["iwae_nats"] > 0
    bench = json.loads(parts[3].strip().splitlines()[-2])
    assert list(bench["families"]) == ["vae"] and bench["families"]["vae"]["ratio"] > 0
