"""Run.steps_left: what a resume offers first (the steps to the planned total of a run that
ended early; 0 once it reached it)."""

import pytest

from studio.runs import Run


@pytest.mark.parametrize("meta, left", [
    ({"step": 32, "target_step": 300, "status": "stopped"}, 268),
    ({"step": 120, "target_step": 400, "status": "diverged"}, 280),
    ({"step": 300, "target_step": 300, "status": "finished"}, 0),
    ({"step": 0, "status": "created"}, 0),  # no total recorded
    ({"step": 500, "target_step": 300, "status": "finished"}, 0),  # never negative
])
def test_steps_left(tmp_path, meta, left):
    assert Run(tmp_path, meta).steps_left == left
