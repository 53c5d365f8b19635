"""The typed errors every layer shares (the bottom of the import order: no imports).

- ``SpecError``: a user's setting is out of range or malformed. ``field`` names the setting
  in the spec's own spelling (``"lr"``, ``"batch_size"``, ``"options.latent_dim"``, ``"data"``),
  so the window can mark that field and the CLI can name its flag; the message is a sentence
  a user can act on.
- ``Cancelled``: a job noticed that its ``Control`` was cancelled and stopped early. It is an
  outcome, never a failure, and is told apart by type, never by matching words.
"""

from __future__ import annotations


class SpecError(ValueError):
    """A bad setting. ``field`` is the setting's name in the spec (None when it is the
    combination that is wrong); ``str(exc)`` is the sentence to show."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Cancelled(Exception):
    """The job was cancelled (a user's Stop/Cancel, a newer request, the window closing)."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)
