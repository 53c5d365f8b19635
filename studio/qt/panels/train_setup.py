"""What to train: dataset, family, preset, hyperparameters, device and precision.

The forms are generated from the family's Config; every change is validated with the
core's own checks, and the first problem becomes ``reason`` (Start stays disabled). The forms,
their checks and Start need no torch (``models.family_options``, ``data.names``): they work
while ``preload`` imports it; what still waits for it (the devices, the dataset's summary) is
``pending``, and a Start clicked meanwhile waits for that (``TrainPanel.start``).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QVBoxLayout, QWidget

from ...engine import TrainSpec
from ...errors import SpecError
from ...models import family_names, family_options
from ...train_words import batch_warning, option_errors, setup_problem
from .. import preload
from ..widgets.cards import card, label
from ..widgets.dataset_picker import DatasetPicker
from ..widgets.hardware_choice import HardwareChoice
from ..widgets.param_form import LABEL_WIDTH, FieldSpec, ParamForm, fields_of

PRESETS = ("quick", "standard", "quality")
CUSTOM = "custom"
TRAINING_FIELDS = [  # names match TrainSpec; ranges are the core's (it reports violations)
    FieldSpec("steps", 2000, 1, None, help="optimizer steps to train", label="Steps"),
    FieldSpec("batch_size", 128, 1, None, help="images per step", label="Batch size"),
    FieldSpec("lr", 1e-3, 0.0, 1.0, help="learning rate of the optimizer", label="Learning rate",
              open_minimum=True),
    FieldSpec("seed", 0, 0, None, help="random seed: same seed and settings give the same run", label="Seed"),
]
FIELD_LABELS = {f.name: f.label for f in TRAINING_FIELDS} | {"resolution": "The image size",
                                                            "checkpoint_every": "The checkpoint interval",
                                                            "preview_every": "The preview interval"}


class TrainSetup(QWidget):
    changed = Signal()  # any choice changed; ``reason`` is up to date

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.reason: str | None = None  # why Start is refused (validate)
        self.warning: str | None = None  # what Start would do that is rarely meant (validate)
        self.preview_interval: int | None = None  # steps between previews; None: the family's default
        self._saved_forms: dict[str, dict] = {}
        self.dataset = DatasetPicker()
        self.family = QComboBox()
        self.family.addItems(family_names())
        self.family.setToolTip("The kind of generative model to train")
        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, CUSTOM])
        self.preset.setCurrentText("standard")
        self.preset.setToolTip("Quick: a first look in minutes · Standard: good results · Quality: slower, better")
        self.training_form = ParamForm(TRAINING_FIELDS)
        self.model_form: ParamForm | None = None
        self._form_family = ""
        self.hardware = HardwareChoice(self.family_name)  # device and precision, listed once torch is in
        self.device, self.precision = self.hardware.device, self.hardware.precision

        choose = QFormLayout()
        choose.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Family", self.family), ("Preset", self.preset)):
            choose.addRow(label(text), widget)
            choose.labelForField(widget).setMinimumWidth(LABEL_WIDTH)
        self._model_box = QVBoxLayout()
        self._model_box.setContentsMargins(0, 0, 0, 0)
        model = QWidget()
        model_layout = QVBoxLayout(model)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_layout.addLayout(choose)
        model_layout.addWidget(self.training_form)
        model_layout.addWidget(label("MODEL OPTIONS", "section"))
        model_layout.addLayout(self._model_box)
        for combo in (self.dataset.combo, self.dataset.resolution, self.family, self.preset, self.device,
                      self.precision):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(card("Images", self.dataset))
        layout.addWidget(card("Model", model))
        layout.addWidget(card("Hardware", self.hardware))
        layout.addStretch(1)

        self.dataset.changed.connect(self._on_anything_changed)
        self.dataset.loaded.connect(self._on_anything_changed)
        self.family.currentIndexChanged.connect(self._on_family_changed)
        self.preset.currentIndexChanged.connect(self._on_preset_changed)
        self.training_form.changed.connect(self._on_form_changed)
        self.hardware.changed.connect(self._on_anything_changed)
        self._build_model_form()  # torch-free: before torch has loaded
        preload.when_loaded(self._on_core_loaded, self._on_core_failed)

    @property
    def pending(self) -> str | None:
        """What a Start waits for now, or None: PyTorch's import (``preload``), then the
        dataset's summary (which can still refuse the images: ``reason``)."""
        if not preload.loaded():
            return "Loading PyTorch…"
        return "Loading the images…" if self.dataset.loading and not preload.error() else None

    def _on_core_loaded(self) -> None:
        """Torch is in (the hardware card has listed the devices)."""
        self._on_anything_changed()  # no longer waiting for torch

    def _on_core_failed(self, message: str) -> None:
        self._on_anything_changed()  # Start refused, saying why (validate)

    # --- the family's form ----------------------------------------------------------------
    @property
    def family_name(self) -> str:
        return self.family.currentText()

    def family_class(self):
        """The family's options and defaults (torch-free; not the model class)."""
        return family_options(self.family_name)

    def _build_model_form(self, values: dict[str, Any] | None = None) -> None:
        """A fresh form for the current family, filled with ``values``, else the values last
        used with this family, else its preset."""
        if self.model_form is not None:
            if self._form_family:
                self._saved_forms[self._form_family] = self.form_values()
            self._model_box.removeWidget(self.model_form)
            self.model_form.hide()
            self.model_form.deleteLater()
        self._form_family = self.family_name
        self.model_form = ParamForm(fields_of(self.family_class().Config))
        self.model_form.changed.connect(self._on_form_changed)
        self._model_box.addWidget(self.model_form)
        values = values or self._saved_forms.get(self.family_name)
        if values:
            self._set_forms(values)
            self._match_preset()
            self.validate()
        else:
            self._apply_preset(self.preset.currentText() if self.preset.currentText() != CUSTOM else "standard")

    def preset_values(self, preset: str) -> dict[str, Any]:
        """Every form field for a preset: family defaults overlaid with the preset's changes."""
        family = self.family_class()
        values = {"steps": family.default_steps, "batch_size": family.default_batch_size,
                  "lr": family.default_lr, "seed": self.training_form.values()["seed"]}
        values.update({f.name: f.default for f in fields_of(family.Config)})
        values.update(family.presets.get(preset, {}))
        return values

    def _apply_preset(self, preset: str) -> None:
        self._set_forms(self.preset_values(preset))
        self.preset.blockSignals(True)
        self.preset.setCurrentText(preset)
        self.preset.blockSignals(False)
        self.validate()

    def _set_forms(self, values: dict[str, Any]) -> None:
        for form in (self.training_form, self.model_form):
            form.blockSignals(True)
            form.set_values({k: v for k, v in values.items() if k in form.editors})
            form.blockSignals(False)

    def form_values(self) -> dict[str, Any]:
        return {**self.training_form.values(), **self.model_form.values()}

    def _match_preset(self) -> None:
        """Show the preset the fields still equal, or "custom"."""
        values = self.form_values()
        match = next((p for p in PRESETS if self.preset_values(p) == values), CUSTOM)
        self.preset.blockSignals(True)
        self.preset.setCurrentText(match)
        self.preset.blockSignals(False)

    # --- the spec and its validation ---------------------------------------------------------
    def spec(self) -> TrainSpec:
        t = self.training_form.values()
        preset = self.preset.currentText()
        return TrainSpec(family=self.family_name, data=self.dataset.spec, steps=t["steps"], batch_size=t["batch_size"],
                         lr=t["lr"], seed=t["seed"], device=self.device.currentData(),
                         precision=self.precision.currentData(), preset=None if preset == CUSTOM else preset,
                         options=self.model_form.values(), data_options=self.dataset.data_options(),
                         preview_every=self.preview_interval)  # None: the core's cadence (studio.specs)

    def validate(self) -> str | None:
        """Mark invalid fields with their reason; return the first reason Start is blocked, or None
        (``reason``; ``warning``: what a Start would do that is rarely meant). The checks and their
        words are the core's (``studio.train_words``, ``TrainSpec.resolved``)."""
        model_errors = option_errors(self.family_class().Config, self.model_form.values())
        training_errors, spec_error, spec_field = {}, None, None
        try:
            self.spec().resolved()
        except SpecError as exc:
            spec_error, spec_field = exc.worded(FIELD_LABELS), exc.field
            if exc.field in FIELD_LABELS:
                training_errors[exc.field] = spec_error
        except ValueError as exc:
            spec_error = str(exc)
        # the forms word a number out of range with what was typed (ParamForm.worded), the
        # field's own limits too (a number past what the field holds: the core has no limit)
        training_errors = self.training_form.set_errors(self.training_form.limit_errors() | training_errors)
        model_errors = self.model_form.set_errors(self.model_form.limit_errors() | model_errors)
        spec_error = training_errors.get(spec_field, spec_error) or next(iter(training_errors.values()), None)

        info = self.dataset.summary.info if self.dataset.summary is not None else {}
        # while the summary loads (no info yet) a Start waits for it (pending)
        self.reason = (setup_problem(preload.error(), self.dataset.error, info.get("resolution"))
                       or next(iter(model_errors.values()), None) or spec_error)
        self.warning = None if self.reason else batch_warning(self.training_form.values()["batch_size"],
                                                              info.get("size"))
        return self.reason

    def mark_field(self, field: str | None, error: str) -> str:
        """A failed job's error (``SpecError`` wording: the field's spec name first) with the
        field named as this form names it; the field, if it is on the form, is marked."""
        if not field or not error.startswith(field + " "):
            return error
        message = FIELD_LABELS.get(field, field) + error[len(field):]
        if field in {f.name for f in TRAINING_FIELDS}:
            message = self.training_form.set_errors({field: message})[field]
        return message

    # --- settings ------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        self._saved_forms[self.family_name] = self.form_values()
        settings.setValue("train/family", self.family_name)
        settings.setValue("train/preset", self.preset.currentText())
        settings.setValue("train/forms", json.dumps(self._saved_forms))
        settings.setValue("train/dataset", self.dataset.spec)
        settings.setValue("train/data_options", json.dumps(self.dataset.data_options()))
        settings.setValue("train/recent_folders", json.dumps(self.dataset.recent_folders))
        self.hardware.save_settings(settings)

    def restore_settings(self, settings: QSettings) -> None:
        def load(key: str, default):
            try:
                return json.loads(settings.value(key, "") or "null") or default
            except (ValueError, TypeError):
                return default

        self._saved_forms, self._form_family = load("train/forms", {}), ""  # drop the start-up form
        self.dataset.recent_folders = load("train/recent_folders", [])
        self.hardware.restore_settings(settings)
        family = settings.value("train/family", "vae")
        self.preset.blockSignals(True)
        self.preset.setCurrentText(settings.value("train/preset", "standard"))
        self.preset.blockSignals(False)
        self._select_family(family)
        self.dataset.set_choice(settings.value("train/dataset", "fashion-mnist-5k"), load("train/data_options", {}))

    def show_spec(self, spec: dict) -> None:
        """Fill the fields from a run's stored spec (when resuming it)."""
        values = {**spec.get("options", {}), "steps": spec.get("steps"), "batch_size": spec.get("batch_size"),
                  "lr": spec.get("lr"), "seed": spec.get("seed", 0)}
        self._select_family(spec["family"], {k: v for k, v in values.items() if v is not None})
        self.dataset.set_choice(spec.get("data", ""), spec.get("data_options", {}))

    def _select_family(self, family: str, values: dict[str, Any] | None = None) -> None:
        if self.family.findText(family) >= 0:
            self.family.blockSignals(True)
            self.family.setCurrentText(family)
            self.family.blockSignals(False)
        self._build_model_form(values)

    # --- reactions --------------------------------------------------------------------------------
    @Slot()
    def _on_family_changed(self) -> None:
        self._build_model_form()
        self.hardware.set_family(self.family_name)
        self._on_anything_changed()

    @Slot()
    def _on_preset_changed(self) -> None:
        if self.preset.currentText() != CUSTOM:
            self._apply_preset(self.preset.currentText())
            self._on_anything_changed()

    @Slot()
    def _on_form_changed(self) -> None:
        self._match_preset()
        self._on_anything_changed()

    @Slot()
    def _on_anything_changed(self) -> None:
        self.validate()
        self.changed.emit()
