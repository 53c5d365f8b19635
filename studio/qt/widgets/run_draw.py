""""Draw samples" for the Runs page: 8 fresh samples from a run's latest weights, a new seed
each press, a class picker for class-conditional runs; a PixelCNN is drawn pixel by pixel on
the preview strip, and the same button (or Ctrl+D) stops it. The drawing runs through the
window's runner (``Latest``), so switching runs or closing the window cancels it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from ...engine.drawing import draw_classes, draw_samples
from ..runner import Latest
from .image_view import PreviewStrip


class RunDrawer(QWidget):
    drawn = Signal(object)  # the finished grid (uint8 H×W×C)

    def __init__(self, previews: PreviewStrip, parent: QWidget | None = None):
        super().__init__(parent)
        self.previews = previews
        self.path: str | None = None
        self.seed = 0
        self.drawing = False
        self.draw_class = QComboBox()
        self.draw_class.setToolTip("The class to draw (class-conditional runs)")
        self.draw_class.hide()
        self.draw_button = QPushButton()
        self._show_drawing(False)
        self.draw_button.setMinimumWidth(self.draw_button.sizeHint().width())  # it reads "Stop" while drawing
        self.draw_button.clicked.connect(self._on_draw_clicked)
        QShortcut(QKeySequence("Ctrl+D"), parent or self, context=Qt.WidgetWithChildrenShortcut).activated.connect(
            self._on_draw_clicked)
        self.task = Latest(self, "draw")
        self.task.partial.connect(self._on_task_partial)
        self.task.progressed.connect(self._on_task_progressed)
        self.task.succeeded.connect(self._on_task_succeeded)
        self.task.failed.connect(self._on_task_failed)
        self._classes = Latest(self, "draw-classes")
        self._classes.succeeded.connect(self._on_classes_succeeded)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.draw_class)
        row.addWidget(self.draw_button)

    def set_run(self, path: str | None, can_draw: bool = False) -> None:
        """The run to draw from (``None``: none chosen); its class list is read in the background."""
        if path != self.path:
            self.stop()
            self.path = path
            self.draw_class.clear()  # until the run's classes are known
            self.draw_class.hide()
            if path:
                self._classes.submit(draw_classes, path)
        self.draw_button.setEnabled(bool(path) and can_draw)

    def stop(self) -> None:
        if self.drawing:
            self.task.cancel()
            self._show_drawing(False)
            self.previews.view.set_image(self.previews.current()[1] if self.previews.current() else None)

    @Slot(object)
    def _on_classes_succeeded(self, names: list[str]) -> None:
        self.draw_class.clear()
        if names:
            self.draw_class.addItem("One of each class", None)
            for i, name in enumerate(names):
                self.draw_class.addItem(name, i)
        self.draw_class.setVisible(bool(names))

    @Slot()
    def _on_draw_clicked(self) -> None:
        if self.drawing:
            self.stop()
            self.previews.set_note("Stopped.")
            return
        if not self.path or not self.draw_button.isEnabled():
            return
        label_value = self.draw_class.currentData() if self.draw_class.count() else None
        self.seed += 1
        self.task.submit(draw_samples, self.path, 8, label_value, self.seed, with_progress=True)
        self._show_drawing(True)
        self.previews.set_note("Drawing…")

    def _show_drawing(self, drawing: bool) -> None:
        self.drawing = drawing
        self.draw_button.setText("Stop" if drawing else "Draw samples")
        self.draw_button.setToolTip("Stop drawing (Ctrl+D)" if drawing else
                                    "Draw 8 new samples from the run's latest weights, a new seed each time "
                                    "(Ctrl+D); a PixelCNN draws them pixel by pixel")

    @Slot(object)
    def _on_task_partial(self, grid) -> None:
        self.previews.view.set_image(grid)

    @Slot(int, int)
    def _on_task_progressed(self, done: int, total: int) -> None:
        if total > 1:
            self.previews.set_note(f"Drawing pixel by pixel… {done:,} of {total:,} pixels")

    @Slot(object)
    def _on_task_succeeded(self, grid) -> None:
        self._show_drawing(False)
        self.drawn.emit(grid)
        what = self.draw_class.currentText() if self.draw_class.count() else "new samples"
        self.previews.set_note(f"Drawn: {what.lower() if what.startswith('One') else what}, seed {self.seed}")

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self._show_drawing(False)
        self.previews.set_note(f"Could not draw: {message}")
