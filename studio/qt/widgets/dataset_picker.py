"""Choose the training images: bundled, procedural, a local torchvision copy, or any folder.

The chosen dataset is loaded in the background (a ``Latest`` runner channel) and summarised: a
thumbnail grid, size, resolution, labels and, for folders, the files that were skipped. The menu
is torch-free (``data.names``) and filled at once; the summary needs torch, so it is loaded once
``preload`` has imported it (``loading`` until then).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QToolButton,
                               QVBoxLayout, QWidget)

from ...data.names import BUNDLED, FOLDER_PREFIX, PROCEDURAL, STANDARD, default_data_root, describe_dataset
from ...errors import sentence
from .. import preload
from ..runner import Latest
from .cards import set_role
from .image_view import ImageView
from .plain_text import escape, plain, tip
from .save_dialog import ask_folder

RESOLUTIONS = (None, 28, 32, 64, 128)  # None: the data's own size (folders: 32)
THUMBNAILS = 32
SPEC_ROLE = Qt.UserRole + 1


@dataclass
class DatasetSummary:
    spec: str
    info: dict
    skipped: list[tuple[str, str]]
    grid: np.ndarray


def summarize_dataset(spec: str, options: dict, progress=None) -> DatasetSummary:
    """Load a dataset and tile an even sample of it (runs off the UI thread)."""
    import torch

    from ...data import load_dataset, to_unit_range
    from ...imaging import make_grid

    ds = load_dataset(spec, progress=progress, **options)
    pick = torch.linspace(0, len(ds) - 1, min(THUMBNAILS, len(ds))).long()
    return DatasetSummary(spec, ds.info(), list(ds.skipped), make_grid(to_unit_range(ds.images[pick]), ncol=8))


def dataset_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(name, description)]) for the menu, in the order users need them."""
    groups = [("Bundled", BUNDLED), ("Procedural", PROCEDURAL), ("Local copy (torchvision layout)", STANDARD)]
    return [(title, [(n, describe_dataset(n)) for n in names]) for title, names in groups]


def is_local_copy(spec: str) -> bool:
    return spec in STANDARD


class DatasetPicker(QWidget):
    changed = Signal()  # a new choice; its summary is loading
    loaded = Signal()  # the summary (or the error) of the current choice is in

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary: DatasetSummary | None = None
        self.error: str | None = None
        self.recent_folders: list[str] = []
        self._task = Latest(self, "dataset-summary")
        self._task.succeeded.connect(self._on_task_succeeded)
        self._task.failed.connect(self._on_task_failed)
        self._task.progressed.connect(self._on_task_progressed)

        self.combo = QComboBox()
        self.combo.setModel(QStandardItemModel(self.combo))
        self.combo.setMaxVisibleItems(20)
        self.resolution = QComboBox()
        self.resolution.addItems(["Native size", "28 px", "32 px", "64 px", "128 px"])
        self.resolution.setToolTip("Resize every image to this square size (folders default to 32 px)")
        self.root = QLineEdit()
        self.root.setPlaceholderText("folder holding MNIST/, FashionMNIST/ or cifar-10-batches-py/")
        self.root_button = QToolButton(text="…")
        self.root_button.setToolTip("Choose the data root folder")
        self.root_label = plain(QLabel("Data root"))
        self.thumbnails = ImageView("Loading…")
        self.thumbnails.setMinimumHeight(150)
        self.info = QLabel(wordWrap=True, textFormat=Qt.RichText)  # _set_info escapes what is not markup
        self.info.setProperty("role", "muted")
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.combo, 0, 0, 1, 3)
        grid.addWidget(plain(QLabel("Size")), 1, 0)
        grid.addWidget(self.resolution, 1, 1, 1, 2)
        grid.addWidget(self.root_label, 2, 0)
        row = QHBoxLayout()
        row.addWidget(self.root, 1)
        row.addWidget(self.root_button)
        grid.addLayout(row, 2, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.thumbnails, 1)
        layout.addWidget(self.info)

        for widget in (self.root_label, self.root, self.root_button):  # shown for a local copy (_load)
            widget.setVisible(False)
        self._fill_combo()
        self._summary_queued = False  # a summary waits for torch (_load)
        self._previous = 0
        self.combo.activated.connect(self._on_combo_activated)
        self.resolution.currentIndexChanged.connect(self._on_option_changed)
        self.root.editingFinished.connect(self._on_option_changed)
        self.root_button.clicked.connect(self._on_root_button_clicked)

    # --- the menu -------------------------------------------------------------------------
    def _fill_combo(self) -> None:
        model: QStandardItemModel = self.combo.model()
        model.clear()
        for title, entries in dataset_groups():
            header = QStandardItem(title.upper())
            header.setFlags(Qt.NoItemFlags)
            model.appendRow(header)
            for name, description in entries:
                item = QStandardItem(f"   {name}")
                item.setData(name, SPEC_ROLE)
                item.setToolTip(description)
                model.appendRow(item)
        header = QStandardItem("YOUR IMAGES")
        header.setFlags(Qt.NoItemFlags)
        model.appendRow(header)
        for folder in self.recent_folders:
            item = QStandardItem(f"   {Path(folder).name or folder}")
            item.setData(FOLDER_PREFIX + folder, SPEC_ROLE)
            item.setToolTip(tip(folder))
            model.appendRow(item)
        choose = QStandardItem("   Folder…")
        choose.setToolTip("Any folder of .png/.jpg/.webp images; subfolders become labels. "
                          "You can also drop a folder onto the window.")
        model.appendRow(choose)

    def _index_of(self, spec: str) -> int:
        for i in range(self.combo.count()):
            if self.combo.itemData(i, SPEC_ROLE) == spec:
                return i
        return -1

    # --- the choice -------------------------------------------------------------------------
    @property
    def spec(self) -> str:
        return self.combo.currentData(SPEC_ROLE) or ""

    def data_options(self) -> dict:
        options = {}
        resolution = RESOLUTIONS[self.resolution.currentIndex()]
        if resolution:
            options["resolution"] = resolution
        if is_local_copy(self.spec) and self.root.text().strip():
            options["root"] = self.root.text().strip()
        return options

    def set_choice(self, spec: str, options: dict | None = None) -> None:
        """Select a dataset (adding a folder to the menu if needed) and load its summary."""
        options = options or {}
        if spec.startswith(FOLDER_PREFIX):
            self._remember_folder(spec[len(FOLDER_PREFIX):])
        index = self._index_of(spec)
        if index < 0:
            index = self._index_of("fashion-mnist-5k")
        for widget in (self.combo, self.resolution, self.root):
            widget.blockSignals(True)
        self.combo.setCurrentIndex(index)
        res = options.get("resolution")
        self.resolution.setCurrentIndex(RESOLUTIONS.index(res) if res in RESOLUTIONS else 0)
        if "root" in options:
            self.root.setText(str(options["root"]))
        for widget in (self.combo, self.resolution, self.root):
            widget.blockSignals(False)
        self._previous = index
        self._load()

    def set_folder(self, path: str) -> None:
        self.set_choice(FOLDER_PREFIX + str(Path(path).expanduser().resolve()))

    def _remember_folder(self, folder: str) -> None:
        self.recent_folders = [folder] + [f for f in self.recent_folders if f != folder][:4]
        self._fill_combo()

    def _load(self) -> None:
        self.summary, self.error = None, None
        local = is_local_copy(self.spec)
        for widget in (self.root_label, self.root, self.root_button):
            widget.setVisible(local)
        if local and not self.root.text().strip():
            self.root.setText(str(default_data_root()))
        self.thumbnails.set_image(None)
        self.thumbnails.placeholder = "Loading…"
        self._set_info("Loading…", "muted")
        if not self._summary_queued:  # once torch is in (at once without a preload), for the choice then
            self._summary_queued = True
            preload.when_loaded(self._submit_summary)
        self.changed.emit()

    def _submit_summary(self) -> None:
        self._summary_queued = False
        self._task.submit(summarize_dataset, self.spec, self.data_options(), with_progress=True)

    @property
    def loading(self) -> bool:
        return self.summary is None and self.error is None

    def _set_info(self, text: str, role: str, rich: bool = False) -> None:
        """Show ``text`` (plain: a message quoting a folder; ``rich``: markup) in ``role``."""
        self.info.setText(text if rich else escape(text))
        set_role(self.info, role)

    @Slot(int)
    def _on_combo_activated(self, index: int) -> None:
        if self.combo.itemData(index, SPEC_ROLE) is None:  # "Folder…"
            folder = ask_folder(self, "Choose a folder of images", "images")
            if folder:
                self.set_folder(folder)
            else:
                self.combo.setCurrentIndex(self._previous)
            return
        if index != self._previous:
            self._previous = index
            self._load()

    @Slot()
    def _on_option_changed(self) -> None:
        self._load()

    @Slot()
    def _on_root_button_clicked(self) -> None:
        folder = ask_folder(self, "Choose the data root", "data-root", self.root.text())
        if folder:
            self.root.setText(folder)
            self._load()

    @Slot(object)
    def _on_task_succeeded(self, summary: DatasetSummary) -> None:
        self.summary = summary
        if self.resolution.currentIndex() == 0:  # say what "no resizing" gives for this dataset
            folder = self.spec.startswith("folder:")
            self.resolution.setItemText(0, f"{'Default' if folder else 'Native'} ({summary.info['resolution']} px)")
        self.thumbnails.set_image(summary.grid)
        self._set_info(describe_summary(summary), "muted", rich=True)
        skipped = "\n".join(f"{Path(p).name}: {why}" for p, why in summary.skipped[:50])
        self.info.setToolTip(tip(skipped))
        self.loaded.emit()

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self.error = message
        self.thumbnails.placeholder = "No images to show"
        self.thumbnails.set_image(None)
        self._set_info(message, "error")
        self.loaded.emit()

    @Slot(int, int)
    def _on_task_progressed(self, done: int, total: int) -> None:
        self._set_info(f"Reading images… {done:,} of {total:,}", "muted")


def describe_summary(summary: DatasetSummary) -> str:
    info = summary.info
    kind = "RGB" if info["channels"] == 3 else "gray"
    lines = [f"<b>{info['size']:,}</b> images · {info['resolution']}×{info['resolution']} {kind}"]
    names = info.get("label_names") or []
    if info["num_classes"]:
        shown = escape(", ".join(names[:6]) + (", …" if len(names) > 6 else ""))  # its folders' names
        lines[0] += f" · {info['num_classes']} labels"
        if shown:
            lines.append(shown)
    else:
        lines[0] += " · no labels"
    from ...engine.trainer import resolution_note

    if note := resolution_note(info["resolution"]):  # 128 px on a CPU-only machine
        lines.append(f"<span style='color:#f2b75e'>{escape(sentence(note))}</span>")
    if info.get("streamed"):
        lines.append("Too many to hold in memory: read from disk while training")
    if summary.skipped:
        names = escape(", ".join(Path(p).name for p, _ in summary.skipped[:4]))
        more = f" and {len(summary.skipped) - 4} more" if len(summary.skipped) > 4 else ""
        count = len(summary.skipped)
        lines.append(f"<span style='color:#f2b75e'>{count} file{'s' if count != 1 else ''} skipped: {names}{more}</span>"
                     " (hover for reasons)")
    return "<br>".join(lines)
