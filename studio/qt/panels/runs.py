"""The Runs page: every run folder under the runs root, whoever made it (window or CLI).

A sortable table on the left; the chosen run's curves, samples and actions on the right.
Folder reads happen in the background; the table refreshes when the folder changes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QSize, QSortFilterProxyModel, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDesktopServices, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QInputDialog, QMessageBox,
                               QPushButton, QSpinBox, QSplitter, QTableView, QVBoxLayout, QWidget)

from ...engine.drawing import draw_classes, draw_samples
from ...runs import Run, RunError, default_runs_root, demo_runs_root, list_runs
from .. import theme
from ..run_history import RunHistory, read_run_history
from ..runner import Latest
from ..widgets.cards import card, label, set_role
from ..widgets.image_view import PreviewStrip
from ..widgets.metrics_plot import MetricsPlot

COLUMNS = ["", "Name", "Family", "Dataset", "Steps", "Status", "Updated"]
STATUS_COLORS = {"finished": theme.SUCCESS, "running": theme.ACCENT, "stopped": theme.MUTED,
                 "failed": theme.DANGER, "diverged": theme.WARNING}
THUMB = 44
PATH_ROLE = Qt.UserRole + 1


@dataclass
class RunRow:
    path: str
    name: str
    family: str
    data: str
    step: int
    status: str
    updated: str
    thumbnail: QImage | None
    demo: bool = False


def list_run_rows(root: Path, demos: Path | None = None) -> list[RunRow]:
    """The runs under ``root`` (then the bundled demos under ``demos``, read-only) with a
    small image of their latest samples (off the UI thread)."""
    rows = []
    for run in list_runs(root) + (list_runs(demos) if demos is not None and demos != root else []):
        demo = demos is not None and run.path.parent == demos
        sample = run.latest_sample()
        thumb = QImage(str(sample)) if sample else None
        if thumb is not None and not thumb.isNull():
            # the top-left corner: a few whole samples of a square grid, the first of a strip
            side = min(thumb.width(), thumb.height())
            corner = side if max(thumb.width(), thumb.height()) >= 2 * side else side // 2
            thumb = thumb.copy(0, 0, corner, corner).scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        data = run.meta.get("data", "")
        if data.startswith("folder:"):
            data = "folder " + Path(data[len("folder:"):]).name
        rows.append(RunRow(str(run.path), f"Demo · {run.name}" if demo else run.name, run.family, data, run.step,
                           run.status, run.meta.get("updated", "")[:16].replace("T", " "), thumb, demo))
    return rows


class RunsPanel(QWidget):
    resume_requested = Signal(str, int)  # run folder, extra steps

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.training_run: str | None = None  # the run this window trains now: not renamed/deleted
        self.current: RunHistory | None = None
        self._list_task = Latest(self, "list")
        self._list_task.succeeded.connect(self._on_list_task_succeeded)
        self._detail_task = Latest(self, "detail")
        self._detail_task.succeeded.connect(self._on_detail_task_succeeded)
        self._detail_task.failed.connect(self._on_detail_task_failed)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_watcher_directory_changed)
        self._debounce = QTimer(self, singleShot=True, interval=400)
        self._debounce.timeout.connect(self.refresh)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(COLUMNS)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(6, Qt.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)

        self.root_label = label("", "muted")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the runs folder again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_root_button = QPushButton("Open runs folder")
        self.open_root_button.clicked.connect(self._on_open_root_clicked)
        top = QHBoxLayout()
        top.addWidget(label("Runs", "title"))
        top.addWidget(self.root_label, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.open_root_button)

        self.title = label("Choose a run", "title")
        self.info = label("Runs you train here or with 'studio train' appear in the table.", "muted", wrap=True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.plot = MetricsPlot()
        self.previews = PreviewStrip("The run's latest samples appear here.")
        self.extra_steps = QSpinBox(minimum=1, maximum=10_000_000, value=1000, singleStep=500)
        self.extra_steps.setGroupSeparatorShown(True)
        self.extra_steps.setToolTip("How many more steps to train")
        self.resume_button = QPushButton("Resume training")
        self.resume_button.setProperty("primary", True)
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setProperty("danger", True)
        self.reveal_button = QPushButton("Show in folder")
        self.resume_button.clicked.connect(self._on_resume_clicked)
        self.rename_button.clicked.connect(self._on_rename_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.reveal_button.clicked.connect(self._on_reveal_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.resume_button)
        actions.addWidget(label("for"))
        actions.addWidget(self.extra_steps)
        actions.addWidget(label("more steps"))
        actions.addStretch(1)
        for button in (self.rename_button, self.delete_button, self.reveal_button):
            actions.addWidget(button)
        # "Draw": fresh samples from the run's latest weights (a PixelCNN shows them growing)
        self.draw_class = QComboBox()
        self.draw_class.setToolTip("The class to draw (class-conditional runs)")
        self.draw_class.hide()
        self.draw_button = QPushButton()
        self._show_drawing(False)
        self.draw_button.setMinimumWidth(self.draw_button.sizeHint().width())  # it reads "Stop" while drawing
        self.draw_button.clicked.connect(self._on_draw_clicked)
        QShortcut(QKeySequence("Ctrl+D"), self, context=Qt.WidgetWithChildrenShortcut).activated.connect(
            self._on_draw_clicked)
        self.draw_seed = 0
        self.drawing = False
        self._draw_task = Latest(self, "draw")
        self._draw_task.partial.connect(self._on_draw_partial)
        self._draw_task.progressed.connect(self._on_draw_progressed)
        self._draw_task.succeeded.connect(self._on_draw_succeeded)
        self._draw_task.failed.connect(self._on_draw_failed)
        self._classes_task = Latest(self, "classes")
        self._classes_task.succeeded.connect(self._on_classes_task_succeeded)
        draw_row = QHBoxLayout()
        draw_row.setContentsMargins(0, 0, 0, 0)
        draw_row.addStretch(1)
        draw_row.addWidget(self.draw_class)
        draw_row.addWidget(self.draw_button)
        samples = QWidget()
        samples_layout = QVBoxLayout(samples)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_layout.addWidget(self.previews, 1)
        samples_layout.addLayout(draw_row)
        views = QSplitter(Qt.Horizontal)
        views.addWidget(self.plot)
        views.addWidget(samples)
        views.setStretchFactor(0, 3)
        views.setStretchFactor(1, 2)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.title)
        detail_layout.addWidget(self.info)
        detail_layout.addWidget(views, 1)
        detail_layout.addLayout(actions)

        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(card("", detail))
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._enable_actions()

    # --- the table -----------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return default_runs_root()

    @Slot()
    def refresh(self) -> None:
        root = self.root
        self.root_label.setText(f"  {root}")
        if root.is_dir() and str(root) not in self.watcher.directories():
            for old in self.watcher.directories():
                self.watcher.removePath(old)
            self.watcher.addPath(str(root))
        self._list_task.submit(list_run_rows, root, demo_runs_root())

    def row_paths(self) -> list[str]:
        return [self.model.item(r, 1).data(PATH_ROLE) for r in range(self.model.rowCount())]

    @Slot(object)
    def _on_list_task_succeeded(self, rows: list[RunRow]) -> None:
        selected = self.current.run.path if self.current else None
        self.table.setSortingEnabled(False)
        self.model.removeRows(0, self.model.rowCount())
        for row in rows:
            thumb = QStandardItem()
            if row.thumbnail is not None:
                thumb.setData(QPixmap.fromImage(row.thumbnail), Qt.DecorationRole)
            steps = QStandardItem()
            steps.setData(row.step, Qt.DisplayRole)
            status = QStandardItem(row.status)
            status.setForeground(QColor(STATUS_COLORS.get(row.status, theme.TEXT)))
            items = [thumb, QStandardItem(row.name), QStandardItem(row.family), QStandardItem(row.data), steps,
                     status, QStandardItem(row.updated)]
            items[1].setData(row.path, PATH_ROLE)
            items[1].setToolTip(row.path)
            self.model.appendRow(items)
        self.table.setSortingEnabled(True)
        if selected is not None and self.select(str(selected)):
            row = next(r for r in rows if r.path == str(selected))
            if (row.step, row.status) != (self.current.run.step, self.current.run.status):
                self.open_run(row.path)  # it moved on (trained here or elsewhere): show it as it is now

    def select(self, path: str) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 1).data(PATH_ROLE) == path:
                self.table.selectRow(r)
                return True
        return False

    @Slot()
    def _on_table_current_row_changed(self) -> None:
        path = self.table.currentIndex().siblingAtColumn(1).data(PATH_ROLE)
        if path and (self.current is None or str(self.current.run.path) != path):
            self.open_run(path)

    @Slot(str)
    def _on_watcher_directory_changed(self, _path: str) -> None:
        self._debounce.start()

    # --- the chosen run ----------------------------------------------------------------------
    def open_run(self, path: str) -> None:
        self._stop_drawing()
        self.title.setText(Path(path).name)
        self.info.setText("Reading…")
        self.draw_class.clear()  # until the run's classes are known
        self.draw_class.hide()
        self._detail_task.submit(read_run_history, path)
        self._classes_task.submit(draw_classes, path)

    @Slot(object)
    def _on_detail_task_succeeded(self, history: RunHistory) -> None:
        self.current = history
        run, meta = history.run, history.run.meta
        self.title.setText(run.name)
        lines = [f"{run.family} on {meta.get('data')} · step {run.step:,} of {meta.get('target_step', run.step):,} · "
                 f"<b>{run.status}</b> · {meta.get('device', '?')} {meta.get('precision', '')} · "
                 f"created {meta.get('created', '')[:16].replace('T', ' ')}"]
        evaluation = meta.get("evaluation") or {}
        if evaluation:
            lines.append("held-out: " + ", ".join(f"{k} {v:.4g}" for k, v in evaluation.items()))
        if meta.get("error"):
            lines.append(f"<span style='color:{theme.DANGER}'>{meta['error']}</span>")
        self.info.setText("<br>".join(lines))
        set_role(self.info, "muted")
        self.plot.set_history(history.records)
        self.previews.set_history(history.previews)
        self._enable_actions()

    @Slot(str)
    def _on_detail_task_failed(self, message: str) -> None:
        self.current = None
        self.info.setText(message)
        set_role(self.info, "error")
        self.plot.clear()
        self.previews.clear()
        self._enable_actions()

    # --- drawing samples ---------------------------------------------------------------------
    @Slot(object)
    def _on_classes_task_succeeded(self, names: list[str]) -> None:
        self.draw_class.clear()
        if names:
            self.draw_class.addItem("One of each class", None)
            for i, name in enumerate(names):
                self.draw_class.addItem(name, i)
        self.draw_class.setVisible(bool(names))

    @Slot()
    def _on_draw_clicked(self) -> None:
        if self.drawing:
            self._stop_drawing()
            self.previews.set_note("Stopped.")
            return
        if self.current is None:
            return
        label_value = self.draw_class.currentData() if self.draw_class.count() else None
        self.draw_seed += 1
        self._draw_task.submit(draw_samples, str(self.current.run.path), 8, label_value, self.draw_seed,
                               with_progress=True)
        self._show_drawing(True)
        self.previews.set_note("Drawing…")

    def _stop_drawing(self) -> None:
        if self.drawing:
            self._draw_task.cancel()
            self._show_drawing(False)
            self.previews.view.set_image(self.previews.current()[1] if self.previews.current() else None)

    def _show_drawing(self, drawing: bool) -> None:
        self.drawing = drawing
        self.draw_button.setText("Stop" if drawing else "Draw samples")
        self.draw_button.setToolTip("Stop drawing (Ctrl+D)" if drawing else
                                    "Draw 8 new samples from the run's latest weights, a new seed each time "
                                    "(Ctrl+D); a PixelCNN draws them pixel by pixel")

    @Slot(object)
    def _on_draw_partial(self, grid) -> None:
        self.previews.view.set_image(grid)

    @Slot(int, int)
    def _on_draw_progressed(self, done: int, total: int) -> None:
        if total > 1:
            self.previews.set_note(f"Drawing pixel by pixel… {done:,} of {total:,} pixels")

    @Slot(object)
    def _on_draw_succeeded(self, grid) -> None:
        self._show_drawing(False)
        if self.current is None:
            return
        self.previews.add(self.current.run.step, grid)
        what = self.draw_class.currentText() if self.draw_class.count() else "new samples"
        self.previews.set_note(f"Drawn: {what.lower() if what.startswith('One') else what}, seed {self.draw_seed}")

    @Slot(str)
    def _on_draw_failed(self, message: str) -> None:
        self._show_drawing(False)
        self.previews.set_note(f"Could not draw: {message}")

    def _enable_actions(self) -> None:
        has = self.current is not None
        busy = has and self.training_run is not None and Path(self.training_run) == self.current.run.path
        demo = has and self.current.run.path.parent.resolve() == demo_runs_root().resolve()
        read_only = "A bundled demo is read-only: train your own on the Train page"
        for button in (self.rename_button, self.delete_button):
            button.setEnabled(has and not busy and not demo)
            button.setToolTip(read_only if demo else "Stop the training first" if busy else "")
        self.resume_button.setEnabled(has and self.training_run is None and not demo)
        self.resume_button.setToolTip(read_only if demo else "Another run is training" if self.training_run else
                                      "Train this run further, watching it on the Train page")
        self.reveal_button.setEnabled(has)
        self.draw_button.setEnabled(has and self.current.run.latest_checkpoint() is not None)

    def set_training_run(self, path: str | None) -> None:
        self.training_run = path
        self._enable_actions()

    # --- actions -------------------------------------------------------------------------------
    @Slot()
    def _on_resume_clicked(self) -> None:
        run = self.current.run if self.current is not None else None
        if run is None or run.status == "running" and not self.confirm(
                "Resume run", f"“{run.name}” says it is training (perhaps in a terminal, or it crashed). Two "
                "trainings of one run would overwrite each other's checkpoints.\n\nResume anyway?", "Resume anyway"):
            return
        self.resume_requested.emit(str(run.path), self.extra_steps.value())

    @Slot()
    def _on_rename_clicked(self) -> None:
        if self.current is None:
            return
        run = self.current.run
        if run.status == "running" and not self.confirm(
                "Rename run", f"“{run.name}” says it is training (perhaps in a terminal). Renaming its folder "
                "now would break that training.\n\nRename anyway?", "Rename anyway"):
            return
        name = self.ask_new_name(run.path.name)
        if not name or name == run.path.name:
            return
        try:
            new_path = rename_run(run.path, name, self.training_run)
        except (OSError, ValueError) as exc:
            self.show_error("Rename failed", str(exc))
            return
        self.current = None
        self.open_run(str(new_path))
        self.refresh()

    @Slot()
    def _on_delete_clicked(self) -> None:
        if self.current is None:
            return
        run = self.current.run
        if self.training_run and Path(self.training_run) == run.path:
            return
        if not self.confirm("Delete run", f"Delete the run “{run.name}” with its checkpoints and samples?"
                            f"\n\n{run.path}\n\nThis cannot be undone.", "Delete"):
            return
        try:
            shutil.rmtree(run.path)
        except OSError as exc:
            self.show_error("Delete failed", f"{run.path} could not be deleted: {exc}")
        self.current = None
        self.title.setText("Choose a run")
        self.info.setText("")
        self.plot.clear()
        self.previews.clear()
        self._enable_actions()
        self.refresh()

    @Slot()
    def _on_reveal_clicked(self) -> None:
        if self.current is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.current.run.path)))

    @Slot()
    def _on_open_root_clicked(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.root)))

    # dialogs (tests replace these)
    def ask_new_name(self, current: str) -> str | None:
        name, ok = QInputDialog.getText(self, "Rename run", "New name:", text=current)
        return name.strip() if ok else None

    def confirm(self, title: str, text: str, action: str) -> bool:
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Cancel, self)
        button = box.addButton(action, QMessageBox.DestructiveRole)
        box.setDefaultButton(QMessageBox.Cancel)
        box.exec()
        return box.clickedButton() is button

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)


def rename_run(path: Path, name: str, training_run: str | None = None) -> Path:
    """Rename a run folder (and the name in its run.json); refuses the run being trained."""
    if training_run and Path(training_run) == Path(path):
        raise ValueError("this run is training; stop it before renaming it")
    if not name or name in (".", "..") or any(c in name for c in '/\\:*?"<>|'):
        raise ValueError(f"{name!r} is not a usable folder name (avoid / \\ : * ? \" < > |)")
    target = Path(path).with_name(name)
    if target.exists():
        raise ValueError(f"a run called {name!r} already exists")
    try:
        Run.open(path)
    except RunError as exc:
        raise ValueError(str(exc)) from None
    Path(path).rename(target)
    Run.open(target).save_meta(name=name)
    return target

