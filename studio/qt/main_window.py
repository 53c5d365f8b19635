"""The studio window: a sidebar of pages (Train, Latent explorer, Diffusion viewer, Runs, Playground).

Only the Train page is built with the window, from modules that do not import torch, so the
window paints before PyTorch has loaded (``studio.qt.preload``). Every other page is built on
its first visit (``page_widget``); visited before the core has loaded, it shows "Loading
PyTorch…" until then."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QSizePolicy, QStackedWidget, QStatusBar, QVBoxLayout, QWidget)

from . import preload, theme
from .runner import runner
from .widgets.help_menu import help_button
from .widgets.plain_text import plain, tip
from .widgets.shortcut_list import Shortcut, grouped, key_text, window_shortcuts
from .panels.train import TrainPanel

CLOSE_WAIT_S = 1.5  # closing: how long cancelled jobs may take to end
TRAINING_WAIT_S = 30.0  # …except a training run writing its checkpoint
PAGES = [("train", "✦   Train"), ("latent", "◎   Latent explorer"), ("diffusion", "≋   Diffusion viewer"),
         ("runs", "▤   Runs"), ("playground", "✧   Playground")]
PAGE_NAMES = {key: text.split(maxsplit=1)[1] for key, text in PAGES}
DROP_HINT = "Drop a folder of images anywhere on the window to train on it."
_DROP_ELSEWHERE = "Drop a folder of images here to train on it (opens Train)."
IDLE_LINES = {  # the status bar's line on each page while nothing else is said there (``_show_status``)
    "train": DROP_HINT,
    "latent": f"Choose a model, then click the map or drag the sliders to decode a point. {_DROP_ELSEWHERE}",
    "diffusion": f"Choose a model, then press Run or ▶ Edit (Ctrl+Enter); ← → step, Space plays. "
                 f"{_DROP_ELSEWHERE}",
    "runs": f"Choose a run for its curves and samples; F5 reads the runs folder again. {_DROP_ELSEWHERE}",
    "playground": f"Press Play (Space) to train the lesson's model and watch it learn. {_DROP_ELSEWHERE}",
}


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("Generative Studio")
        self.setWindowIcon(theme.app_icon())
        self.setAcceptDrops(True)

        self.train = TrainPanel()
        self.pages = tuple(key for key, _ in PAGES)  # every page's key, built or not
        self._built: dict[str, QWidget] = {"train": self.train}
        self._training_run: str | None = None  # for the Runs page, once it is built
        self.stack = QStackedWidget()
        self.stack.addWidget(self.train)
        self._loading = plain(QLabel("Loading PyTorch…", alignment=Qt.AlignCenter))
        self._loading.setProperty("role", "muted")
        self.stack.addWidget(self._loading)
        self.sidebar = QListWidget(objectName="sidebar")
        for key, text in PAGES:
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, key)
            item.setSizeHint(QSize(0, 40))
            self.sidebar.addItem(item)
        self.sidebar.setFixedWidth(196)
        brand_icon = plain(QLabel())
        brand_icon.setPixmap(self.windowIcon().pixmap(30, 30))
        brand = QHBoxLayout()
        brand.setContentsMargins(14, 16, 6, 10)
        brand.addWidget(brand_icon)
        brand.addWidget(plain(QLabel("Generative Studio", objectName="brand")), 1)
        side = QWidget(objectName="sidebarBox")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        side_layout.addLayout(brand)
        side_layout.addWidget(self.sidebar, 1)
        self.help_button = help_button(self, self.shortcuts)
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 8, 0)
        self.about = _about_line()
        foot.addWidget(self.about, 1)
        foot.addWidget(self.help_button)
        side_layout.addLayout(foot)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(side)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        # the status bar speaks for the page on show: the Train page's newest line there; elsewhere,
        # while a run trains, one short line ("Training: step 120 of 400 (Train page)"), else the
        # page's own idle line (IDLE_LINES)
        self._train_status = DROP_HINT  # the Train page's newest line
        self._core_error = ""  # PyTorch could not be loaded: said on every page
        self._status_tick = QTimer(self, interval=1000)  # the short training line, once a second
        self._status_tick.timeout.connect(self._show_status)
        self.status = plain(QLabel(DROP_HINT))  # a run's path, a file's name: shown as they are
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long path never widens the window
        bar = QStatusBar()
        bar.addWidget(self.status, 1)
        self.setStatusBar(bar)

        self.sidebar.currentRowChanged.connect(self._on_sidebar_current_row_changed)
        self.train.run_started.connect(self._on_train_run_started)
        self.train.run_ended.connect(self._on_train_run_ended)
        self.train.status_posted.connect(self._on_train_status_posted)
        for i, (key, _) in enumerate(PAGES):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, activated=self._on_page_shortcut_activated,
                                 whatsThis=f"Show the {PAGE_NAMES[key]} page")
            shortcut.setProperty("page", key)
            self.sidebar.item(i).setToolTip(f"{PAGE_NAMES[key]} ({key_text(shortcut.key())})")
        QShortcut(QKeySequence("F5"), self, activated=self._on_refresh_shortcut_activated,
                  whatsThis="Read the runs folder again (the Runs page's table)")
        QShortcut(QKeySequence.Quit, self, activated=self.close, whatsThis="Quit Generative Studio")
        self.restore_settings()
        preload.when_loaded(self._on_core_loaded, self._on_core_failed)

    # --- pages --------------------------------------------------------------------------
    def show_page(self, key: str) -> None:
        self.sidebar.setCurrentRow(self.pages.index(key))

    @property
    def page(self) -> str:
        return PAGES[self.sidebar.currentRow()][0]

    def page_widget(self, key: str) -> QWidget:
        """The page, built now if this is its first use (it imports torch: call it only when
        ``preload.loaded()``, or from tests and scripts, which never start a preload)."""
        if key not in self._built:
            self._built[key] = page = _build_page(key)
            self.stack.addWidget(page)
            if key == "runs":
                page.resume_requested.connect(self._on_runs_resume_requested)
                page.set_training_run(self._training_run)
        return self._built[key]

    def page_of(self, widget) -> str:
        """The name of the page ``widget`` is on ("" for the sidebar, the status bar, the window)."""
        pages = {page: key for key, page in self._built.items()}
        while widget is not None and widget not in pages:
            widget = widget.parentWidget()
        return PAGE_NAMES[pages[widget]] if widget is not None else ""

    def shortcuts(self) -> list[Shortcut]:
        """Every keyboard shortcut of the window, one row per action (Help ▸ Keyboard shortcuts):
        the pages not built yet are built first, once PyTorch is in (their keys come with them)."""
        if preload.loaded():
            for key in self.pages:
                self.page_widget(key)
        return grouped(window_shortcuts(self, self.page_of), list(PAGE_NAMES.values()))

    runs = property(lambda self: self.page_widget("runs"))
    latent = property(lambda self: self.page_widget("latent"))
    diffusion = property(lambda self: self.page_widget("diffusion"))
    playground = property(lambda self: self.page_widget("playground"))

    @Slot(int)
    def _on_sidebar_current_row_changed(self, row: int) -> None:
        key = PAGES[row][0]
        if key not in self._built and not preload.loaded():
            self.stack.setCurrentWidget(self._loading)  # the page comes once PyTorch is in
            return
        self.stack.setCurrentWidget(self.page_widget(key))
        if key == "runs":
            self.runs.refresh()
        self._show_status()

    @Slot()
    def _show_status(self) -> None:
        """The status bar's line for the page on show (see ``__init__``)."""
        train, text = self.train, self._core_error
        if not text and self.page == "train":
            text = self._train_status
        elif not text and (train.handle is not None or train.state == "preparing"):
            last = train.controls.last
            if last is None:
                text = "Training: starting… (Train page)"
            elif train.state == "paused":
                text = f"Training paused at step {last.step:,} of {last.total:,} (Train page)"
            else:
                text = f"Training: step {last.step:,} of {last.total:,} (Train page)"
        self.status.setText(text or IDLE_LINES[self.page])
        self.status.setToolTip(tip(text))  # clipped when the window is narrow

    @Slot()
    def _on_page_shortcut_activated(self) -> None:
        self.show_page(self.sender().property("page"))

    @Slot()
    def _on_refresh_shortcut_activated(self) -> None:
        if "runs" in self._built:
            self.runs.refresh()

    def _on_core_loaded(self) -> None:
        text = _about_text()
        self.about.setText(text)
        self.about.setToolTip(f"Generative Studio {text.replace(' · ', '; trains on the ')}")
        if self.stack.currentWidget() is self._loading:
            self._on_sidebar_current_row_changed(self.sidebar.currentRow())

    def _on_core_failed(self, message: str) -> None:
        self._loading.setText(f"PyTorch could not be loaded: {message}")
        self._core_error = f"PyTorch could not be loaded ({message}); reinstall with 'bash scripts/setup.sh'"
        self._show_status()

    # --- training <-> runs ----------------------------------------------------------------------
    @Slot(str)
    def _on_train_run_started(self, path: str) -> None:
        self._training_run = path
        self._status_tick.start()
        if "runs" in self._built:
            self.runs.set_training_run(path)

    @Slot(str, str)
    def _on_train_run_ended(self, path: str, status: str) -> None:
        self._training_run = None
        self._status_tick.stop()
        self._show_status()
        if "runs" in self._built:
            self.runs.set_training_run(None)
        if self.page == "runs" and "runs" in self._built:
            self.runs.refresh()

    @Slot(str)
    def _on_train_status_posted(self, message: str) -> None:
        self._train_status = message
        self._show_status()

    @Slot(str, int, object)
    def _on_runs_resume_requested(self, path: str, extra_steps: int, lr: float | None) -> None:
        if self.train.resume_run(path, extra_steps, lr):
            self.show_page("train")

    # --- drag and drop a folder -----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        # before torch has loaded the dataset menu is not there yet (and reading the folder would wait for it)
        if _dropped_folder(event.mimeData()) and not self.train.busy and preload.loaded():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        folder = _dropped_folder(event.mimeData())
        if folder and not self.train.busy and preload.loaded():
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
        if "diffusion" in self._built:
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
    """Version and (once torch has loaded) compute device at the foot of the sidebar."""
    from .. import __version__

    line = plain(QLabel(f"v{__version__}"))
    line.setProperty("role", "muted")
    line.setContentsMargins(18, 8, 8, 12)
    return line


def _about_text() -> str:
    from .. import __version__
    from ..engine.devices import resolve_device

    return f"v{__version__} · {resolve_device('auto').type.upper()}"


def _build_page(key: str) -> QWidget:
    if key == "runs":
        from .panels.runs import RunsPanel as page
    elif key == "latent":
        from .panels.latent import LatentPanel as page
    elif key == "diffusion":
        from .panels.diffusion import DiffusionPanel as page
    elif key == "playground":
        from .panels.playground import PlaygroundPanel as page
    else:
        raise KeyError(key)
    return page()


def _dropped_folder(mime) -> str | None:
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile() and Path(url.toLocalFile()).is_dir():
            return url.toLocalFile()
    return None
