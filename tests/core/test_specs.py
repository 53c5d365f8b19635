"""The shared rules of studio.specs: run-folder names and the preview cadence, the same for
the CLI and the window."""

from __future__ import annotations

import time

import pytest

from studio.specs import (default_preview_every, early_offsets, is_early_preview, is_preview_step, new_run_dir,
                          next_preview_step, preview_steps, run_name)

WHEN = time.mktime((2025, 3, 4, 5, 6, 7, 0, 0, -1))


def test_early_offsets_are_the_1_2_5_series_below_the_limit():
    assert list(early_offsets(200)) == [1, 2, 5, 10, 20, 50, 100]
    assert list(early_offsets(1)) == [] and list(early_offsets(2)) == [1]


def test_preview_steps_start_early_then_follow_the_interval():
    assert preview_steps(2000, 200) == [1, 2, 5, 10, 20, 50, 100, *range(200, 2001, 200)]
    assert preview_steps(30, 3) == [1, 2, *range(3, 31, 3)]
    assert preview_steps(25, 10) == [1, 2, 5, 10, 20, 25]  # the last step always previews
    assert preview_steps(10, 0) == [10]  # previews off: the last step only
    # a resumed run gets its own early previews, then the run's multiples of the interval
    assert preview_steps(1400, 200, start=1234) == [1235, 1236, 1239, 1244, 1254, 1284, 1334, 1400]


@pytest.mark.parametrize("every,start,end", [(200, 0, 2000), (3, 0, 30), (7, 0, 100), (1, 0, 5), (250, 93, 1000),
                                             (0, 0, 10)])
def test_next_preview_step_agrees_with_is_preview_step(every, start, end):
    due = [s for s in range(start + 1, end) if is_preview_step(s, every, start)] + [end]
    assert preview_steps(end, every, start) == due
    for step in range(start, end):
        assert next_preview_step(step, every, start, end) == next(s for s in due if s > step)
    assert next_preview_step(end, every, start, end) is None


def test_next_preview_without_an_end():
    assert next_preview_step(0, 200) == 1 and next_preview_step(100, 200) == 200
    assert next_preview_step(5, 0) is None


def test_default_interval_gives_about_ten_previews_capped_by_the_family():
    assert default_preview_every(200, 2000) == 200
    assert default_preview_every(200, 600) == 60
    assert default_preview_every(200, 5) == 1
    assert default_preview_every(800, 100_000) == 800


def test_every_default_preset_previews_at_step_1():
    """Issue 15: something to look at within seconds of Start, for every family's default."""
    from studio.engine import TrainSpec
    from studio.models import family_names

    for family in family_names():
        spec = TrainSpec(family=family, data="shapes").resolved()
        assert preview_steps(spec.steps, spec.preview_every)[0] == 1, family
        assert 1 <= spec.preview_every <= spec.steps // 10 or spec.steps < 10, family


@pytest.mark.parametrize("data,expected", [
    ("fashion-mnist-5k", "vae-fashion-mnist-5k-20250304-050607"),
    ("folder:/home/ann/My Pictures/", "vae-My-Pictures-20250304-050607"),
    ("folder:/", "vae-data-20250304-050607"),
])
def test_run_name(data, expected):
    assert run_name("vae", data, WHEN) == expected


def test_new_run_dir_never_names_an_existing_folder(tmp_path):
    first = new_run_dir(tmp_path, "vae", "shapes", WHEN)
    assert first == tmp_path / "vae-shapes-20250304-050607" and not first.exists()
    first.mkdir()
    second = new_run_dir(tmp_path, "vae", "shapes", WHEN)
    assert second.name == "vae-shapes-20250304-050607-2"
    second.mkdir()
    assert new_run_dir(tmp_path, "vae", "shapes", WHEN).name == "vae-shapes-20250304-050607-3"


def test_cli_train_names_its_folder_by_the_shared_rule(tmp_path, monkeypatch, tiny_options):
    """Two `studio train` runs without --run-dir in the same second get two folders, named as
    the window names them (studio.specs.new_run_dir), not an error."""
    import types

    from studio import specs
    from studio.cli import main

    monkeypatch.setattr(specs, "time", types.SimpleNamespace(strftime=time.strftime,
                                                             localtime=lambda when=None: time.localtime(WHEN)))
    args = ["train", "--family", "autoencoder", "--data", "shapes", "--steps", "1", "--batch-size", "4",
            "--device", "cpu", "--precision", "fp32", "--preview-every", "0",
            *[f"--set={k}={v}" for k, v in tiny_options["autoencoder"].items()]]
    assert main(args) == 0 and main(args) == 0
    root = tmp_path / "runs"  # STUDIO_RUNS_DIR (tests/conftest.py)
    assert sorted(p.name for p in root.iterdir()) == ["autoencoder-shapes-20250304-050607",
                                                      "autoencoder-shapes-20250304-050607-2"]


def test_early_previews_are_the_ones_before_the_regular_cadence():
    early = [s for s in preview_steps(2000, 200) if is_early_preview(s, 200)]
    assert early == [1, 2, 5, 10, 20, 50, 100]
    assert not is_early_preview(400, 200) and not is_early_preview(3, 0)
