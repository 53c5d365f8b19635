"""The Runs page: every run folder under the runs root, whoever made it (window or CLI).

A sortable table on the left; the chosen run's curves, samples and actions on the right.
Folder reads happen in the background; the table refreshes when the folder changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from ...runs import default_runs_root, demo_runs_root
from ..run_history import RunHistory, live_step, read_run_history, rename_run
from ..runner import Latest
from ..widgets.cards import ElidedLabel, card, label, set_role
from ..widgets.image_view import PreviewStrip
from ..widgets.metrics_plot import MetricsPlot
from ..widgets.run_actions import PathRow, RunDialogs
from ..widgets.run_draw import RunDrawer
from ..widgets.run_follow import RunFollow
from ..widgets.run_info import run_summary
from ..widgets.run_resume import ResumeRow
from ..widgets.run_table import RunTable, list_run_rows
from ..widgets.wrap_text import WrapText


EMPTY = ("No runs yet — train one on the Train page (or with 'studio train' in a terminal); its folder in "
         "the runs folder above appears here.")


class RunsPanel(RunDialogs, QWidget):  # RunDialogs: its questions (tests replace them)
    resume_requested = Signal(str, int, object)  # run folder, extra steps, a new learning rate (None: the same)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.training_run: str | None = None  # the run this window trains now: not renamed/deleted
        self.current: RunHistory | None = None
        self.chosen: str | None = None  # the folder chosen in the table (a run, or a damaged folder)
        self._list_task = Latest(self, "list")
        self._list_task.succeeded.connect(self._on_list_task_succeeded)
        self._detail_task = Latest(self, "detail")
        self._detail_task.succeeded.connect(self._on_detail_task_succeeded)
        self._detail_task.failed.connect(self._on_detail_task_failed)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_watcher_directory_changed)
        self._debounce = QTimer(self, singleShot=True, interval=400)
        self._debounce.timeout.connect(self.refresh)

        self.table = RunTable()
        self.table.path_chosen.connect(self._on_table_path_chosen)

        self.root_label = ElidedLabel("", "muted")
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

        self.title = WrapText("Choose a run", "title")  # a long name wraps, whole, and a click selects it
        self.info = WrapText("Runs you train here or with 'studio train' appear in the table.", "muted")
        self.path_row = PathRow()  # the run folder, whole (wraps anywhere, copies as it is) · [Copy path]
        self.path_text, self.copy_path_button = self.path_row.path_text, self.path_row.copy_button
        self.plot = MetricsPlot()
        self.previews = PreviewStrip("The run's latest samples appear here.")
        self.follow = RunFollow(self.plot, self.previews, self.title, self)  # a run training elsewhere grows live
        self.resume_row = ResumeRow()  # [Resume training] for [N] more steps at learning rate [same]
        self.resume_button, self.extra_steps, self.lr = (self.resume_row.button, self.resume_row.extra_steps,
                                                         self.resume_row.lr)
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setProperty("danger", True)
        self.reveal_button = QPushButton("Show in folder")
        self.resume_row.requested.connect(self._on_resume_row_requested)
        self.rename_button.clicked.connect(self._on_rename_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.reveal_button.clicked.connect(self._on_reveal_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.resume_row)
        actions.addStretch(1)
        for button in (self.rename_button, self.delete_button, self.reveal_button):
            actions.addWidget(button)
        self.drawer = RunDrawer(self.previews, self)  # "Draw": fresh samples from the latest weights
        self.drawer.drawn.connect(self._on_drawer_drawn)
        self.draw_button, self.draw_class = self.drawer.draw_button, self.drawer.draw_class
        samples = QWidget()
        samples_layout = QVBoxLayout(samples)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_layout.addWidget(self.previews, 1)
        samples_layout.addWidget(self.drawer)
        views = QSplitter(Qt.Horizontal)
        views.addWidget(self.plot)
        views.addWidget(samples)
        views.setStretchFactor(0, 3)
        views.setStretchFactor(1, 2)
        views.setSizes([600, 400])  # the samples' caption ("step 1,000 · 3 of 10") and buttons fit at 1366 px
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.title)
        detail_layout.addWidget(self.path_row)
        detail_layout.addWidget(self.info)
        detail_layout.addWidget(views, 1)
        detail_layout.addLayout(actions)

        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(card("", detail))
        split.setStretchFactor(0, 0)  # the table keeps its ROWS_SHOWN rows; the details get the rest
        split.setStretchFactor(1, 1)
        split.setCollapsible(0, False)
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
        # the runs folder, or while it does not exist yet its nearest folder that does (the first
        # training makes it: its runs then appear without Refresh)
        watched = next((str(f) for f in (root, *root.parents) if f.is_dir()), None)
        if watched and watched not in self.watcher.directories():
            for old in self.watcher.directories():
                self.watcher.removePath(old)
            self.watcher.addPath(watched)
        self._list_task.submit(list_run_rows, root, demo_runs_root())

    def row_paths(self) -> list[str]:
        return self.table.row_paths()

    def select(self, path: str) -> bool:
        return self.table.select(path)

    @Slot(object)
    def _on_list_task_succeeded(self, rows) -> None:
        selected = str(self.current.run.path) if self.current else None
        self.table.set_rows(rows)
        if self.chosen is None:
            own = [r for r in rows if not r.demo]  # the bundled demos are always there
            self.plot.empty.setText(EMPTY if not own else "Choose a run in the table to see its curves.")
        if selected is not None and self.select(selected):
            row = next(r for r in rows if r.path == selected)
            if (row.step, row.status) != (live_step(self.current.run), self.current.run.status):
                self.open_run(row.path)  # it moved on (trained here or elsewhere): show it as it is now

    @Slot(str)
    def _on_table_path_chosen(self, path: str) -> None:
        if self.current is None or str(self.current.run.path) != path:
            self.open_run(path)

    @Slot(str)
    def _on_watcher_directory_changed(self, _path: str) -> None:
        self._debounce.start()

    # --- the chosen run ----------------------------------------------------------------------
    def open_run(self, path: str) -> None:
        self.chosen = path  # shown in the folder even when it is no readable run (a damaged run.json)
        self.drawer.set_run(path)
        self.title.setText(Path(path).name)
        self.path_row.setText(path)
        self.plot.empty.setText("This run has logged no losses yet.")
        self.info.setText("Reading…")
        set_role(self.info, "muted")
        self._detail_task.submit(read_run_history, path)

    @Slot(object)
    def _on_detail_task_succeeded(self, history: RunHistory) -> None:
        self.current = history
        run, meta = history.run, history.run.meta
        self.title.setText(run.name)
        self.info.set_rich_text(run_summary(run))
        set_role(self.info, "muted")
        self.resume_row.set_run_lr((meta.get("spec") or {}).get("lr"))
        self.resume_row.set_steps_left(run.steps_left, meta.get("target_step"))
        self.follow.show(history)  # and follows it while it trains (here or elsewhere): "· live"
        self._enable_actions()

    @Slot(str)
    def _on_detail_task_failed(self, message: str) -> None:
        self.current = None
        self.info.setText(message)
        set_role(self.info, "error")
        self.follow.clear()
        self._enable_actions()

    @Slot(object)
    def _on_drawer_drawn(self, grid) -> None:
        if self.current is not None:
            self.previews.add(self.current.run.step, grid)

    def _enable_actions(self) -> None:
        has = self.current is not None
        busy = has and self.training_run is not None and Path(self.training_run) == self.current.run.path
        demo = has and self.current.run.path.parent.resolve() == demo_runs_root().resolve()
        read_only = "A bundled demo is read-only: train your own on the Train page"
        for button in (self.rename_button, self.delete_button):
            button.setEnabled(has and not busy and not demo)
            button.setToolTip(read_only if demo else "Stop the training first" if busy else "")
        self.resume_row.set_allowed(has and self.training_run is None and not demo,
                                    read_only if demo else "Another run is training" if self.training_run else
                                    "Choose a run" if not has else "")
        self.reveal_button.setEnabled(has or bool(self.chosen) and Path(self.chosen).is_dir())
        if not has:
            self.resume_row.set_run_lr(None)
            self.resume_row.set_steps_left(0)
        self.drawer.set_run(str(self.current.run.path) if has else None,
                            has and self.current.run.latest_checkpoint() is not None)

    def set_training_run(self, path: str | None) -> None:
        self.training_run = path
        self._enable_actions()

    # --- actions -------------------------------------------------------------------------------
    @Slot(int, object)
    def _on_resume_row_requested(self, extra_steps: int, lr: float | None) -> None:
        run = self.current.run if self.current is not None else None
        if run is None or run.status == "running" and not self.confirm(
                "Resume run", f"“{run.name}” says it is training (perhaps in a terminal, or it crashed). Two "
                "trainings of one run would overwrite each other's checkpoints.\n\nResume anyway?", "Resume anyway"):
            return
        self.resume_requested.emit(str(run.path), extra_steps, lr)

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
        self.current = self.chosen = None
        self.title.setText("Choose a run")
        self.info.setText("")
        self.path_row.setText("")
        self.plot.clear()
        self.previews.clear()
        self._enable_actions()
        self.refresh()

    @Slot()
    def _on_reveal_clicked(self) -> None:
        if self.chosen:
            self.reveal(self.chosen, "the run folder")

    @Slot()
    def _on_open_root_clicked(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.reveal(str(self.root), "the runs folder")
