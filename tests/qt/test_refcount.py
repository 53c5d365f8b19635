"""PySide6 6.12.0 on CPython 3.11 decrements the refcount of None/True on some calls until
Python aborts ("Fatal Python error: none_dealloc"). pyproject excludes it; this catches a
return of the bug in whichever PySide6 is installed."""

import sys

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QLabel

CALLS = 20_000


class _Emitter(QObject):
    fired = Signal(object)


class _Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    @Slot(object)
    def on_fired(self, value):
        self.count += 1


def test_none_and_true_refcounts_do_not_fall(qapp):
    label, image = QLabel(), QImage(64, 64, QImage.Format_RGB32)
    emitter, receiver = _Emitter(), _Receiver()
    emitter.fired.connect(receiver.on_fired)
    painter = QPainter(image)
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(CALLS):
        label.setText("step")
        label.setVisible(True)
        painter.drawLine(0, 0, i % 64, 63)
        emitter.fired.emit(None)
    painter.end()
    assert receiver.count == CALLS
    # a few references may come and go; the bug loses one per call
    assert sys.getrefcount(None) > before_none - CALLS // 10
    assert sys.getrefcount(True) > before_true - CALLS // 10
