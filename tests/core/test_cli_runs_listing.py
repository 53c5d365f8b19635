"""`studio runs`: one very long run name does not widen every row; --json keeps whole names."""

import json

from studio.cli import main
from studio.cli_info import elide_middle
from studio.runs import Run

LONG = "averyveryverylongrunfoldername_" * 4 + "vae-20261130"  # 136 characters, as the tester typed


def _runs(root):
    for name in (LONG, "vae-fashion-mnist-5k-20261130-125615"):
        Run.create(root / name, {"family": "vae", "data": "fashion-mnist-5k", "status": "finished", "image_shape": [1, 28, 28]}).close()


def test_long_name_is_elided_in_the_middle_and_the_table_stays_narrow(tmp_path, capsys):
    _runs(tmp_path)
    assert main(["runs", "--root", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 120  # was 150 + the other columns
    long_row = next(line for line in lines if line.startswith("averyvery"))
    name = long_row.split()[0]
    assert "…" in name and name.endswith("vae-20261130") and len(name) == 40
    assert any(line.split()[0] == "vae-fashion-mnist-5k-20261130-125615" for line in lines)  # short names whole


def test_json_keeps_the_whole_names(tmp_path, capsys):
    _runs(tmp_path)
    assert main(["runs", "--root", str(tmp_path), "--json"]) == 0
    names = {row["name"] for row in json.loads(capsys.readouterr().out)}
    assert LONG in names


def test_elide_middle():
    assert elide_middle("short") == "short"
    assert elide_middle("abcdefghij", 5) == "ab…ij"
    assert len(elide_middle("x" * 100)) == 40
