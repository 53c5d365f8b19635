"""Text output of ``studio eval``: a progress bar per stage and the result table."""

from __future__ import annotations

from typing import Any

STAGE_UNITS = {"sampling": "img", "features": "img", "likelihood": "img"}


class StageBars:
    """A tqdm bar per evaluation stage (sampling, features, likelihood), on stderr."""

    def __init__(self, enabled: bool = True):
        self.enabled, self.bar, self.stage = enabled, None, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit=STAGE_UNITS.get(stage, "it"), dynamic_ncols=True, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _quality_row(label: str, q: dict[str, Any]) -> list[str]:
    return [label, str(q["n"]), f"{q['fcd']:.3f}", f"{q['kid'] * 1e3:.2f} ± {q['kid_std'] * 1e3:.2f}",
            f"{q['coverage']}/{q['num_classes']}", f"{q['class_entropy_bits']:.2f}"]


def format_evaluation(result: dict[str, Any]) -> str:
    lines = [f"{result['family']} on {result['data']}, step {result['step']} ({result['run']})"]
    if "samples" in result:
        rows = [["", "images", "FCD", "KID ×10³", "coverage", "entropy (bits)"],
                _quality_row("samples", result["samples"]),
                _quality_row("real test split (floor)", result["floor"])]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                  for r in rows]
        hist = result["samples"]["histogram"]
        lines.append(f"class histogram of the samples: {' '.join(map(str, hist))}")
    if "note" in result:
        lines.append(result["note"])
    if "likelihood" in result:
        given = " given the class" if result.get("likelihood_given_class") else ""
        lines.append(f"held-out likelihood{given} (test split, lower is better):")
        for key, value in result["likelihood"].items():
            lines.append(f"  {key:<22} {value:.4f}")
    lines.append(f"({result['seconds']:.1f} s on {result['device']})")
    return "\n".join(lines)
