import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_runs_root(tmp_path, monkeypatch):
    """No test ever writes into the user's real runs folder."""
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs-root"))
    monkeypatch.setenv("STUDIO_DATA_ROOT", str(tmp_path / "data-root"))
