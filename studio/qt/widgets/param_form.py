"""A form generated from field descriptions: a family's Config dataclass (its ``param``
metadata gives ranges, choices and help) or any list of ``FieldSpec``.

Editors accept out-of-range numbers on purpose: the core's validation says what is wrong,
and the form shows that reason under the field instead of silently clamping.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QSpinBox, QWidget)

from ...errors import sentence
from ...specs import as_typed
from .cards import set_style_property
from .plain_text import plain

INT_LIMIT = 2**31 - 1
LABEL_WIDTH = 140  # all forms on a page line up


@dataclass(frozen=True)
class FieldSpec:
    name: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    help: str = ""
    label: str = ""
    open_minimum: bool = False  # the minimum itself is not allowed (a learning rate: above 0)

    @property
    def kind(self) -> type:
        return type(self.default)

    @property
    def title(self) -> str:
        """The field's name as its row shows it."""
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def numeric(self) -> bool:
        return self.choices is None and self.kind in (int, float)

    @property
    def limits(self) -> str:
        """The allowed values in words ("from 1 to 64", "above 0 and at most 1"; "" when any)."""
        lo, hi = self.minimum, self.maximum
        low = None if lo is None else f"above {lo:g}" if self.open_minimum else f"at least {lo:g}"
        if lo is not None and hi is not None:
            return f"above {lo:g} and at most {hi:g}" if self.open_minimum else f"from {lo:g} to {hi:g}"
        return low or (f"at most {hi:g}" if hi is not None else "")

    def allows(self, value: float) -> bool:
        """``value`` is a finite number within the limits."""
        lo, hi = self.minimum, self.maximum
        return math.isfinite(value) and (lo is None or value > lo or value == lo and not self.open_minimum) \
            and (hi is None or value <= hi) and (self.kind is not int or abs(value) <= INT_LIMIT)

    @property
    def tooltip(self) -> str:
        text = sentence(self.help) if self.help else self.name
        limits = self.limits
        return f"{text}" + (f" ({limits}; default {self.default})" if limits else f" (default {self.default})")


def fields_of(config_cls: type) -> list[FieldSpec]:
    """FieldSpecs of a Config dataclass, from the metadata that ``models.param`` attaches."""
    return [FieldSpec(f.name, f.default, f.metadata.get("min"), f.metadata.get("max"), f.metadata.get("choices"),
                      f.metadata.get("help", "")) for f in dataclasses.fields(config_cls)]


class FloatBox(QDoubleSpinBox):
    """A float field that shows 0.002 / 1e-05 as written and accepts any number typed. What was
    typed stays shown while it is the value (1e-400, which reads as 0, is not redrawn as "0"),
    and values are not rounded to a few decimals (QDoubleSpinBox's default turned 5e-13 into 0)."""

    retyped = Signal()  # another number that the box cannot hold was typed (valueChanged does not say)

    def __init__(self, parent: QWidget | None = None):
        self.typed = ""  # the text last typed (its value is kept only while it is the value)
        super().__init__(parent)
        self.setDecimals(323)  # Qt's most: no value a float holds is rounded
        self.setRange(-1e12, 1e12)
        self.setStepType(QAbstractSpinBox.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        if self.typed and (_number(self.typed) == value or self.not_finite):
            return self.typed  # "nan", "inf", "1e999" stay as typed (Qt holds them as its range's end)
        return f"{value:.6g}"

    @property
    def not_finite(self) -> bool:
        """The typed text is nan, ±inf or too large a number (1e999): no value the box can hold."""
        number = _number(self.typed) if self.typed else None
        return number is not None and not math.isfinite(number)

    def value(self) -> float:
        """The number typed, NaN and ±inf included (so the form's check refuses them by name),
        else the box's value."""
        return _number(self.typed) if self.not_finite else super().value()

    def setValue(self, value: float) -> None:  # noqa: N802 (a value set by the program, not typed)
        self.typed = ""
        super().setValue(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802
        value = _number(text)
        if value is None:
            return self.value()
        was, self.typed = (self.value(), self.not_finite), text.strip()
        if self.not_finite and was != (self.value(), True):  # nan -> inf: the same end of Qt's range,
            self.retyped.emit()  # so no valueChanged; the form checks it again
        return value

    def validate(self, text: str, pos: int):
        return (QValidator.Intermediate if _number(text) is None else QValidator.Acceptable), text, pos


class IntBox(QSpinBox):
    """An integer field that keeps a number too large for it (99999999999) as typed, so the form
    refuses it with the limit: Qt's own spin box dropped the digits past its range without a
    word (99999999999 became 999,999,999)."""

    retyped = Signal()  # a number past the limit was typed or replaced (valueChanged does not say)

    def __init__(self, parent: QWidget | None = None):
        self.typed = ""  # the text last typed while it is past the limit
        super().__init__(parent)
        self.setRange(-INT_LIMIT, INT_LIMIT)
        self.setGroupSeparatorShown(True)

    def _integer(self, text: str) -> int | None:
        try:
            return int(text.replace(self.locale().groupSeparator(), "").strip())
        except ValueError:
            return None

    @property
    def too_large(self) -> bool:
        number = self._integer(self.typed) if self.typed else None
        return number is not None and abs(number) > INT_LIMIT

    def validate(self, text: str, pos: int):
        number = self._integer(text)
        if number is not None and abs(number) > INT_LIMIT:
            return QValidator.Acceptable, text, pos
        return super().validate(text, pos)

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt API)
        was, number = self.typed, self._integer(text)
        self.typed = text.strip() if number is not None and abs(number) > INT_LIMIT else ""
        if self.typed != was:
            self.retyped.emit()
        if self.typed:
            return INT_LIMIT if number > 0 else -INT_LIMIT
        return super().valueFromText(text)

    def textFromValue(self, value: int) -> str:  # noqa: N802
        return self.typed if self.too_large else super().textFromValue(value)

    def value(self) -> int:
        """The number typed, past the limit included (so the form refuses it by name)."""
        return self._integer(self.typed) if self.too_large else super().value()

    def setValue(self, value: int) -> None:  # noqa: N802 (a value set by the program, not typed)
        self.typed = ""
        super().setValue(value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class ParamForm(QWidget):
    changed = Signal()

    def __init__(self, specs: list[FieldSpec], parent: QWidget | None = None):
        super().__init__(parent)
        self.specs = {s.name: s for s in specs}
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setLabelAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        layout.setVerticalSpacing(6)
        for spec in specs:
            editor = self._make_editor(spec)
            editor.setToolTip(spec.tooltip)
            editor.setObjectName(spec.name)
            editor.setMinimumWidth(80)  # a wide range must not widen the form
            label = plain(QLabel(spec.title))
            label.setMinimumWidth(LABEL_WIDTH)
            label.setToolTip(spec.tooltip)
            error = plain(QLabel(wordWrap=True))  # may quote what was typed
            error.setProperty("role", "error")
            error.hide()
            layout.addRow(label, editor)
            layout.addRow(error)
            self.editors[spec.name], self.errors[spec.name] = editor, error
        self.set_values({s.name: s.default for s in specs})

    def _make_editor(self, spec: FieldSpec) -> QWidget:
        if spec.choices is not None:
            editor = QComboBox()
            editor.addItems([str(c) for c in spec.choices])
            editor.currentIndexChanged.connect(self._on_editor_changed)
        elif spec.kind is bool:
            editor = QCheckBox()
            editor.toggled.connect(self._on_editor_changed)
        elif spec.kind is int:
            editor = IntBox()
            editor.valueChanged.connect(self._on_editor_changed)
            editor.retyped.connect(self._on_editor_changed)
        elif spec.kind is float:
            editor = FloatBox()
            editor.valueChanged.connect(self._on_editor_changed)
            editor.retyped.connect(self._on_editor_changed)
        else:
            editor = QLineEdit()
            editor.textChanged.connect(self._on_editor_changed)
        return editor

    def values(self) -> dict[str, Any]:
        out = {}
        for name, editor in self.editors.items():
            spec = self.specs[name]
            if isinstance(editor, QComboBox):
                out[name] = spec.choices[editor.currentIndex()]
            elif isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                out[name] = editor.value()
            else:
                out[name] = editor.text()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Set fields without emitting ``changed`` per field; one ``changed`` at the end."""
        for name, value in values.items():
            editor = self.editors.get(name)
            if editor is None:
                continue
            editor.blockSignals(True)
            if isinstance(editor, QComboBox):
                choices = [str(c) for c in self.specs[name].choices]
                editor.setCurrentIndex(choices.index(str(value)) if str(value) in choices else 0)
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            else:
                editor.setText(str(value))
            editor.blockSignals(False)
        self.changed.emit()

    def typed(self, name: str) -> str:
        """What the field shows: for a number, as the user typed it."""
        editor = self.editors[name]
        if isinstance(editor, FloatBox) and editor.typed and (editor.not_finite or
                                                              _number(editor.typed) == editor.value()):
            return editor.typed
        return editor.text() if isinstance(editor, (QLineEdit, QAbstractSpinBox)) else str(self.values()[name])

    def worded(self, name: str, message: str) -> str:
        """The one rule for a numeric field's error: a value outside the field's limits is
        reported with what the user typed and the limits ("Learning rate must be above 0 and
        at most 1 (you typed 1e-400, which reads as 0)"), never only the number it was read as
        (the core's "got 0.0"); other reasons are shown as the core words them."""
        spec = self.specs[name]
        value = self.values()[name]
        if not spec.numeric or spec.allows(value):
            return message
        typed = as_typed(self.typed(name), value)
        if spec.kind is int and abs(value) > INT_LIMIT:  # past what a field (and Qt) holds
            return f"{spec.title} must be at most {INT_LIMIT:,} ({typed})"
        if isinstance(value, float) and math.isnan(value):
            typed += ", which is not a number"
        elif isinstance(value, float) and math.isinf(value):
            typed += ", which reads as infinity"
        return f"{spec.title} must be {spec.limits or 'a finite number'} ({typed})"

    def limit_errors(self) -> dict[str, str]:
        """The numeric fields whose value is outside their limits (worded by ``set_errors``): the
        core's checks do not know a field's limits (an int past ``INT_LIMIT``, say)."""
        values = self.values()
        return {name: "out of range" for name, spec in self.specs.items()
                if spec.numeric and not spec.allows(values[name])}

    def set_errors(self, errors: dict[str, str]) -> dict[str, str]:
        """Mark the named fields invalid and show each reason under its field (a numeric
        field's as ``worded`` says); returns the messages shown, by field."""
        shown = {name: self.worded(name, message) for name, message in errors.items()
                 if message and name in self.editors}
        for name, editor in self.editors.items():
            message = shown.get(name)
            set_style_property(editor, "invalid", bool(message))
            self.errors[name].setText(message or "")
            self.errors[name].setVisible(bool(message))
        return shown

    @Slot()
    def _on_editor_changed(self) -> None:
        self.changed.emit()
