"""The Diffusion viewer's top card: the model picker, the sampling settings (sampler, steps, η,
seed, images, class, guidance scale), Run / Cancel, a progress bar and one message line."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QProgressBar, QPushButton, QSizePolicy,
                               QSpinBox, QVBoxLayout, QWidget)

from ...engine.sampling import SamplingSpec, option_ranges
from ...specs import as_typed
from .cards import ElidedLabel, label, set_role
from .run_picker import RunPicker

def fill_samplers(combo: QComboBox, names, current: str | None = None) -> None:
    """Put a model's samplers (by their labels) into ``combo`` without emitting changes."""
    from ...schedulers import SCHEDULERS

    combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # as wide as the longest label: never cut off
    combo.blockSignals(True)
    combo.clear()
    for name in names:
        combo.addItem(getattr(SCHEDULERS.get(name), "label", "") or name, name)
    combo.blockSignals(False)
    if current is not None:
        combo.setCurrentIndex(max(0, combo.findData(current)))


def has_eta(sampler: str | None) -> bool:
    from ...schedulers import SCHEDULERS

    return bool(getattr(SCHEDULERS.get(sampler), "has_eta", False))


class LimitedSpinBox(QSpinBox):
    """A whole-number box that says so when a number outside its limits was typed, instead of
    Qt silently putting the last value back (Steps 0 became 50): ``refused`` carries one line
    naming the field, its limits, what was typed (``specs.as_typed``) and the value kept."""

    refused = Signal(str)

    def __init__(self, name: str, **kwargs):
        super().__init__(**kwargs)
        self.name = name

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt calls it for a text it will not accept)
        typed = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        what = as_typed(typed, None) if typed else "the box was left empty"
        self.refused.emit(f"{self.name} must be from {self.minimum():,} to {self.maximum():,} ({what}): "
                          f"kept {self.value():,}.")
        return text


class SamplingSettings(QWidget):
    """Owns the controls; the page reads ``spec()`` and calls ``set_model`` / ``set_busy``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = RunPicker(lambda caps: caps.denoise_step)
        self.model_info = ElidedLabel("", "muted")  # a long description elides, never widens the window
        self.model_info.setSizePolicy(QSizePolicy.Minimum, QSizePolicy.Preferred)  # its text whole (set_model)
        self.sampler = QComboBox()
        self.steps = LimitedSpinBox("Steps", minimum=1, maximum=1000, value=50)
        self.eta = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, value=0.0, decimals=2)
        self.eta.setToolTip("η: 0 deterministic DDIM, 1 as much noise as DDPM")
        self.seed = LimitedSpinBox("Seed", minimum=0, maximum=2 ** 31 - 1, value=0)
        self.batch = LimitedSpinBox("Images", minimum=1, maximum=16, value=16)
        self.batch.setToolTip("Images sampled together (1–16)")
        self.label_combo = QComboBox()
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5, value=2.0, decimals=1)
        self.guidance.setToolTip("Classifier-free guidance scale s: 0 unconditional, 1 conditional, >1 stronger")
        self.run_button = QPushButton("▶  Run")
        self.run_button.setProperty("primary", True)
        self.run_button.setToolTip("Sample with these settings, step by step (Ctrl+Enter)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop sampling; the steps so far stay viewable (Esc)")
        self.progress = QProgressBar(textVisible=False)
        self.progress.setFixedWidth(160)
        self.progress.setFixedHeight(10)
        self.message = ElidedLabel("Choose a trained diffusion model.", "muted")  # a long path elides
        self._class_widgets = []
        settings = QHBoxLayout()
        settings.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(label("Model", "muted"))
        top.addWidget(self.picker, 2)
        top.addWidget(self.model_info)
        for row, pairs in ((settings, (("Sampler", self.sampler), ("Steps", self.steps), ("η", self.eta),
                                       ("Seed", self.seed), ("Images", self.batch))),
                           (top, (("Class", self.label_combo), ("Guidance", self.guidance)))):
            for text, widget in pairs:
                caption = label(text, "muted")
                row.addWidget(caption)
                row.addWidget(widget)
                if row is top:  # beside the model (a class-conditional one): the settings row stays short
                    self._class_widgets += [caption, widget]
                    caption.hide()
                    widget.hide()
        self.label_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # "One of each class" whole
        settings.addStretch(1)
        settings.addWidget(self.run_button)
        settings.addWidget(self.cancel_button)
        status = QHBoxLayout()  # the bar beside the message: the model's name gets the top row's room
        status.addWidget(self.message, 1)
        status.addWidget(self.progress)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(settings)
        layout.addLayout(status)
        self.sampler.currentIndexChanged.connect(lambda _: self.eta.setEnabled(self._eta_allowed()))
        self._ready = self._busy = False
        self._class_owner = ""  # why the Class and Guidance boxes are off ("": they apply)
        self._class_tips = (self.label_combo.toolTip(), self.guidance.toolTip())
        for box in (self.steps, self.seed, self.batch):
            box.refused.connect(lambda text: self.say(text, "error"))

    def spec(self) -> SamplingSpec:
        label_value = self.label_combo.currentData() if self.label_combo.count() else None
        return SamplingSpec(sampler=self.sampler.currentData() or "ddim", steps=self.steps.value(),
                            eta=self.eta.value(), seed=self.seed.value(), batch=self.batch.value(),
                            label=label_value, guidance=self.guidance.value())

    def set_model(self, model, meta: dict) -> None:
        cfg, T = model.config, model.num_train_timesteps
        # the picker names the run, family, data and step: the line adds the noise schedule only
        self.model_info.setText(f"T = {T} · {cfg.schedule} β")  # short: whole, the model's name takes the rest
        self.model_info.setMinimumWidth(self.model_info.fontMetrics().horizontalAdvance(self.model_info.text()) + 8)
        self.model_info.setToolTip(f"{model.family} on {meta.get('data', '?')}, trained {meta.get('step', 0):,} "
                                   f"steps; {T} noise levels on a {cfg.schedule} β schedule")
        fill_samplers(self.sampler, model.capabilities.samplers, cfg.sampler)
        ranges = option_ranges(model)  # the core's one rule: the boxes offer only what it accepts
        self.steps.setRange(*(int(v) for v in ranges.get("steps", (2, T))))
        self.steps.setValue(min(cfg.sample_steps, T))
        for option, spin in (("eta", self.eta), ("guidance", self.guidance)):
            if option in ranges:
                spin.setRange(*ranges[option])
        self.eta.setValue(cfg.eta)
        self.progress.setValue(0)  # the last model's run is gone with it
        self.label_combo.clear()
        conditional = bool(getattr(model.capabilities, "class_conditional", False))
        if conditional:
            names = meta.get("label_names") or [str(i) for i in range(model.num_classes)]
            self.label_combo.addItem("One of each class", -1)
            for i, name in enumerate(names[:model.num_classes]):
                self.label_combo.addItem(name, i)
            self.label_combo.addItem("Unconditional", None)
            self.guidance.setValue(getattr(cfg, "guidance_scale", 2.0))  # the model's own default
        for widget in self._class_widgets:
            widget.setVisible(conditional)

    def set_busy(self, ready: bool, busy: bool) -> None:
        self._ready, self._busy = ready, busy
        self.run_button.setEnabled(ready and not busy)
        self.cancel_button.setEnabled(busy)
        for widget in (self.sampler, self.steps, self.seed, self.batch, self.label_combo, self.guidance):
            widget.setEnabled(ready and not busy and not (self._class_owner and widget in self._class_widgets))
        self.eta.setEnabled(self._eta_allowed())

    def lend_class(self, owner: str) -> None:
        """``owner`` (one line: who sets the class and guidance now, e.g. the Edit page's class swap)
        turns the Class and Guidance boxes off, saying so in their tooltips; "" gives them back."""
        self._class_owner = owner
        for widget, tip in zip((self.label_combo, self.guidance), self._class_tips):
            widget.setToolTip(owner or tip)
        self.set_busy(self._ready, self._busy)

    def finished(self, state, outcome) -> None:
        """Say how the job that just ended went: ``state`` the viewer's ``ViewerState`` (ended),
        ``outcome`` the job's ``engine.jobs.Outcome``. A job whose results were dropped meanwhile
        (``state.stale``: another model or picture) says nothing, the line on show says what
        happened instead, and its bar empties."""
        if state.stale:
            self.progress.setValue(0)
        elif outcome.status == "failed":
            self.say(outcome.error, "error")
        else:
            word = "Cancelled" if outcome.status == "cancelled" else "Done"
            traj = state.trajectory
            extra = f" in {traj.seconds:.1f} s" if state.mode in ("run", "edit") and word == "Done" and traj else ""
            branch = ", branch from any step" if state.can_branch else ""
            self.say(f"{word}{extra}. Scrub the timeline (← →), play it (Space){branch}, or export.")

    def _eta_allowed(self) -> bool:
        return has_eta(self.sampler.currentData()) and self._ready and not self._busy

    def say(self, text: str, role: str = "muted") -> None:
        self.message.setText(text)
        set_role(self.message, role)


def fill_images(combo: QComboBox, batch: int) -> None:
    """"All images", then each of ``batch`` images; keeps the current choice if it still exists."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem("All images", None)
    for i in range(batch):
        combo.addItem(f"Image {i + 1}", i)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
