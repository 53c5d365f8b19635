"""The Train page's "Export run config…": the run on the form saved as the JSON file that
``studio train --config FILE`` trains exactly (``studio.specs.write_config``), on a GPU box or a
cluster (``torchrun --nproc_per_node N -m studio train --config FILE``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QToolButton, QWidget

from ...specs import TrainSpec, config_of, run_name, write_config
from .save_dialog import ask_save_path


class ExportConfigButton(QToolButton):
    saved = Signal(str)  # a line for the status bar: where it went, or why not

    def __init__(self, spec: Callable[[], TrainSpec], parent: QWidget | None = None):
        super().__init__(parent, text="Export run config…")
        self.setToolTip("Save this run's settings as a JSON file; 'studio train --config FILE' trains exactly "
                        "this run elsewhere (on a GPU, or in several processes with torchrun)")
        self._spec = spec
        self.clicked.connect(self._on_clicked)

    @Slot()
    def _on_clicked(self) -> None:
        try:
            spec = self._spec()
            config_of(spec)  # a setting the run would refuse is said now, not on the other machine
        except ValueError as exc:
            self.saved.emit(f"The run config was not saved: {exc}")
            return
        path = ask_save_path(self.window(), "Export run config", f"{run_name(spec.family, spec.data)}.json",
                             "Run config (*.json)")
        if not path:
            return
        try:
            write_config(spec, path)
        except OSError as exc:
            self.saved.emit(f"Could not save {path}: {exc.strerror or exc}")
            return
        self.saved.emit(f"Saved the run config to {path}; train it with: studio train --config {Path(path).name}")


def add_export_button(setup: QWidget, status: Signal) -> ExportConfigButton:
    """An export button at the foot of the Train page's setup column (``setup.spec()`` is the
    run), its messages going to ``status``."""
    button = ExportConfigButton(setup.spec, setup)
    setup.layout().addWidget(button, 0, Qt.AlignRight)
    button.saved.connect(status)
    return button
