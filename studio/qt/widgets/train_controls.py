"""Start / Pause / Stop with their keys (Ctrl+Enter, Space, Esc or Ctrl+.), the progress bar and
one line saying what is happening or why not."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QProgressBar, QPushButton, QSizePolicy, QToolButton,
                               QWidget)

from ...engine import Progress
from .cards import ElidedLabel, label, make_opaque, set_role
from .wrap_text import WrapText

SHOW_HZ = 5  # progress shown at most this often


class TrainControls(QWidget):
    start_requested = Signal()  # Start, or Ctrl+Enter while the page is shown
    pause_requested = Signal()  # Pause / Resume, or Space, while running or paused
    stop_requested = Signal()  # Stop, Esc or Ctrl+., while running, paused or preparing

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.start_button = QPushButton("▶  Start")
        self.start_button.setProperty("primary", True)
        self.start_button.setToolTip("Start training a new run (Ctrl+Enter)")
        self.pause_button = QPushButton("❚❚  Pause")
        self.pause_button.setToolTip("Pause / resume (Space)")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setProperty("danger", True)
        self.stop_button.setToolTip("Stop after this step and save a checkpoint (Esc or Ctrl+.)")
        self.settings_button = QToolButton(text="⚙  Settings", checkable=True, checked=True)
        self.settings_button.setToolTip("Show or hide the run settings (hidden while training, to give the "
                                        "curves and samples room)")
        self.bar = QProgressBar(maximum=1000, textVisible=False)
        self.bar.setFixedHeight(10)
        self.headline = label("Ready", "title")
        self.detail = ElidedLabel("", "muted")  # the secondary stats give way (…, all in the tooltip)
        self.message = WrapText("", "muted")  # a 150-character run path wraps in the card, copies as it is
        # the headline (a few short words: "Step 73 of 400", "Stopped at step 40") is never cut; the
        # detail elides and the message wraps: neither widens the window
        self.headline.setSizePolicy(QSizePolicy.Minimum, QSizePolicy.Preferred)
        self.message.setSizePolicy(QSizePolicy.Ignored, self.message.sizePolicy().verticalPolicy())

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for b in (self.settings_button, self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        buttons.insertSpacing(1, 8)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(20)
        grid.setVerticalSpacing(6)
        grid.addLayout(buttons, 0, 0, 2, 1, Qt.AlignVCenter)
        grid.addWidget(self.headline, 0, 1)
        self.detail.setAlignment(Qt.AlignRight | Qt.AlignBottom)
        grid.addWidget(self.detail, 0, 2)
        grid.addWidget(self.bar, 1, 1, 1, 2)
        grid.addWidget(self.message, 2, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 2)  # the detail line (rate, time left, next samples) gets its share
        self.last: Progress | None = None  # the newest progress
        self._shown: Progress | None = None  # the one on screen
        self._pace = QTimer(self, singleShot=True, interval=1000 // SHOW_HZ)
        self._pace.timeout.connect(self._on_pace_timeout)
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.shortcuts: dict[str, QShortcut] = {}  # window-wide; Space and Esc only while their button works
        for keys, slot in ((("Ctrl+Return", "Ctrl+Enter"), self._on_start_key), (("Space",), self.pause_requested),
                           (("Esc", "Ctrl+."), self.stop_requested)):
            for key in keys:
                self.shortcuts[key] = QShortcut(QKeySequence(key), self, context=Qt.WindowShortcut)
                self.shortcuts[key].activated.connect(slot)
        self.set_state("idle")
        make_opaque(self)

    def set_state(self, state: str) -> None:
        """idle | blocked (idle, Start not possible) | preparing (Start clicked, waiting for PyTorch
        or the images; Stop cancels it) | running | paused | stopping | opening"""
        self.start_button.setEnabled(state == "idle")
        self.start_button.setText("Preparing…" if state == "preparing" else "▶  Start")
        self.pause_button.setEnabled(state in ("running", "paused"))
        self.pause_button.setText("▶  Resume" if state == "paused" else "❚❚  Pause")
        self.stop_button.setEnabled(state in ("running", "paused", "preparing"))
        for key, button in (("Space", self.pause_button), ("Esc", self.stop_button), ("Ctrl+.", self.stop_button)):
            self.shortcuts[key].setEnabled(button.isEnabled())

    @Slot()
    def _on_start_key(self) -> None:
        if self.isVisible():  # the Train page is shown (another page may have the window)
            self.start_requested.emit()

    def set_message(self, text: str, role: str = "muted") -> None:
        self.message.setText(text)
        set_role(self.message, role)

    def show_progress(self, p: Progress) -> None:
        """Show a job's progress: at once when nothing was shown in the last ``1 / SHOW_HZ`` s,
        else the newest one when that time is up (``last`` is always the newest). Every label
        change re-lays out and repaints the page on the UI thread: at the runner's 25 Hz that
        was a third of the window's UI-thread time while training (studio bench ui)."""
        if p.paused:  # the clock stops: no ETA running down while nothing trains
            self._settle()
            self.headline.setText(f"Paused at step {p.step:,} of {p.total:,}")
            self.detail.setText("paused  ·  time left resumes with training")
            return
        self.last = p
        if not self._pace.isActive():
            self._show(p)

    def _settle(self) -> None:
        """Nothing pending: what is shown next must not be replaced by an older progress."""
        self._pace.stop()
        self._shown = self.last

    @Slot()
    def _on_pace_timeout(self) -> None:
        if self.last is not None and self.last is not self._shown:
            self._show(self.last)

    def _show(self, p: Progress) -> None:
        self._shown = p
        self._pace.start()  # nothing more shown until it times out
        self.bar.setValue(round(1000 * p.step / max(1, p.total)))
        self.headline.setText(f"Step {p.step:,} of {p.total:,}")
        parts = [f"epoch {p.epoch + 1}", f"{p.images_per_s:,.0f} images/s"]
        if math.isfinite(p.eta_s):
            parts.append(f"{_duration(p.eta_s)} left")
        if p.next_preview is not None and p.next_preview > p.step:
            soon = ""
            if math.isfinite(p.eta_s) and p.total > p.step:
                soon = f" (in {_duration(p.eta_s * (p.next_preview - p.step) / (p.total - p.step))})"
            parts.append(f"next samples at step {p.next_preview:,}{soon}")
        self.detail.setText("  ·  ".join(parts))

    def show_outcome(self, status: str) -> None:
        """The headline once a job has ended."""
        self._settle()
        step = f"{self.last.step:,}" if self.last else "0"
        headlines = {"finished": f"Finished · {step} steps", "stopped": f"Stopped at step {step}",
                     "diverged": "Diverged", "failed": "Failed"}
        self.headline.setText(headlines.get(status, status.capitalize()))
        if status == "finished":
            self.bar.setValue(1000)
        if self.last:
            self.detail.setText(f"epoch {self.last.epoch + 1}  ·  {self.last.images_per_s:,.0f} images/s")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s // 60 % 60:02d} min"
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s} s"
