"""Draws the Generative Studio icon with QPainter: noise pixels condensing into a sparkle
(what the models do). Writes studio-{16,32,64,256}.png, studio.ico, check.png (the tick of
check boxes) and chevron.png (combo boxes' arrow) next to this file.

    python resources/icons/make_icon.py
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath,  # noqa: E402
                           QPen, QRadialGradient)

HERE = Path(__file__).resolve().parent
SIZES = (16, 32, 64, 256)


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    p.scale(size / 256, size / 256)

    # tile: deep indigo to violet, soft corners
    tile = QRectF(8, 8, 240, 240)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomRight())
    gradient.setColorAt(0.0, QColor("#2c2266"))
    gradient.setColorAt(0.55, QColor("#5b3fc4"))
    gradient.setColorAt(1.0, QColor("#e0709f"))
    p.setPen(Qt.NoPen)
    p.setBrush(gradient)
    p.drawRoundedRect(tile, 54, 54)

    # noise pixels, denser and fainter far from the sparkle (top left)
    if size >= 32:
        rng = random.Random(7)
        cell = 24
        for row in range(8):
            for col in range(8):
                distance = ((col - 6.2) ** 2 + (row - 5.8) ** 2) ** 0.5
                if distance < 3.2 or rng.random() > 0.55:
                    continue
                alpha = int(min(150, 30 + 14 * distance) * rng.uniform(0.4, 1.0))
                p.setBrush(QColor(255, 255, 255, alpha))
                p.drawRoundedRect(QRectF(28 + col * cell, 28 + row * cell, cell - 6, cell - 6), 4, 4)

    # the sparkle: a four-pointed star with a glow
    centre, r = QPointF(150, 140), 92 if size >= 32 else 104
    glow = QRadialGradient(centre, r)
    glow.setColorAt(0.0, QColor(255, 240, 250, 170))
    glow.setColorAt(1.0, QColor(255, 240, 250, 0))
    p.setBrush(glow)
    p.drawEllipse(centre, r, r)
    star = QPainterPath()
    pinch = 0.22 * r
    points = [QPointF(centre.x(), centre.y() - r), QPointF(centre.x() + r, centre.y()),
              QPointF(centre.x(), centre.y() + r), QPointF(centre.x() - r, centre.y())]
    star.moveTo(points[0])
    for i in range(4):
        nxt = points[(i + 1) % 4]
        star.quadTo(QPointF(centre.x() + (pinch if i in (0, 1) else -pinch),
                            centre.y() + (pinch if i in (1, 2) else -pinch)), nxt)
    p.setBrush(QColor("#fffaff"))
    p.drawPath(star)
    p.end()
    return image


def draw_check(size: int = 32) -> QImage:
    """The tick of checked check boxes (the style sheet's indicator image)."""
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    pen = QPen(QColor("#15131f"), size * 0.14, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
    p.setPen(pen)
    p.drawPolyline([QPointF(size * 0.24, size * 0.52), QPointF(size * 0.42, size * 0.70),
                    QPointF(size * 0.76, size * 0.32)])
    p.end()
    return image


def draw_chevron(size: int = 32) -> QImage:
    """The down arrow of combo boxes (the style sheet's drop-down image)."""
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QPen(QColor("#b8bccb"), size * 0.12, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
    p.drawPolyline([QPointF(size * 0.22, size * 0.38), QPointF(size * 0.5, size * 0.66),
                    QPointF(size * 0.78, size * 0.38)])
    p.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)  # noqa: F841
    for size in SIZES:
        draw(size).save(str(HERE / f"studio-{size}.png"))
    draw_check().save(str(HERE / "check.png"))
    draw_chevron().save(str(HERE / "chevron.png"))
    try:
        from PIL import Image

        images = [Image.open(HERE / f"studio-{s}.png") for s in SIZES]
        images[-1].save(HERE / "studio.ico", sizes=[(s, s) for s in SIZES], append_images=images[:-1])
    except ImportError:
        print("Pillow missing: studio.ico not written", file=sys.stderr)
    print(f"wrote {', '.join(f'studio-{s}.png' for s in SIZES)} and studio.ico to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
