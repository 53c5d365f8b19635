"""A file asked for in a folder that cannot be written: one rule (``export.write_problem``) checked
before any work, in the CLI (exit 2, one line, nothing written, nothing sampled) and the exports.

Tests run as root on the lab machines and as a user on CI, so a folder is made unwritable by
refusing every file opened in it (``unwritable``), as an immutable folder (``chattr +i``) does."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

import numpy as np
import pytest

from studio import export
from studio.cli import main
from studio.errors import SpecError, sentence

LINE = "can't write to {folder} (permission denied): choose another folder"


@pytest.fixture
def unwritable(tmp_path, monkeypatch):
    """A folder where creating or opening any file for writing fails with EPERM (what an
    immutable folder gives root); reading elsewhere is untouched."""
    folder = tmp_path / "ro"
    folder.mkdir()

    def inside(path) -> bool:
        try:
            return Path(os.fsdecode(path)).absolute().parent == folder
        except TypeError:  # a file descriptor
            return False

    def refuse(path):
        raise PermissionError(errno.EPERM, "Operation not permitted", os.fsdecode(path))

    real_os_open, real_open = os.open, builtins.open

    def os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if inside(file) and any(c in mode for c in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    return folder


def test_the_rule_names_the_folder_the_reason_and_the_fix(unwritable, tmp_path):
    assert export.write_problem(unwritable / "a.gif") == LINE.format(folder=unwritable)
    assert sentence(export.write_problem(unwritable / "a.gif")) == \
        f"Can't write to {unwritable} (permission denied): choose another folder"
    assert export.write_problem(tmp_path / "a.gif") is None
    assert export.write_problem(tmp_path / "nope" / "a.gif") == f"the folder {tmp_path / 'nope'} does not exist"
    assert export.write_problem(tmp_path) == f"{tmp_path} is a folder; give a file name"
    (tmp_path / "file.png").write_bytes(b"x")
    assert export.write_problem(tmp_path / "file.png" / "a.gif") == f"{tmp_path / 'file.png'} is a file, not a folder"
    assert export.folder_problem(unwritable / "new" / "deeper") == LINE.format(folder=unwritable)
    assert export.folder_problem(tmp_path / "new" / "deeper") is None
    with pytest.raises(SpecError) as caught:
        export.check_writable(unwritable / "a.png")
    assert caught.value.field == "out" and str(caught.value) == f"out {unwritable / 'a.png'}: " + LINE.format(
        folder=unwritable)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.png", "ro"]  # the probe leaves nothing


def test_a_failed_write_says_the_folder_and_reason_never_the_temporary_name(unwritable):
    from studio.imaging import save_png

    frames = [np.zeros((8, 8, 3), np.uint8)] * 3
    for save in (export.save_gif, export.save_png_strip, lambda f, p: save_png(f[0], p)):
        with pytest.raises(export.WriteError) as caught:
            save(frames, unwritable / "x.gif")
        assert str(caught.value) == f"Can't write to {unwritable} (permission denied): choose another folder"
        assert isinstance(caught.value, OSError)  # callers handling a failed write as an OSError still do
    assert list(unwritable.iterdir()) == []


def test_a_gif_is_encoded_before_its_file_is_opened_and_a_cancel_writes_nothing(tmp_path):
    from studio.errors import Cancelled

    frames = [np.full((8, 8, 3), i * 20, np.uint8) for i in range(5)]
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        export.save_gif(frames, tmp_path / "x.gif", check=check)
    assert list(tmp_path.iterdir()) == []  # no half-written GIF, no hidden temporary
    assert export.save_gif(frames, tmp_path / "x.gif").stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["x.gif"]


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if any sampling or edit job runs."""
    import studio.cli_edit
    import studio.metrics.evaluate

    def refuse(*args, **kwargs):
        raise AssertionError("the work ran before the output folder was checked")

    monkeypatch.setattr(studio.metrics.evaluate, "generate_batches", refuse)
    monkeypatch.setattr(studio.cli_edit, "_run", refuse)


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    from PIL import Image

    path = tmp_path_factory.mktemp("pictures") / "mine.png"
    Image.fromarray(np.full((28, 28), 128, np.uint8)).save(path)
    return path


@pytest.mark.parametrize("family, argv, flag, name", [
    ("vae", ["sample", "{run}", "--n", "4"], "--out", "g.png"),
    ("ddpm", ["edit", "{run}", "--image", "{picture}", "--sample-steps", "4"], "--out", "e.png"),
    ("ddpm", ["inpaint", "{run}", "--image", "{picture}", "--mask", "right", "--sample-steps", "10"], "--out", "i.png"),
    ("vae", ["denoise", "{run}", "--image", "{picture}", "--sigma", "0.3"], "--out", "d.png"),
    ("vae", ["encode", "{run}", "--image", "{picture}"], "--out", "z.npy"),
    ("vae", ["encode", "{run}", "--image", "{picture}"], "--reconstruction", "r.png"),
])
def test_cli_refuses_an_unwritable_out_before_the_work(trained_run, picture, unwritable, no_work, capsys,
                                                         family, argv, flag, name):
    run = trained_run(family)
    out = unwritable / name
    argv = [a.format(run=run, picture=picture) for a in argv] + [flag, str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"error: {flag} {out}: {LINE.format(folder=unwritable)}\n"
    assert list(unwritable.iterdir()) == []


def test_cli_refuses_an_unwritable_selftest_report(unwritable, capsys):
    assert main(["--selftest", "--report", str(unwritable / "report")]) == 2
    assert capsys.readouterr().err == f"error: --report {unwritable / 'report'}: {LINE.format(folder=unwritable)}\n"


@pytest.mark.parametrize("flag, name", [("--out", "q.md"), ("--json", "q.json"), ("--grids", "grids")])
def test_quality_table_refuses_an_unwritable_output_before_evaluating(unwritable, capsys, monkeypatch, flag, name):
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "quality_table.py"
    spec = importlib.util.spec_from_file_location("quality_table", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "evaluate_run", lambda *a, **k: pytest.fail("evaluated before the check"))
    with pytest.raises(SystemExit) as exited:
        script.main(["RUN", flag, str(unwritable / name)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(  # "PROG: error: …" (argparse's prog)
        f": error: {flag} {unwritable / name}: {LINE.format(folder=unwritable)}")


def test_an_export_never_writes_through_a_file_or_link_at_a_temporary_name(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / ".x.png.tmp.png").symlink_to(victim)  # the fixed name older versions wrote through
    export.save_png_strip([np.zeros((4, 4), np.uint8)], tmp_path / "x.png")
    assert victim.read_text() == "keep" and (tmp_path / "x.png").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.png.tmp.png", "victim.txt", "x.png"]


def test_exported_files_get_the_mode_open_would_give_not_a_private_one(tmp_path):
    """A temporary from mkstemp is 0600; renamed into place as it was, an exported PNG or GIF was
    unreadable to anyone else (a shared folder, a web server). Exports get 0666 less the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    frame = np.zeros((4, 4), np.uint8)
    for path in (export.save_picture(frame, tmp_path / "a.png"), export.save_gif([frame, frame], tmp_path / "a.gif"),
                 export.save_png_strip([frame], tmp_path / "b.png")):
        assert Path(path).stat().st_mode & 0o777 == 0o666 & ~mask, path
