"""The Playground page's views: one ``PlaygroundPane``, or two side by side while comparing
(each then compact, naming its own family), with the ``FrameDrawer`` that feeds them the job's
frames. Export PNG saves this widget as it is shown."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from ...playground.compare import loss_points
from ...playground.frame import Layer
from .playground_drawer import FrameDrawer
from .playground_pane import PlaygroundPane
from .playground_toolbar import tab_focus_only


class PlaygroundViews(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pane = PlaygroundPane()
        self.pane_b = PlaygroundPane(drawable=False)
        self.pane_b.set_compact(True)
        self.pane_b.hide()
        self.pane.show_picker(False)  # one family: the page's left column picks it
        self.panes = (self.pane, self.pane_b)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.pane, 1)
        row.addWidget(self.pane_b, 1)
        self.drawer = FrameDrawer(self.panes, self)
        self.b_behind = 0  # steps the right model is behind the left (the left one kept its model)
        tab_focus_only(self)  # the family pickers and view sliders: a click leaves Space to Play

    def show_compare(self, family: str | None, options: dict) -> str:
        """Show ``family`` beside the first view (None: one view); returns its options' error or ""."""
        on = family is not None
        error = self.pane_b.configure(family, options) if on else ""
        self.pane.set_compact(on)
        self.pane.show_picker(on)
        self.pane_b.setVisible(on)
        return error

    def show_data(self, points) -> None:
        """The data alone (no run: while one trains, its frames carry the data)."""
        for pane in self.panes:
            pane.main.show_layers([Layer("points", "data", "data", {"xy": points})])

    def reset(self, keep_left: bool = False) -> None:
        """Forget the run: nothing waits to be drawn, steps and losses back to 0 (``keep_left``:
        the left view's model goes on, its loss curve and step stay)."""
        self.drawer.clear()
        for pane in self.panes[1 if keep_left else 0:]:
            pane.reset()

    def add_losses(self, records: list, pair: bool) -> None:
        """The job's metric records into each view's loss curve (lanes "A" and "B" for a pair)."""
        for pane, lane in zip(self.panes, ("A", "B") if pair else (None,)):
            behind = self.b_behind if lane == "B" else 0  # a pair's records carry the left model's step
            pane.add_losses([(step - behind, loss) for step, loss in loss_points(records, lane)])
