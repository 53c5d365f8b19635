"""The typed errors every layer shares (the bottom of the import order: no imports).

- ``SpecError``: a user's setting is out of range or malformed. ``field`` names the setting
  in the spec's own spelling (``"lr"``, ``"batch_size"``, ``"options.latent_dim"``, ``"data"``),
  so the window can mark that field and the CLI can name its flag; the message is a sentence
  a user can act on.
- ``UsageError``: bad command-line input; the CLI prints it as one line and exits 2.
- ``Cancelled``: a job noticed that its ``Control`` was cancelled and stopped early. It is an
  outcome, never a failure, and is told apart by type, never by matching words.
"""

from __future__ import annotations

import re


class SpecError(ValueError):
    """A bad setting. ``field`` is the setting's name in the spec (None when it is the
    combination that is wrong) and ``problem`` what is wrong with it, worded to follow the
    field's name in any face: the CLI says ``--batch-size must be at least 1 (got 0)``, the
    window ``Batch size must be at least 1 (got 0)`` beside the marked field; ``str(exc)``
    uses the spec's own name (``batch_size must be at least 1 (got 0)``)."""

    def __init__(self, problem: str, field: str | None = None):
        super().__init__(f"{field} {problem}" if field else problem)
        self.field, self.problem = field, problem

    def worded(self, name_of: "dict[str, str] | None" = None) -> str:
        """The sentence with the field named as a face names it (``name_of[field]``)."""
        if not self.field:
            return self.problem
        name = (name_of or {}).get(self.field, self.field)
        return f"{name} {self.problem}"


class UsageError(Exception):
    """Bad command-line input (``studio.cli``, ``studio.cli_edit``): printed as one line on
    stderr, exit code 2, nothing written."""


def bad_input(exc: Exception) -> UsageError:
    """``exc`` (a refused value) as the CLI's one line: a SpecError's field named by its flag
    (``lr`` -> ``--lr``)."""
    if isinstance(exc, SpecError) and exc.field:
        return UsageError(f"error: {exc.worded({exc.field: '--' + exc.field.replace('_', '-')})}")
    return UsageError(f"error: {exc}")


class Cancelled(Exception):
    """The job was cancelled (a user's Stop/Cancel, a newer request, the window closing)."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)


def sentence(line: str) -> str:
    """``line`` (a clause or status line: "training vae…", "can't write to X …") as a window's
    sentence: the first letter capitalised when it starts with a plain word of ours (lowercase
    letters, hyphens). A line starting with a name (a file "alpha.png", a path, a run "my_run3")
    keeps its case: on Linux another case names another file."""
    return line[:1].upper() + line[1:] if re.match(r"[a-z][a-z'-]*(?![\w./\\])", line) else line
