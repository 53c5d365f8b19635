"""A form generated from field descriptions: a family's Config dataclass (its ``param``
metadata gives ranges, choices and help) or any list of ``FieldSpec``.

Editors accept out-of-range numbers on purpose: the core's validation says what is wrong,
and the form shows that reason under the field instead of silently clamping.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QSpinBox, QWidget)

from .cards import set_style_property

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

    @property
    def kind(self) -> type:
        return type(self.default)

    @property
    def tooltip(self) -> str:
        limits = ""
        if self.minimum is not None and self.maximum is not None:
            limits = f"{self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            limits = f"at least {self.minimum:g}"
        text = self.help[:1].upper() + self.help[1:] if self.help else self.name
        return f"{text}" + (f" ({limits}; default {self.default})" if limits else f" (default {self.default})")


def fields_of(config_cls: type) -> list[FieldSpec]:
    """FieldSpecs of a Config dataclass, from the metadata that ``models.param`` attaches."""
    return [FieldSpec(f.name, f.default, f.metadata.get("min"), f.metadata.get("max"), f.metadata.get("choices"),
                      f.metadata.get("help", "")) for f in dataclasses.fields(config_cls)]


class FloatBox(QDoubleSpinBox):
    """A float field that shows 0.002 / 1e-05 as written and accepts any number typed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(-1e12, 1e12)
        self.setStepType(QAbstractSpinBox.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            float(text)
            return QValidator.Acceptable, text, pos
        except ValueError:
            return QValidator.Intermediate, text, pos


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
            label = QLabel(spec.label or spec.name.replace("_", " ").capitalize())
            label.setMinimumWidth(LABEL_WIDTH)
            label.setToolTip(spec.tooltip)
            error = QLabel(wordWrap=True)
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
            editor = QSpinBox()
            editor.setRange(-INT_LIMIT, INT_LIMIT)
            editor.setGroupSeparatorShown(True)
            editor.valueChanged.connect(self._on_editor_changed)
        elif spec.kind is float:
            editor = FloatBox()
            editor.valueChanged.connect(self._on_editor_changed)
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

    def set_errors(self, errors: dict[str, str]) -> None:
        """Mark the named fields invalid and show each reason under its field."""
        for name, editor in self.editors.items():
            message = errors.get(name)
            set_style_property(editor, "invalid", bool(message))
            self.errors[name].setText(message or "")
            self.errors[name].setVisible(bool(message))

    @Slot()
    def _on_editor_changed(self) -> None:
        self.changed.emit()
