"""The window and the CLI follow the same rules (studio.specs) for the same settings: the
run folder's name (never an existing folder) and the preview cadence."""

from __future__ import annotations

import time
import types

import pytest

from studio import specs
from studio.cli import build_parser
from studio.runs import default_runs_root
from studio.specs import preview_steps

WHEN = time.mktime((2025, 3, 4, 5, 6, 7, 0, 0, -1))


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(specs, "time", types.SimpleNamespace(strftime=time.strftime,
                                                             localtime=lambda when=None: time.localtime(WHEN)))


@pytest.mark.parametrize("family,preset,steps", [("vae", "standard", None), ("ddpm", "quick", None),
                                                 ("dcgan", "standard", 30)])
def test_window_and_cli_name_runs_and_preview_alike(window, frozen_clock, family, preset, steps):
    from studio.qt.panels.train import new_run_dir

    setup = window.train.setup
    setup.family.setCurrentText(family)
    setup.preset.setCurrentText(preset)
    if steps:
        setup.training_form.editors["steps"].setValue(steps)
    gui = setup.spec()
    flags = ["train", "--family", family, "--preset", preset, "--data", gui.data,
             *(["--steps", str(steps)] if steps else [])]
    args = build_parser().parse_args(flags)
    assert args.preview_every is None  # no --preview-every: the CLI leaves the cadence to studio.specs
    cli = specs.TrainSpec(family=args.family, data=args.data, steps=args.steps, preset=args.preset,
                          preview_every=args.preview_every).resolved()
    window_resolved = gui.resolved()
    assert window_resolved.preview_every == cli.preview_every
    assert preview_steps(window_resolved.steps, window_resolved.preview_every) == preview_steps(cli.steps,
                                                                                              cli.preview_every)
    # the folder: the name the CLI gives (studio train without --run-dir), then -2 once it exists
    expected = specs.new_run_dir(default_runs_root(), args.family, args.data)
    assert new_run_dir(gui) == expected and expected.name == f"{family}-{gui.data}-20250304-050607"
    expected.mkdir(parents=True)
    assert new_run_dir(gui).name == expected.name + "-2" == specs.new_run_dir(default_runs_root(), family,
                                                                               args.data).name
