"""The Runs page's "Resume training" row: how many more steps, and optionally a new learning rate
(empty: the run's own, shown as the placeholder), checked by the CLI's rule (``specs.check_lr``)
as it is typed. After a divergence the window's advice names this field (``window_advice``)."""

from __future__ import annotations

import re

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget

from ...errors import SpecError
from ...specs import check_lr
from .cards import label, set_style_property
from .plain_text import tip

LR_FIELD = "learning rate"  # as the row reads: "… more steps at learning rate [ ]"
EXTENSION = 1000  # the steps offered to a run that reached its planned total
STEPS_TIP = "How many more steps to train"
_CLI_ADVICE = re.compile(r"\s*\(studio resume .*?--lr (\S+)\)")


def window_advice(message: str, where: str = "") -> str:
    """The engine's divergence advice with its CLI command ("(studio resume RUN --steps N --lr X)")
    replaced by the window's way to do it: the Resume row's learning-rate field, with the
    suggested value. ``where``: where that row is, said to a user on another page."""
    return _CLI_ADVICE.sub(lambda m: f": type {m.group(1)} as the {LR_FIELD} beside Resume training{where}", message)


def parse_lr(text: str) -> float | None:
    """The learning rate typed (None when empty: the run's own); SpecError (field "lr") as the
    CLI says it when it is not a number in (0, 1]."""
    text = text.strip()
    return check_lr(text) if text else None


class ResumeRow(QWidget):
    """[Resume training] for [N] more steps · [new learning rate]; ``requested`` carries (extra
    steps, new lr or None). The button is off while the typed rate is refused (its tooltip and the
    field's say why)."""

    requested = Signal(int, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.allowed, self.why_not = False, ""
        self.button = QPushButton("Resume training")
        self.button.setProperty("primary", True)
        self.button.clicked.connect(self._on_button_clicked)
        self.extra_steps = QSpinBox(minimum=1, maximum=10_000_000, value=EXTENSION, singleStep=500)
        self.extra_steps.setGroupSeparatorShown(True)
        self.extra_steps.setToolTip(STEPS_TIP)
        self.lr = QLineEdit()
        self.lr.setClearButtonEnabled(True)
        self.lr.setMaximumWidth(150)
        self.lr.textChanged.connect(self._on_lr_text_changed)
        self.set_run_lr(None)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(label("for"))
        row.addWidget(self.extra_steps)
        row.addWidget(label("more steps at learning rate"))
        row.addWidget(self.lr)

    def set_run_lr(self, lr: float | None) -> None:
        """Show the chosen run's learning rate as what an empty field means."""
        self.lr.setPlaceholderText(f"{lr:g} (same)" if lr is not None else "same as before")
        self._lr_tip = (f"A new {LR_FIELD} from here on, e.g. a tenth of {lr:g} after a divergence; empty: "
                        f"the run's own ({lr:g})" if lr is not None else
                        f"A new {LR_FIELD} from here on; empty: the run's own")
        self._on_lr_text_changed(self.lr.text())

    def set_steps_left(self, left: int, target: int | None = None) -> None:
        """Offer the chosen run's steps ``left`` to its planned ``target`` (``Run.steps_left``)
        when it ended early; ``EXTENSION`` more once it reached it (``left`` 0)."""
        self.extra_steps.setValue(left or EXTENSION)
        self.extra_steps.setToolTip(
            f"{STEPS_TIP}: the {left:,} left of its planned {target:,}" if left and target else
            f"{STEPS_TIP}: the {left:,} left of its plan" if left else
            f"{STEPS_TIP} (it reached its planned {target:,})" if target else STEPS_TIP)

    def set_allowed(self, allowed: bool, why_not: str = "") -> None:
        """Whether the chosen run may be resumed now (the page's rule), and if not why."""
        self.allowed, self.why_not = allowed, why_not
        self._on_lr_text_changed(self.lr.text())

    def new_lr(self) -> float | None:
        """The typed learning rate, None for the run's own; SpecError if it is refused."""
        return parse_lr(self.lr.text())

    @Slot(str)
    def _on_lr_text_changed(self, text: str) -> None:
        try:
            parse_lr(text)
            problem = ""
        except SpecError as exc:
            problem = exc.worded({"lr": "The learning rate"})
        set_style_property(self.lr, "invalid", bool(problem))
        self.lr.setToolTip(tip(problem) or self._lr_tip)  # quotes what was typed
        self.lr.setEnabled(self.allowed)
        self.button.setEnabled(self.allowed and not problem)
        self.button.setToolTip(self.why_not if not self.allowed else tip(problem) or
                               "Train this run further, watching it on the Train page")

    @Slot()
    def _on_button_clicked(self) -> None:
        try:
            lr = self.new_lr()
        except SpecError:
            return
        self.requested.emit(self.extra_steps.value(), lr)
