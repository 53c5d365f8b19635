"""The Playground page's exports: a PNG of the views, and a GIF of the training so far.

The GIF is drawn from the frames the page recorded while the model trained (numpy ``Frame``s,
kept by ``studio.playground.recording.FrameRecorder``, at most a hundred or so), not from
screenshots taken while it trained, which would have cost the UI thread a grab every frame.
On export, hidden panes like the page's draw each recorded frame (with the loss curve up to
that step) a few frames per event-loop turn, so the window stays responsive; the pictures are
then written by ``studio.export.save_gif`` on a job thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ...export import save_gif
from ...playground.compare import FramePair
from ..runner import JobHandle, runner
from .edit_canvas import qimage_to_array
from .playground_pane import PlaygroundPane
from .save_dialog import ask_save_path

GIF_FPS = 12
PANE_SIZE = {False: (900, 480), True: (520, 560)}  # one family (full pane), or each of two (compact)
FRAMES_PER_TURN = 1  # each costs a draw and a grab (20-40 ms): the window stays responsive between


def saved_line(path: str | Path, detail: str = "") -> str:
    path = Path(path)
    return f"Saved {path.name} in {path.parent}" + (f" ({detail})" if detail else "")


def export_png(parent: QWidget, views: QWidget, name: str = "playground.png", path: str | None = None) -> str:
    """Save ``views`` as a PNG at ``path`` (asked for with the save dialog when None); returns the
    status line ("" when the dialog was cancelled)."""
    path = path or ask_save_path(parent, "Export the playground as PNG", name, "PNG image (*.png)")
    if not path:
        return ""
    return saved_line(path) if views.grab().save(path, "PNG") else f"Could not write {path}"


class GifExport(QObject):
    said = Signal(str)  # a status line: progress, then "Saved …" or the error
    done = Signal(str)  # the path written

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.handle: JobHandle | None = None
        self._stage: QWidget | None = None
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or (self.handle is not None and self.handle.running)

    def ask_and_save(self, frames: list, panes: tuple[PlaygroundPane, ...], name: str) -> None:
        if not frames:
            self.said.emit("Nothing to export yet: press Play (or Step) first; the GIF shows the training so far")
            return
        path = ask_save_path(self.parent(), "Export the training as GIF", name, "GIF animation (*.gif)")
        if path:
            self.save(frames, panes, path)

    def save(self, frames: list, panes: tuple[PlaygroundPane, ...], path: str) -> None:
        """Draw ``frames`` in panes configured like ``panes`` and write them to ``path``."""
        if self.busy or not frames:
            return
        pair = isinstance(frames[0], FramePair)
        self._stage = QWidget()
        self._stage.setAttribute(Qt.WA_DontShowOnScreen)
        row = QHBoxLayout(self._stage)
        row.setContentsMargins(6, 6, 6, 6)
        self._panes = []
        for live in panes[:2 if pair else 1]:
            pane = PlaygroundPane(drawable=False)
            pane.configure(live.family.currentData(), live.options)
            pane.set_compact(pair)
            pane.setting_row.hide()
            pane.show_title()
            pane._loss = tuple(list(v) for v in live._loss)
            row.addWidget(pane)
            self._panes.append(pane)
        w, h = PANE_SIZE[pair]
        self._stage.resize(w * len(self._panes), h)
        self._stage.show()
        self._todo, self._pictures, self._path = list(frames), [], path
        self._steps = (frames[0].step, frames[-1].step)
        self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        for _ in range(FRAMES_PER_TURN):
            if not self._todo:
                break
            frame = self._todo.pop(0)
            for pane, part in zip(self._panes, frame.frames if isinstance(frame, FramePair) else (frame,)):
                pane.show_frame(part)
                pane.flush_loss(upto_step=part.step)
            self._stage.layout().activate()  # legends grown to their wrapped height before the grab
            self._pictures.append(qimage_to_array(self._stage.grab().toImage())[..., :3])
        self.said.emit(f"Drawing the GIF: frame {len(self._pictures)} of {len(self._pictures) + len(self._todo)}")
        if not self._todo:
            self._timer.stop()
            self._finish_drawing()

    def _finish_drawing(self) -> None:
        pictures, path = self._pictures, self._path
        self._stage.deleteLater()
        self._stage, self._panes, self._pictures = None, [], []
        self.said.emit(f"Writing {Path(path).name} ({len(pictures)} frames)…")

        def job(reporter, control):
            control.check()
            return str(save_gif(pictures, path, fps=GIF_FPS))

        self.handle = runner().start(job, name="playground-gif")
        self.handle.finished.connect(self._on_handle_finished)
        self._count = len(pictures)

    @Slot(object)
    def _on_handle_finished(self, outcome) -> None:
        if outcome.ok:
            a, b = self._steps
            self.said.emit(saved_line(outcome.result, f"{self._count} frames, steps {a:,}–{b:,}"))
            self.done.emit(outcome.result)
        elif outcome.status != "cancelled":
            self.said.emit(f"Could not write {self._path}: {outcome.error}")

    def cancel(self) -> None:
        self._timer.stop()
        if self._stage is not None:
            self._stage.deleteLater()
            self._stage = None
        if self.handle is not None:
            self.handle.cancel()
