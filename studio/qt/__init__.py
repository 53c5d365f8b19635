"""The Qt layer: the studio window. Only this package imports PySide6 / pyqtgraph."""
