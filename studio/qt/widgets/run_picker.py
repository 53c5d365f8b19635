"""Choose a trained model to open: a combo box of the runs with a checkpoint (yours, newest
first, then the bundled demos) whose family offers what the page needs, plus "Open folder…".

Listing and filtering happen in the background through the runner (reading run folders and
asking a family's capabilities imports torch); the page then loads the chosen model itself.
The empty box always says where the list stands: looking, none found, could not list, or how
many models there are to choose from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from ...runs import Run, RunError, default_runs_root, demo_runs_root, list_model_runs
from ..runner import Latest
from .cards import ElidedCombo
from .plain_text import message
from .save_dialog import ask_folder

NeedsFn = Callable[[object], bool]  # Capabilities -> whether the page can use the model
LOOKING = "Looking for trained models…"
NONE_YET = "No suitable trained model yet: train one on the Train page"


def choose_text(rows: list[tuple[str, str]]) -> str:
    """The empty box's words once the list has loaded with ``rows`` in it."""
    own = sum(not text.startswith("Demo") for _, text in rows)
    demos = len(rows) - own
    if not rows:
        return NONE_YET
    if own:
        return f"Choose one of your {own} trained model{'s' if own != 1 else ''}" + \
            (f" (or {demos} demo{'s' if demos != 1 else ''})" if demos else "")
    return f"Choose a demo model ({demos})"


def usable_runs(needs: NeedsFn, root: Path | None = None) -> list[tuple[str, str]]:
    """(path, label) of every run with a checkpoint whose family capabilities satisfy ``needs``."""
    from ...models import get_family

    demos = demo_runs_root().resolve()
    rows = []
    for run in list_model_runs(root):
        try:
            family = get_family(run.family)
        except ValueError:  # a family this version doesn't know
            continue
        if not needs(family.capabilities):
            continue
        is_demo = run.path.resolve().parent == demos
        data = run.meta.get("data", "")
        text = f"{'Demo · ' if is_demo else ''}{run.name}  ·  {run.family} on {data}  ·  step {run.step:,}"
        rows.append((str(run.path), text))
    return rows


class RunPicker(QWidget):
    run_chosen = Signal(str)  # a run folder
    listed = Signal(list)  # [(path, label), ...] each time the list has been read

    def __init__(self, needs: NeedsFn, parent: QWidget | None = None):
        super().__init__(parent)
        self.needs = needs
        self.root: Path | None = None  # None: the default runs folder
        self.combo = ElidedCombo()  # a long run name elides in the middle, whole in the tooltip
        self.combo.setMinimumWidth(220)  # long run names must not widen the window
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(24)
        self.combo.setPlaceholderText(LOOKING)
        self.combo.activated.connect(self._on_combo_activated)
        self.browse_button = QPushButton("Open folder…")
        self.browse_button.setToolTip("Open a run folder from anywhere (one trained here, by the CLI "
                                      "or on another machine)")
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.browse_button)
        self.listing = Latest(self, "list-runs")
        self.listing.succeeded.connect(self._on_listing_succeeded)
        self.listing.failed.connect(self._on_listing_failed)

    @property
    def loading(self) -> bool:
        return self.listing.busy

    @property
    def current_path(self) -> str | None:
        return self.combo.currentData()

    def refresh(self) -> None:
        if self.current_path is None:
            self.combo.setPlaceholderText(LOOKING)
        self.listing.submit(usable_runs, self.needs, self.root)

    def select(self, path: str) -> None:
        """Choose ``path`` (adding it to the list if needed) and announce it."""
        path = self.show_current(path)
        self.run_chosen.emit(path)

    def show_current(self, path: str) -> str:
        """Show ``path`` as the chosen run (adding it to the list if needed) without announcing
        it: for a page that opens a run by itself. Returns the path as listed."""
        path = str(Path(path))
        index = self.combo.findData(path)
        if index < 0:
            try:
                run = Run.open(path)
                text = f"{run.name}  ·  {run.family}  ·  step {run.step:,}"
            except RunError:
                text = Path(path).name
            self.combo.addItem(text, path)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)
        return path

    @Slot(object)
    def _on_listing_succeeded(self, rows: list[tuple[str, str]]) -> None:
        current = self.current_path
        kept = self.combo.currentText()
        self.combo.clear()
        for path, text in rows:
            self.combo.addItem(text, path)
        if current and self.combo.findData(current) < 0:  # opened from elsewhere: keep it listed
            self.combo.addItem(kept, current)
        self.combo.setPlaceholderText(choose_text(rows))
        self.combo.setCurrentIndex(self.combo.findData(current) if current else -1)
        self.listed.emit(rows)

    @Slot(str)
    def _on_listing_failed(self, message: str) -> None:
        self.combo.setPlaceholderText(f"Could not list runs: {message}")

    @Slot(int)
    def _on_combo_activated(self, index: int) -> None:
        path = self.combo.itemData(index)
        if path:
            self.run_chosen.emit(path)

    @Slot()
    def _on_browse_button_clicked(self) -> None:
        start = str(self.root or default_runs_root())
        folder = ask_folder(self, "Open a run folder", "run", start)  # no runs folder yet: the rule's
        if not folder:
            return
        try:
            Run.open(folder)
        except RunError as exc:
            message(self, "Not a run folder", str(exc))
            return
        self.select(folder)
