"""The studio window: a sidebar of pages (Train, Latent explorer, Diffusion viewer, Runs)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QSizePolicy, QStackedWidget, QStatusBar, QVBoxLayout, QWidget)

from . import theme
from .runner import runner
from .widgets.help_menu import help_button
from .panels.diffusion import DiffusionPanel
from .panels.latent import LatentPanel
from .panels.playground import PlaygroundPanel
from .panels.runs import RunsPanel
from .panels.train import TrainPanel

CLOSE_WAIT_S = 1.5  # closing: how long cancelled jobs may take to end
TRAINING_WAIT_S = 30.0  # …except a training run writing its checkpoint
PAGES = [("train", "✦   Train"), ("latent", "◎   Latent explorer"), ("diffusion", "≋   Diffusion viewer"),
         ("runs", "▤   Runs"), ("playground", "✧   Playground")]


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("Generative Studio")
        self.setWindowIcon(theme.app_icon())
        self.setAcceptDrops(True)

        self.train = TrainPanel()
        self.runs = RunsPanel()
        self.latent = LatentPanel()
        self.diffusion = DiffusionPanel()
        self.playground = PlaygroundPanel()
        self.pages = {
            "train": self.train,
            "latent": self.latent,
            "diffusion": self.diffusion,
            "runs": self.runs,
            "playground": self.playground,
        }
        self.stack = QStackedWidget()
        for page in self.pages.values():
            self.stack.addWidget(page)
        self.sidebar = QListWidget(objectName="sidebar")
        for key, text in PAGES:
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, key)
            item.setSizeHint(QSize(0, 40))
            self.sidebar.addItem(item)
        self.sidebar.setFixedWidth(196)
        brand_icon = QLabel()
        brand_icon.setPixmap(self.windowIcon().pixmap(30, 30))
        brand = QHBoxLayout()
        brand.setContentsMargins(14, 16, 6, 10)
        brand.addWidget(brand_icon)
        brand.addWidget(QLabel("Generative Studio", objectName="brand"), 1)
        side = QWidget(objectName="sidebarBox")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        side_layout.addLayout(brand)
        side_layout.addWidget(self.sidebar, 1)
        self.help_button = help_button(self)
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 8, 0)
        foot.addWidget(_about_line(), 1)
        foot.addWidget(self.help_button)
        side_layout.addLayout(foot)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(side)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status = QLabel("Drop a folder of images anywhere on the window to train on it.")
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long path never widens the window
        bar = QStatusBar()
        bar.addWidget(self.status, 1)
        self.setStatusBar(bar)

        self.sidebar.currentRowChanged.connect(self._on_sidebar_current_row_changed)
        self.train.run_started.connect(self._on_train_run_started)
        self.train.run_ended.connect(self._on_train_run_ended)
        self.train.status_posted.connect(self._on_train_status_posted)
        self.runs.resume_requested.connect(self._on_runs_resume_requested)
        for i, (key, _) in enumerate(PAGES):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, activated=self._on_page_shortcut_activated).setProperty(
                "page", key)
        QShortcut(QKeySequence("F5"), self, activated=self.runs.refresh)
        QShortcut(QKeySequence.Quit, self, activated=self.close)
        self.restore_settings()

    # --- pages --------------------------------------------------------------------------
    def show_page(self, key: str) -> None:
        self.sidebar.setCurrentRow([k for k, _ in PAGES].index(key))

    @property
    def page(self) -> str:
        return PAGES[self.sidebar.currentRow()][0]

    @Slot(int)
    def _on_sidebar_current_row_changed(self, row: int) -> None:
        key = PAGES[row][0]
        self.stack.setCurrentWidget(self.pages[key])
        if key == "runs":
            self.runs.refresh()

    @Slot()
    def _on_page_shortcut_activated(self) -> None:
        self.show_page(self.sender().property("page"))

    # --- training <-> runs ----------------------------------------------------------------------
    @Slot(str)
    def _on_train_run_started(self, path: str) -> None:
        self.runs.set_training_run(path)

    @Slot(str, str)
    def _on_train_run_ended(self, path: str, status: str) -> None:
        self.runs.set_training_run(None)
        if self.page == "runs":
            self.runs.refresh()

    @Slot(str)
    def _on_train_status_posted(self, message: str) -> None:
        self.status.setText(message)
        self.status.setToolTip(message)  # clipped when the window is narrow

    @Slot(str, int)
    def _on_runs_resume_requested(self, path: str, extra_steps: int) -> None:
        if self.train.resume_run(path, extra_steps):
            self.show_page("train")

    # --- drag and drop a folder -----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if _dropped_folder(event.mimeData()) and not self.train.busy:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        folder = _dropped_folder(event.mimeData())
        if folder and not self.train.busy:
            self.show_page("train")
            self.train.setup.dataset.set_folder(folder)
            event.acceptProposedAction()

    # --- settings and closing ----------------------------------------------------------------------
    def _first_size(self) -> QSize:
        """1380×860, or the screen's free area less a margin on a smaller screen (never below
        the window's minimum: on a 1366×768 laptop that is most of the screen)."""
        screen = self.screen() or QApplication.primaryScreen()
        free = screen.availableGeometry().size() if screen else QSize(1380, 860)
        return QSize(1380, 860).boundedTo(free - QSize(24, 48)).expandedTo(self.minimumSizeHint())

    def restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(self._first_size())
        self.train.restore_settings(s)
        page = s.value("window/page", "train")
        self.show_page(page if page in self.pages else "train")

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/page", self.page)
        self.train.save_settings(s)
        s.sync()

    def closeEvent(self, event) -> None:  # noqa: N802
        """Closing cancels all background work and waits for it: a training run checkpoints at
        once (skipping its held-out evaluation, which a resume re-runs); the rest just stops."""
        self.save_settings()
        self.diffusion.timeline.stop()
        if self.train.busy:
            self.status.setText("Saving a checkpoint before closing…")
            self.status.repaint()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Cancel every job the runner started and wait: the others at most ``CLOSE_WAIT_S``
        in all, a training run until its checkpoint is written (``TRAINING_WAIT_S`` at most)."""
        training = self.train.handle
        runner().shutdown(CLOSE_WAIT_S)
        if training is not None:
            training.wait(TRAINING_WAIT_S)


def _about_line() -> QLabel:
    """Version and compute device at the foot of the sidebar."""
    from .. import __version__
    from ..engine.devices import resolve_device

    line = QLabel(f"v{__version__} · {resolve_device('auto').type.upper()}")
    line.setToolTip(f"Generative Studio {__version__}; trains on the {resolve_device('auto').type.upper()}")
    line.setProperty("role", "muted")
    line.setContentsMargins(18, 8, 8, 12)
    return line


def _dropped_folder(mime) -> str | None:
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile() and Path(url.toLocalFile()).is_dir():
            return url.toLocalFile()
    return None
