"""The Runs page's table: every run folder under the runs root (then the bundled demos,
read-only), with a thumbnail of its latest samples, sortable, one row selected at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtGui import (QColor, QGuiApplication, QImage, QKeySequence, QPixmap, QStandardItem,
                           QStandardItemModel)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from ...runs import scan_runs
from .. import theme
from ..run_history import live_step
from .plain_text import tip

COLUMNS = ["", "Name", "Family", "Dataset", "Steps", "Status", "Updated"]
STATUS_COLORS = {"finished": theme.SUCCESS, "running": theme.ACCENT, "stopped": theme.MUTED,
                 "failed": theme.DANGER, "diverged": theme.WARNING, "damaged": theme.DANGER}
THUMB = 36  # rows 44 px high: six of them and the chosen run's curves fit at 1366×768
ROWS_SHOWN = 6  # the table's height at first (the details took the room: 3 rows); the splitter moves it
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
    reason: str = ""  # why a damaged folder is not a run


def list_run_rows(root: Path, demos: Path | None = None) -> list[RunRow]:
    """The runs under ``root`` (then the bundled demos under ``demos``, read-only) with a
    small image of their latest samples (off the UI thread), then the folders under ``root``
    whose run.json is damaged (status "damaged", with the reason). A training run's step is the
    last one it logged, not the last checkpoint's."""
    rows = []
    runs, damaged = scan_runs(root)
    for run in runs + (scan_runs(demos)[0] if demos is not None and demos != root else []):
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
        rows.append(RunRow(str(run.path), f"Demo · {run.name}" if demo else run.name, run.family, data, live_step(run),
                           run.status, run.meta.get("updated", "")[:16].replace("T", " "), thumb, demo))
    for folder, reason in damaged:
        rows.append(RunRow(str(folder), folder.name, "", "", 0, "damaged", "", None, reason=reason))
    return rows


class RunTable(QTableView):
    path_chosen = Signal(str)  # the user selected another row

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = QStandardItemModel(0, len(COLUMNS), self)
        self.rows.setHorizontalHeaderLabels(COLUMNS)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.rows)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(6, Qt.DescendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(THUMB + 8)
        self.setMinimumHeight(self.rows_height(3))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        self.selectionModel().currentRowChanged.connect(self._on_selection_current_row_changed)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu_requested)

    def rows_height(self, rows: int) -> int:
        """The height that shows the header and ``rows`` rows."""
        return self.horizontalHeader().sizeHint().height() + rows * (THUMB + 8) + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API: the Runs page's splitter gives the table this)
        return QSize(super().sizeHint().width(), self.rows_height(ROWS_SHOWN))

    def chosen_path(self) -> str:
        """The selected row's run folder ("" when none)."""
        return self.currentIndex().siblingAtColumn(1).data(PATH_ROLE) or ""

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Ctrl+C copies the selected run's folder path (Qt's own copied the name cell only); the
        name is on the row's menu."""
        if event.matches(QKeySequence.Copy) and self.chosen_path():
            QGuiApplication.clipboard().setText(self.chosen_path())
            return
        super().keyPressEvent(event)

    def row_menu(self, path: str) -> QMenu:
        """The menu of the row of ``path``: Copy path (Ctrl+C), Copy name (the folder's name)."""
        menu = QMenu(self)
        menu.addAction("Copy path", QKeySequence.Copy, lambda: QGuiApplication.clipboard().setText(path))
        menu.addAction("Copy name", lambda: QGuiApplication.clipboard().setText(Path(path).name))
        return menu

    @Slot(object)
    def _on_context_menu_requested(self, pos) -> None:
        path = self.indexAt(pos).siblingAtColumn(1).data(PATH_ROLE)
        if path:
            self.row_menu(path).popup(self.viewport().mapToGlobal(pos))

    def set_rows(self, rows: list[RunRow]) -> None:
        self.setSortingEnabled(False)
        self.rows.removeRows(0, self.rows.rowCount())
        for row in rows:
            thumb = QStandardItem()
            if row.thumbnail is not None:
                thumb.setData(QPixmap.fromImage(row.thumbnail), Qt.DecorationRole)
            steps = QStandardItem()
            if not row.reason:  # a damaged folder has no step to show
                steps.setData(row.step, Qt.DisplayRole)
            status = QStandardItem(row.status)
            status.setForeground(QColor(STATUS_COLORS.get(row.status, theme.TEXT)))
            items = [thumb, QStandardItem(row.name), QStandardItem(row.family), QStandardItem(row.data), steps,
                     status, QStandardItem(row.updated)]
            items[1].setData(row.path, PATH_ROLE)
            items[1].setToolTip(tip(f"{row.path}\n\n{row.reason}" if row.reason else row.path))
            self.rows.appendRow(items)
        self.setSortingEnabled(True)

    def row_paths(self) -> list[str]:
        return [self.rows.item(r, 1).data(PATH_ROLE) for r in range(self.rows.rowCount())]

    def select(self, path: str) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 1).data(PATH_ROLE) == path:
                self.selectRow(r)
                return True
        return False

    @Slot()
    def _on_selection_current_row_changed(self) -> None:
        path = self.chosen_path()
        if path:
            self.path_chosen.emit(path)
