"""The app bundle's pieces that can be checked without building it: the resource helper
follows PyInstaller's sys._MEIPASS, and build.spec names files that exist."""

from __future__ import annotations

import ast
import plistlib
import sys
from pathlib import Path

from studio.resources import resource_path, resource_root

ROOT = Path(__file__).resolve().parents[2]


def test_resources_come_from_the_bundle_when_frozen(monkeypatch, tmp_path):
    assert resource_path("styles", "dark.qss").is_file()  # from source
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_root() == tmp_path / "resources"
    assert resource_path("models") == tmp_path / "resources" / "models"


def test_build_spec_is_python_and_its_inputs_exist():
    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    tree = ast.parse(spec)
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert {"studio_main.py", "triton"} <= strings  # icons and layout: packaging/platforms.py (test_build_spec)
    for path in ("resources/icons/studio.icns", "resources/icons/studio.ico", "packaging/studio_main.py"):
        assert (ROOT / path).is_file(), path
    entitlements = plistlib.loads((ROOT / "packaging" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.cs.allow-unsigned-executable-memory"] is True
    assert "exclude_binaries=True" in spec and "upx=True" not in spec  # one folder, never UPX
    # torchvision's operator libraries (_C_stable.so, image_stable.so) need a pattern that matches them
    assert '"*.so"' in spec
