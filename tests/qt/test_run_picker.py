"""The shared run picker: lists usable runs (yours, then demos), keeps a run opened from elsewhere."""

import shutil

from studio.qt.widgets.run_picker import RunPicker


def test_picker_lists_usable_runs_and_keeps_a_run_opened_from_elsewhere(qtbot, trained_run, tmp_path, monkeypatch):
    root, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    # the tiny runs other tests use (trained once per test run)
    shutil.copytree(trained_run("vae"), root / "my-vae")
    shutil.copytree(trained_run("ddpm"), root / "my-ddpm")
    shutil.copytree(trained_run("vae"), elsewhere / "far-vae")
    monkeypatch.setattr("studio.qt.widgets.run_picker.demo_runs_root", lambda: tmp_path / "no-demos")
    monkeypatch.setattr("studio.runs.demo_runs_root", lambda: tmp_path / "no-demos")
    picker = RunPicker(lambda caps: caps.encode)
    picker.root = root
    qtbot.addWidget(picker)
    with qtbot.waitSignal(picker.listed, timeout=30_000) as listed:
        picker.refresh()
    assert [path for path, _ in listed.args[0]] == [str(root / "my-vae")]  # the DDPM cannot encode
    with qtbot.waitSignal(picker.run_chosen) as chosen:
        picker.select(str(elsewhere / "far-vae"))
    assert chosen.args == [str(elsewhere / "far-vae")]
    with qtbot.waitSignal(picker.listed, timeout=30_000):
        picker.refresh()
    assert picker.current_path == str(elsewhere / "far-vae")
    assert picker.combo.count() == 2
