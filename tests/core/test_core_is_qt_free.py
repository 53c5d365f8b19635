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
