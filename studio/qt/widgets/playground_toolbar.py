"""The Playground page's top row: Play / Pause, Step, Reset, the speed slider (its label says
"N steps/frame"; a "Speed" word beside it made the row too wide for a 1366-px screen), Compare / One
view and the exports. Buttons whose text toggles (Play ↔ Pause, Compare ↔ One view) and the
speed label keep one width, the widest of their texts, so nothing moves under the mouse.

Space plays / pauses wherever the focus is on the page (the page's shortcut), except in a text
field, or on a button the user reached with Tab (Space presses it, the keyboard's way): the
page's buttons, pickers and sliders take the focus by Tab only (``tab_focus_only``), so a click on
Step left Space with Step, and two Spaces stepped twice instead of playing."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractButton, QAbstractSlider, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QWidget)

from ...playground.job import MAX_STEPS_PER_FRAME

PLAY, PAUSE = "▶ Play", "❚❚ Pause"
COMPARE, ONE_VIEW = "Compare", "One view"
MAX_SPEED = MAX_STEPS_PER_FRAME // 4


def fix_width(widget: QAbstractButton | QLabel, texts: tuple[str, ...]) -> None:
    """Give ``widget`` the width of the widest of ``texts`` (its size hint with each), for good."""
    shown = widget.text()
    widths = []
    for text in texts:
        widget.setText(text)
        widths.append(widget.sizeHint().width())
    widget.setText(shown)
    widget.setFixedWidth(max(widths))


class PlaygroundToolbar(QWidget):
    def __init__(self, speed: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.play = QPushButton(PLAY, objectName="primary", toolTip="train and watch (Space)")  # the page's shortcut
        self.play.setProperty("primary", True)  # the style sheet's violet main action (dark.qss)
        self.step_button = QPushButton("Step", toolTip="pause after one frame's worth of steps")
        self.reset = QPushButton("Reset", toolTip="a fresh, untrained model on the same data")
        self.speed = QSlider(Qt.Horizontal, minimum=1, maximum=MAX_SPEED, value=speed)
        self.speed.setFixedWidth(100)
        self.speed.setToolTip("speed: training steps per drawn frame")
        self.speed_label = QLabel()
        self.compare = QPushButton(COMPARE, checkable=True,
                                   toolTip="two families side by side, learning the same data")
        self.export = QPushButton("Export PNG", toolTip="save the view as a picture")
        self.export_gif = QPushButton("Export GIF", toolTip="save the training so far as an animation")
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.play, self.step_button, self.reset, self.speed, self.speed_label, None,
                  self.compare, self.export, self.export_gif):
            bar.addWidget(w) if w is not None else bar.addStretch(1)
        self.show_speed(speed)
        self.ensurePolished()
        for widget, texts in ((self.play, (PLAY, PAUSE)), (self.compare, (COMPARE, ONE_VIEW)),
                              (self.speed_label, (speed_text(MAX_SPEED), speed_text(1)))):
            widget.ensurePolished()
            fix_width(widget, texts)
        tab_focus_only(self)
        # window-wide while the page is shown; a focused text field or Tab-focused button keeps its Space
        self.space = QShortcut(QKeySequence(Qt.Key_Space), self, context=Qt.WindowShortcut)
        self.space.activated.connect(self._on_space_activated)

    @Slot()
    def _on_space_activated(self) -> None:
        if self.play.isEnabled():
            self.play.click()

    def show_playing(self, playing: bool) -> None:
        self.play.setText(PAUSE if playing else PLAY)

    def show_speed(self, speed: int) -> None:
        self.speed_label.setText(speed_text(speed))

    def show_compare(self, on: bool) -> None:
        with QSignalBlocker(self.compare):
            self.compare.setChecked(on)
        self.compare.setText(ONE_VIEW if on else COMPARE)

    def allow_training(self, allowed: bool, why: str = "") -> None:
        """Play and Step only when there is something to train on; ``why`` says what is missing."""
        for button, tip in ((self.play, "train and watch (Space)"),
                            (self.step_button, "pause after one frame's worth of steps")):
            button.setEnabled(allowed)
            button.setToolTip(tip if allowed else why)


def tab_focus_only(root: QWidget) -> None:
    """``root``'s buttons, pickers and sliders (and ``root`` itself if one) take the focus by Tab, not
    by a click: a click leaves the focus where it was, so Space stays the page's Play / Pause."""
    kinds = (QAbstractButton, QComboBox, QAbstractSlider)
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, kinds):
            widget.setFocusPolicy(Qt.TabFocus)


def speed_text(speed: int) -> str:
    return f"{speed} steps/frame"
