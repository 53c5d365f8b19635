"""The Diffusion viewer's Export: a menu button (this step as PNG, the trajectory as a grid, a GIF,
an MP4 once ffmpeg is known to work), a save dialog that refuses a folder it cannot write
(``save_dialog.ask_save_path``), and one export at a time on a job thread (``runner.Latest``):
the button is off from the Save until the file is written, so a second export never silently
replaces the first. The files are the core's (``engine.sampling.export_step`` / ``export_trajectory``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from ...engine.sampling import export_step, export_trajectory
from ...engine.viewer import ViewerState
from ...errors import sentence
from ...export import write_problem
from ..runner import Latest
from .mp4_check import when_mp4_known
from .save_dialog import ask_save_path

EXPORTS = (("This step as PNG…", "step"), ("Whole trajectory as a grid (PNG)…", "grid"),
           ("Denoising animation (GIF)…", "gif"), ("Denoising animation (MP4)…", "mp4"))
EXPORT_NAMES = {"step": ("diffusion-step-{step}.png", "PNG image (*.png)"),
                "grid": ("diffusion-trajectory.png", "PNG image (*.png)"),
                "gif": ("diffusion.gif", "GIF animation (*.gif)"), "mp4": ("diffusion.mp4", "MP4 video (*.mp4)")}


class TrajectoryExport(QObject):
    """Exports of the trajectory ``state`` shows; ``say(line, role)`` puts a line on the page
    ("Exporting d.gif…", "Saved d.gif in F", a refusal or failure in the "error" role)."""

    def __init__(self, parent: QWidget, state: ViewerState, say: Callable[[str, str], None]):
        super().__init__(parent)
        self.state, self.say = state, say
        self.task = Latest(self, "export")
        self.task.succeeded.connect(self._on_task_succeeded)
        self.task.failed.connect(self._on_task_failed)
        self.button = button = QToolButton(parent, text="Export")
        button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(button)
        for text, what in EXPORTS:
            action = menu.addAction(text)
            action.setData(what)
            if what == "mp4":  # never offer what would fail: shown once the check (off this thread) says it works
                action.setVisible(False)
                when_mp4_known(action.setVisible)
        menu.triggered.connect(self._on_menu_triggered)
        button.setMenu(menu)

    def sync(self) -> None:
        """Export is on when a trajectory has steps and no export is being written."""
        traj = self.state.trajectory
        self.button.setEnabled(traj is not None and traj.done > 0 and not self.task.busy)

    @Slot(object)
    def _on_menu_triggered(self, action) -> None:
        traj = self.state.trajectory
        if traj is not None and traj.done and not self.task.busy:
            name, kinds = EXPORT_NAMES[action.data()]
            path = ask_save_path(self.parent(), "Export", name.format(step=self.state.step + 1), kinds, "",
                                 self._refused)
            if path:
                self.export(action.data(), path)

    def export(self, what: str, path: str) -> None:
        """Write export ``what`` (step / grid / gif / mp4) to ``path`` in the background. A path
        that cannot be written (``export.write_problem``) is said in red and nothing starts."""
        if self.task.busy:  # one at a time: a second would silently supersede the first
            return
        problem = write_problem(path, create=True)
        if problem:
            self._refused(sentence(problem))
            return
        traj, image, step = self.state.trajectory, self.state.image, self.state.step
        if what == "step":
            self.task.submit(export_step, traj, step, path, image)
        else:
            self.task.submit(export_trajectory, traj, path, "x_t", image)
        self.say(f"Exporting {Path(path).name}…", "muted")
        self.sync()

    def _refused(self, line: str) -> None:
        self.say(line, "error")

    @Slot(object)
    def _on_task_succeeded(self, path) -> None:
        self.say(f"Saved {Path(str(path)).name} in {Path(str(path)).parent}", "muted")
        self.sync()

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        self.say(message, "error")
        self.sync()  # an export that failed gives Export back
