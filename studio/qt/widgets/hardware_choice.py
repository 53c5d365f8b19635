"""The Train page's "Hardware" card: which device trains and in which precision. The devices
are listed once ``preload`` has imported torch ("Automatic" alone until then); the first
precision item says what Automatic means for this machine and the chosen family ("Automatic
(bf16 here)", ``set_family``)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from .. import preload
from .cards import label
from .param_form import LABEL_WIDTH


class HardwareChoice(QWidget):
    """``device`` and ``precision`` combos (their data: the spec's values); ``changed`` when
    either choice changes."""

    changed = Signal()

    def __init__(self, family: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.family = family
        self._saved_device = "auto"
        self.device = QComboBox()
        self.device.addItem("Automatic", "auto")
        self.precision = QComboBox()
        self.precision.addItem("Automatic", "auto")
        self.precision.addItem("fp32 (full precision)", "fp32")
        self.precision.addItem("bf16 (fast on recent GPUs and CPUs with AMX or AVX-512-BF16)", "bf16")
        self.precision.setToolTip("bf16 halves memory traffic. Automatic picks it where it is fast (GPUs, CPUs "
                                  "with AMX or AVX-512-BF16; emulated and slow on others) and only for the families "
                                  "whose quality was measured to hold in bf16 (README: bf16 against fp32)")
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Device", self.device), ("Precision", self.precision)):
            layout.addRow(label(text), widget)
            layout.labelForField(widget).setMinimumWidth(LABEL_WIDTH)
            widget.setMinimumWidth(80)
        self.device.currentIndexChanged.connect(self.changed)
        self.precision.currentIndexChanged.connect(self.changed)
        preload.when_loaded(self._on_core_loaded)

    def _on_core_loaded(self) -> None:
        """Torch is in: the devices found (at once without a preload)."""
        from ...engine.devices import available_devices, resolve_device

        for combo in (self.device, self.precision):
            combo.blockSignals(True)
        self.device.setItemText(0, f"Automatic ({resolve_device('auto').type})")
        for name in available_devices():
            self.device.addItem(name.upper() if name != "cpu" else "CPU", name)
        for combo in (self.device, self.precision):
            combo.blockSignals(False)
        self.set_family(self.family)

    def set_family(self, family: str) -> None:
        """Name what Automatic precision means for ``family`` here (once the devices are listed)."""
        self.family = family
        if self.device.count() > 1:  # torch has loaded and the devices are listed
            from ...engine.devices import default_precision, resolve_device

            chosen = default_precision(resolve_device("auto"), family)
            self.precision.setItemText(0, f"Automatic ({chosen} here)")

    def save_settings(self, settings: QSettings) -> None:
        if preload.loaded():  # else the devices are not listed yet: the saved one stays
            settings.setValue("train/device", self.device.currentData())
        settings.setValue("train/precision", self.precision.currentData())

    def restore_settings(self, settings: QSettings) -> None:
        self.precision.setCurrentIndex(max(0, self.precision.findData(settings.value("train/precision", "auto"))))
        self._saved_device = settings.value("train/device", "auto")
        preload.when_loaded(self._restore_device)  # the devices are listed once torch is in

    def _restore_device(self) -> None:
        self.device.setCurrentIndex(max(0, self.device.findData(self._saved_device)))
