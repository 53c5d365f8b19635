"""The Train page's "Export run config…" saves the form's run as the file `studio train --config`
trains: read back, it is the same run, every default written out."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.specs import config_of, read_config


def test_export_run_config_saves_what_start_would_train(window, tiny_run, qtbot, monkeypatch, tmp_path):
    panel = window.train
    tiny_run(panel, steps=30)
    target = tmp_path / "exported.json"
    asked = []
    monkeypatch.setattr("studio.qt.widgets.export_config.ask_save_path",
                        lambda parent, title, name, kinds: asked.append(name) or str(target))
    with qtbot.waitSignal(panel.status_posted) as posted:
        qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    assert asked[0].startswith("autoencoder-") and asked[0].endswith(".json")
    assert str(target) in posted.args[0] and "studio train --config exported.json" in posted.args[0]
    spec = read_config(target)
    assert config_of(spec) == config_of(panel.setup.spec())
    assert (spec.family, spec.steps, spec.batch_size, spec.options["width"]) == ("autoencoder", 30, 8, 8)
    assert set(spec.options) == set(config_of(panel.setup.spec())["spec"]["options"])  # all written out

    # a setting the run would refuse: said at once, nothing asked or written
    panel.setup.training_form.editors["batch_size"].setValue(0)
    target.unlink()
    with qtbot.waitSignal(panel.status_posted) as posted:
        panel.export_button.click()
    assert posted.args[0].startswith("The run config was not saved: batch_size") and not target.exists()
    assert len(asked) == 1
