"""The Playground page's exports: a PNG of the views, and a GIF of the training so far.

The GIF is drawn from the frames the page recorded while the model trained (numpy ``Frame``s,
kept by ``studio.playground.recording.FrameRecorder``, at most a hundred or so), not from
screenshots taken while it trained, which would have cost the UI thread a grab every frame.
On export, hidden panes like the page's draw each recorded frame (with the loss curve up to
that step) a few frames per event-loop turn, so the window stays responsive; the pictures are
then written by ``studio.export.save_gif`` on a job thread.

The path is checked before anything is drawn (``studio.export.write_problem``: an unwritable
folder is one red line on the status line, and the dialog's folder is not remembered); Export GIF
is disabled while a GIF is drawn or written; closing the window then hides it at once and lets
the GIF finish (``_CloseWaiter``), so a chosen file is written whole, never half."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QWidget

from ...errors import sentence
from ...export import save_gif, write_problem
from ...playground.compare import FramePair
from ..runner import JobHandle, runner
from .cards import ElidedLabel, set_role
from .edit_canvas import qimage_to_array
from .playground_pane import PlaygroundPane
from .save_dialog import ask_save_path

GIF_FPS = 12
PANE_SIZE = {False: (900, 480), True: (520, 560)}  # one family (full pane), or each of two (compact)
FRAMES_PER_TURN = 1  # each costs a draw and a grab (20-40 ms): the window stays responsive between
CLOSE_WAIT_S = 120.0  # closing the window: how long a GIF being written may take to finish (hidden)


class StatusLine(ElidedLabel):
    """The page's one status line: ``say(text, role)`` shows an error in red; any later plain
    ``setText`` is muted again, so a stale error colour never sticks to the next line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(role="muted", parent=parent)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self.say(text)

    @Slot(str, str)
    def say(self, text: str, role: str = "muted") -> None:
        super().setText(text)
        set_role(self, role)


def saved_line(path: str | Path, detail: str = "") -> str:
    path = Path(path)
    return f"Saved {path.name} in {path.parent}" + (f" ({detail})" if detail else "")


def export_png(parent: QWidget, views: QWidget, name: str = "playground.png",
               path: str | None = None) -> tuple[str, str]:
    """Save ``views`` as a PNG at ``path`` (asked for with the save dialog when None); returns the
    status line and its role: ("Saved …", "muted"), ("Can't write to F (…): choose another
    folder", "error"), or ("", "muted") when the dialog was cancelled."""
    refused = []
    path = path or ask_save_path(parent, "Export the playground as PNG", name, "PNG image (*.png)", "",
                                 refused.append)
    problem = refused[0] if refused else write_problem(path, create=True) if path else None
    if problem:
        return sentence(problem), "error"
    if not path:
        return "", "muted"
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # like every other export (studio.export)
    if views.grab().save(path, "PNG"):
        return saved_line(path), "muted"
    return f"Could not write {Path(path).name} in {Path(path).parent}: choose another folder or name", "error"


class GifExport(QObject):
    """The Playground's Export GIF. ``button`` (Export GIF) is disabled from the moment a GIF
    is asked for until it is written or has failed."""

    said = Signal(str, str)  # a status line and its role: progress, then "Saved …" or the error in red
    done = Signal(str)  # the path written

    def __init__(self, parent: QObject | None = None, button: QAbstractButton | None = None):
        super().__init__(parent)
        self.handle: JobHandle | None = None
        self.button = button
        self._stage: QWidget | None = None
        self._path = ""
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._closing = _CloseWaiter(self)

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or (self.handle is not None and self.handle.running)

    def _set_busy(self, busy: bool) -> None:
        if self.button is not None:
            self.button.setEnabled(not busy)
        self._closing.watch(busy)

    def ask_and_save(self, frames: list, panes: tuple[PlaygroundPane, ...], name: str) -> None:
        if not frames:
            self.said.emit("Nothing to export yet: press Play (or Step) first; the GIF shows the training so far",
                           "muted")
            return
        if self.busy:  # the button is disabled meanwhile; a shortcut or a script still says why
            self.said.emit(f"Still writing {Path(self._path).name}: export again once it is saved", "error")
            return
        path = ask_save_path(self.parent(), "Export the training as GIF", name, "GIF animation (*.gif)", "",
                             self._refuse)
        if path:
            self.save(frames, panes, path)

    def _refuse(self, line: str) -> None:
        self.said.emit(line, "error")

    def save(self, frames: list, panes: tuple[PlaygroundPane, ...], path: str) -> None:
        """Draw ``frames`` in panes configured like ``panes`` and write them to ``path``; a path
        that cannot be written, or a GIF still being made, is said (in red) before any drawing."""
        if not frames:
            return
        if self.busy:
            self.said.emit(f"Still writing {Path(self._path).name}: export again once it is saved", "error")
            return
        problem = write_problem(path, create=True)
        if problem:
            self._refuse(sentence(problem))
            return
        self._set_busy(True)
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
        self.said.emit(f"Drawing the GIF: frame {len(self._pictures)} of {len(self._pictures) + len(self._todo)}",
                       "muted")
        if not self._todo:
            self._timer.stop()
            self._finish_drawing()

    def _finish_drawing(self) -> None:
        pictures, path = self._pictures, self._path
        self._stage.deleteLater()
        self._stage, self._panes, self._pictures = None, [], []
        self.said.emit(f"Writing {Path(path).name} ({len(pictures)} frames)…", "muted")

        def job(reporter, control):  # cancelled between frames; the file is written in one go at the end
            return str(save_gif(pictures, path, fps=GIF_FPS, check=control.check))

        self.handle = runner().start(job, name="playground-gif")
        self.handle.finished.connect(self._on_handle_finished)
        self._count = len(pictures)

    @Slot(object)
    def _on_handle_finished(self, outcome) -> None:
        self._set_busy(False)
        if outcome.ok:
            a, b = self._steps
            self.said.emit(saved_line(outcome.result, f"{self._count} frames, steps {a:,}–{b:,}"), "muted")
            self.done.emit(outcome.result)
        elif outcome.status != "cancelled":  # export.WriteError: "Can't write to F (…): choose another folder"
            self.said.emit(outcome.error or f"Could not write {Path(self._path).name}", "error")

    def finish(self, timeout_s: float = CLOSE_WAIT_S) -> bool:
        """Draw what is left at once and wait (at most ``timeout_s``) for the file: the window is
        closing. True when nothing is left to do."""
        while self._timer.isActive():
            self._on_timer_timeout()
        if self.handle is not None:
            self.handle.wait(timeout_s)
        return not self.busy

    def cancel(self) -> None:
        self._timer.stop()
        if self._stage is not None:
            self._stage.deleteLater()
            self._stage = None
        if self.handle is not None:
            self.handle.cancel()
        self._set_busy(False)


class _CloseWaiter(QObject):
    """While a GIF is being made, closing the window hides it at once and finishes the GIF
    before the window's own close (which cancels every job) runs: the chosen file is written
    whole, and no hidden temporary file is left. Watches the top-level window's Close event."""

    def __init__(self, export: GifExport):
        super().__init__(export)
        self.export = export
        self._window: QWidget | None = None

    def watch(self, on: bool) -> None:
        parent = self.export.parent()
        window = parent.window() if on and isinstance(parent, QWidget) else None
        if window is self._window:
            return
        if self._window is not None:
            self._window.removeEventFilter(self)
        self._window = window
        if window is not None:
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Close and self.export.busy and watched is self._window:
            watched.hide()  # off the screen now; the process ends once the GIF is written
            self.export.finish()
        return False
