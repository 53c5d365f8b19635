"""Writes resources/icons/studio.icns (the macOS app icon) from the same drawing as the other
icons (resources/icons/make_icon.py), at every size macOS asks for, with Pillow.

    python packaging/make_icns.py
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
sys.path.insert(0, str(ICONS))

from make_icon import draw  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QBuffer, QIODevice  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

SIZES = (16, 32, 64, 128, 256, 512, 1024)  # the ICNS types of the 1x and 2x icon sets


def render(size: int) -> Image.Image:
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    draw(size).save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)  # noqa: F841
    images = [render(size) for size in SIZES]
    out = ICONS / "studio.icns"
    images[-1].save(out, format="ICNS", append_images=images[:-1])
    print(f"wrote {out} ({', '.join(map(str, SIZES))} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
