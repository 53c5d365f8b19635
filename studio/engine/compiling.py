"""Which families ``torch.compile`` (``studio train --compile``) can train.

Compiling is opt-in: measured on the CPU it made a training step at best ~10% faster and DCGAN's
11-18% slower, after up to minutes of compiling (README, "Bigger pictures on a GPU"; ``studio
bench speedups --compile``). A family that cannot
be compiled at all is refused before anything is written, with the reason and the fix.
"""

from __future__ import annotations

# family -> why torch.compile cannot train it (tried with torch 2.14 on the CPU)
COMPILE_REFUSED = {
    "wgan-gp": "its gradient penalty takes a double backward (autograd.grad with create_graph=True), which "
               "torch.compile does not support (\"torch.compile with aot_autograd does not currently support "
               "double backward\")",
}


def compile_refusal(family: str) -> str | None:
    """One line saying why ``--compile`` cannot train ``family`` and what to do, or None if it can."""
    reason = COMPILE_REFUSED.get(family)
    return f"--compile cannot train {family}: {reason}; train it without --compile" if reason else None


def compile_networks(model, device) -> str:
    """``model.compile_networks()`` where torch.compile can work here; one line saying what was
    done: TorchInductor needs a C++ compiler on the CPU, which a frozen app bundle does not have."""
    import shutil
    import sys

    if getattr(sys, "frozen", False):
        return "--compile: not available in the app bundle (no compiler); training uncompiled"
    if device.type == "cpu" and not any(shutil.which(c) for c in ("cc", "gcc", "clang", "cl")):
        return "--compile: no C++ compiler found (TorchInductor needs one on the CPU); training uncompiled"
    names = model.compile_networks()
    return f"compiling {', '.join(names)} with torch.compile (the first steps take longer)"
