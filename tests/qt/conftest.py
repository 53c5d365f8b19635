"""Qt test fixtures: one themed app, settings in a temporary folder, a window that is always
shut down cleanly, and a helper that sets up a tiny, fast training run through the widgets."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

TINY_MODEL = {"width": 8, "latent_dim": 4}


def pytest_collection_modifyitems(items):
    """A Qt warning (a thread destroyed while running, a cross-thread timer...) fails the test;
    the offscreen platform's notice about size hints is harmless."""
    here = str(__file__).rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise"))


@pytest.fixture(scope="session")
def qapp():
    """The app as `studio` makes it (theme, icon, names); pytest-qt uses this one."""
    from studio.qt.app import create_app

    return create_app()


@pytest.fixture(autouse=True)
def _temporary_settings(tmp_path, qapp, monkeypatch):
    """Never read or write the user's real settings or runs folder (a run left there by an
    earlier session would make the next one fail)."""
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture
def make_window(qtbot):
    from studio.qt.main_window import MainWindow

    windows = []

    def make():
        window = MainWindow(QSettings())
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.train.setup.dataset.loading, timeout=20_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def tiny_run():
    return set_up_tiny_run


def set_up_tiny_run(panel, steps: int, batch_size: int = 8) -> None:
    """Drive the real widgets: the autoencoder family, tiny and fast."""
    setup = panel.setup
    setup.family.setCurrentText("autoencoder")
    setup.training_form.editors["steps"].setValue(steps)
    setup.training_form.editors["batch_size"].setValue(batch_size)
    for name, value in TINY_MODEL.items():
        setup.model_form.editors[name].setValue(value)
    assert setup.reason is None, setup.reason
    assert panel.controls.start_button.isEnabled()
