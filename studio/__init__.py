"""Generative Studio: train, watch and explore small generative models, offline.

The package is split into a Qt-free core (everything outside ``studio.qt``) and a thin
Qt layer. Importing ``studio`` or any core module never imports PySide6.
"""

__version__ = "0.1.0"
