"""studio.data.decode: every mode x transparency Pillow opens, large images, the concurrency
budget, and a fuzz of mutated files (the decoder returns an image or an UnreadableImage, nothing else)."""

import io
import random
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import studio.data.decode as decode
from studio.data import DatasetError, load_dataset
from studio.data.decode import UnreadableImage, decode_image

WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def quads(tl, tr, bl, br, dtype=None) -> np.ndarray:
    """A 16×16 array whose 8×8 quadrants hold the four given values (scalars or tuples)."""
    first = np.asarray(tl)
    a = np.empty((16, 16, *first.shape), dtype=dtype or np.result_type(*map(np.asarray, (tl, tr, bl, br))))
    a[:8, :8], a[:8, 8:], a[8:, :8], a[8:, 8:] = tl, tr, bl, br
    return a


def gray(v):
    return (v, v, v)


# ---------------------------------------------------------------- hand-written files Pillow cannot save

def png_bytes(samples: np.ndarray, color_type: int, depth: int, chunks=()) -> bytes:
    """A PNG straight from samples (any bit depth Pillow cannot write: 2/4-bit gray, 16-bit RGB(A)/LA)."""
    a = np.asarray(samples)
    h, w = a.shape[:2]
    if depth < 8:
        per = 8 // depth
        packed = np.zeros((h, (w + per - 1) // per), np.uint8)
        for x in range(w):
            packed[:, x // per] |= (a[:, x].astype(np.uint8) << (8 - depth * (x % per + 1))).astype(np.uint8)
        rows = [packed[y].tobytes() for y in range(h)]
    else:
        rows = [a[y].astype(">u2" if depth == 16 else "u1").tobytes() for y in range(h)]
    raw = b"".join(b"\0" + r for r in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + b"".join(chunk(k, d) for k, d in chunks)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bmp_bgra(rgba: np.ndarray) -> bytes:
    """A 32-bit BMP with a BITMAPV4HEADER and an alpha mask (what image editors write)."""
    h, w = rgba.shape[:2]
    pixels = rgba[::-1][..., [2, 1, 0, 3]].astype(np.uint8).tobytes()  # bottom-up BGRA
    dib = struct.pack("<IiiHHIIiiII", 108, w, h, 1, 32, 3, len(pixels), 2835, 2835, 0, 0)
    dib += struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000) + b"BGRs" + bytes(48)
    return b"BM" + struct.pack("<IHHI", 14 + len(dib) + len(pixels), 0, 0, 14 + len(dib)) + dib + pixels


def saved(mode, pixels, fmt, **kw):
    def write(path):
        if isinstance(pixels, np.ndarray):  # 16/32-bit modes come from the array's dtype
            im = Image.fromarray(pixels) if mode in ("I;16", "I", "F") else Image.fromarray(pixels, mode)
        else:
            im = pixels
        im.save(path, fmt, **kw)
    return write


def raw(data: bytes):
    return lambda path: path.write_bytes(data)


def palette_image(indices: np.ndarray, colors) -> Image.Image:
    im = Image.fromarray(indices.astype(np.uint8), "P")
    im.putpalette([c for rgb in colors for c in rgb])
    return im


G16 = quads(0, 30000, 65535, 25700, np.uint16)  # -> 0, 117 (30000/257 = 116.7), 255, 100
RGB16 = quads((65535, 0, 0), (0, 30000, 0), (257 * 40, 257 * 50, 257 * 60), (1000, 2000, 3000), np.uint16)
INDICES = quads(0, 1, 2, 3, np.uint8)
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]

# name -> (suffix, writer, expected RGB quadrants, tolerance). A transparent quadrant must be WHITE.
CASES = {
    "png-1": (".png", saved("L", quads(0, 255, 255, 0, np.uint8), "PNG", bits=1),
              (BLACK, WHITE, WHITE, BLACK), 0),
    "png-1-trns": (".png", raw(png_bytes(quads(0, 1, 1, 0), 0, 1, [(b"tRNS", struct.pack(">H", 0))])),
                   (WHITE, WHITE, WHITE, WHITE), 0),
    "png-L": (".png", saved("L", quads(0, 100, 200, 255, np.uint8), "PNG"),
              (BLACK, gray(100), gray(200), WHITE), 0),
    "png-L-trns": (".png", saved("L", quads(50, 100, 200, 0, np.uint8), "PNG", transparency=0),
                   (gray(50), gray(100), gray(200), WHITE), 0),
    "png-L2-trns": (".png", raw(png_bytes(quads(1, 2, 3, 0), 0, 2, [(b"tRNS", struct.pack(">H", 0))])),
                    (gray(85), gray(170), WHITE, WHITE), 0),
    "png-L4-trns": (".png", raw(png_bytes(quads(1, 6, 15, 3), 0, 4, [(b"tRNS", struct.pack(">H", 3))])),
                    (gray(17), gray(102), WHITE, WHITE), 0),
    "png-LA": (".png", saved("LA", quads((0, 255), (100, 255), (0, 128), (0, 0), np.uint8), "PNG"),
               (BLACK, gray(100), gray(127), WHITE), 1),
    "png-P-index": (".png", saved("P", palette_image(INDICES, COLORS), "PNG", transparency=3),
                    ((255, 0, 0), (0, 255, 0), (0, 0, 255), WHITE), 0),
    "png-P-alpha": (".png", saved("P", palette_image(INDICES, COLORS), "PNG", transparency=bytes([255, 128, 255, 0])),
                    ((255, 0, 0), (127, 255, 127), (0, 0, 255), WHITE), 1),
    "png-RGB-trns": (".png", saved("RGB", quads((1, 2, 3), (0, 0, 0), (200, 100, 0), (10, 20, 30), np.uint8), "PNG",
                                   transparency=(10, 20, 30)),
                     ((1, 2, 3), BLACK, (200, 100, 0), WHITE), 0),
    "png-RGBA": (".png", saved("RGBA", quads((255, 0, 0, 255), (0, 0, 0, 128), (0, 0, 255, 255), (0, 0, 0, 0),
                                             np.uint8), "PNG"),
                 ((255, 0, 0), gray(127), (0, 0, 255), WHITE), 1),
    "png-I16": (".png", saved("I;16", G16, "PNG"), (BLACK, gray(117), WHITE, gray(100)), 1),
    "png-I16-trns": (".png", raw(png_bytes(quads(0, 30000, 1001, 1000, np.uint16), 0, 16,
                                           [(b"tRNS", struct.pack(">H", 1000))])),
                     (BLACK, gray(117), gray(4), WHITE), 1),
    "png-RGB16": (".png", raw(png_bytes(RGB16, 2, 16)),
                  ((255, 0, 0), (0, 117, 0), (40, 50, 60), (4, 8, 12)), 1),
    "png-RGB16-trns": (".png", raw(png_bytes(RGB16, 2, 16, [(b"tRNS", struct.pack(">HHH", 1000, 2000, 3000))])),
                       ((255, 0, 0), (0, 117, 0), (40, 50, 60), WHITE), 1),
    "png-RGBA16": (".png", raw(png_bytes(np.dstack([RGB16, quads(65535, 65535, 32896, 0, np.uint16)]), 6, 16)),
                   ((255, 0, 0), (0, 117, 0), (147, 152, 157), WHITE), 1),
    "png-LA16": (".png", raw(png_bytes(np.dstack([G16, quads(65535, 65535, 0, 65535, np.uint16)]), 4, 16)),
                 (BLACK, gray(117), WHITE, gray(100)), 1),
    "tiff-I16": (".tif", saved("I;16", G16, "TIFF"), (BLACK, gray(117), WHITE, gray(100)), 1),
    "tiff-I-16bit-range": (".tif", saved("I", G16.astype(np.int32), "TIFF"), (BLACK, gray(117), WHITE, gray(100)), 1),
    "tiff-I-8bit-range": (".tif", saved("I", quads(0, 100, 200, -5, np.int32), "TIFF"),
                          (BLACK, gray(100), gray(200), BLACK), 0),
    "tiff-F-unit": (".tif", saved("F", quads(0.0, 0.5, 1.0, np.nan, np.float32), "TIFF"),
                    (BLACK, gray(128), WHITE, BLACK), 1),
    "tiff-F-255": (".tif", saved("F", quads(0.0, 100.0, 255.0, -3.0, np.float32), "TIFF"),
                   (BLACK, gray(100), WHITE, BLACK), 0),
    "tiff-CMYK": (".tif", saved("CMYK", quads((0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 255), np.uint8),
                                "TIFF"), (WHITE, (0, 255, 255), (255, 0, 0), BLACK), 0),
    "jpeg-CMYK": (".jpg", saved("CMYK", quads((0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 255), np.uint8),
                                "JPEG", quality=100), (WHITE, (0, 255, 255), (255, 0, 0), BLACK), 3),
    "tiff-YCbCr": (".tif", saved("YCbCr", quads((0, 128, 128), (255, 128, 128), (100, 128, 128), (76, 85, 255),
                                                np.uint8), "TIFF"), (BLACK, WHITE, gray(100), (254, 0, 0)), 2),
    # raw LAB bytes carry a*, b* signed (as in the TIFF file): 0 is neutral
    "tiff-LAB": (".tif", saved("LAB", quads((0, 0, 0), (255, 0, 0), (128, 0, 0), (128, 0, 0), np.uint8), "TIFF"),
                 (BLACK, WHITE, gray(119), gray(119)), 2),
    "tiff-RGBA": (".tif", saved("RGBA", quads((255, 0, 0, 255), (0, 0, 0, 0), (0, 0, 0, 128), (9, 9, 9, 255),
                                              np.uint8), "TIFF"), ((255, 0, 0), WHITE, gray(127), gray(9)), 1),
    "tiff-LA": (".tif", saved("LA", quads((0, 255), (0, 0), (50, 255), (0, 128), np.uint8), "TIFF"),
                (BLACK, WHITE, gray(50), gray(127)), 1),
    "tiff-P": (".tif", saved("P", palette_image(INDICES, COLORS), "TIFF"),
               ((255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)), 0),
    "tiff-1": (".tif", saved("L", quads(0, 255, 255, 0, np.uint8), "TIFF"), (BLACK, WHITE, WHITE, BLACK), 0),
    "gif-trns": (".gif", saved("P", palette_image(INDICES, COLORS), "GIF", transparency=3),
                 ((255, 0, 0), (0, 255, 0), (0, 0, 255), WHITE), 0),
    "gif-animated": (".gif", lambda p: palette_image(INDICES, COLORS).save(
                         p, "GIF", save_all=True, append_images=[palette_image(3 - INDICES, COLORS)], transparency=0),
                     (WHITE, (0, 255, 0), (0, 0, 255), (10, 20, 30)), 0),
    "webp-RGBA-lossless": (".webp", saved("RGBA", quads((255, 0, 0, 255), (0, 0, 0, 0), (0, 0, 255, 255),
                                                        (0, 0, 0, 128), np.uint8), "WEBP", lossless=True),
                           ((255, 0, 0), WHITE, (0, 0, 255), gray(127)), 1),
    "webp-RGB-lossy": (".webp", saved("RGB", quads((255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128), np.uint8),
                                      "WEBP", quality=100), ((255, 0, 0), (0, 255, 0), (0, 0, 255), gray(128)), 12),
    "bmp-RGB": (".bmp", saved("RGB", quads((255, 0, 0), (0, 255, 0), (0, 0, 255), (1, 2, 3), np.uint8), "BMP"),
                ((255, 0, 0), (0, 255, 0), (0, 0, 255), (1, 2, 3)), 0),
    "bmp-P": (".bmp", saved("P", palette_image(INDICES, COLORS), "BMP"),
              ((255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)), 0),
    "bmp-1": (".bmp", saved("L", quads(0, 255, 255, 0, np.uint8), "BMP", bits=1), (BLACK, WHITE, WHITE, BLACK), 0),
    "bmp-BGRA": (".bmp", raw(bmp_bgra(quads((255, 0, 0, 255), (0, 0, 0, 0), (0, 0, 0, 128), (5, 6, 7, 255),
                                            np.uint8))), ((255, 0, 0), WHITE, gray(127), (5, 6, 7)), 1),
    "jpeg-L": (".jpg", saved("L", quads(0, 100, 200, 255, np.uint8), "JPEG", quality=100),
               (BLACK, gray(100), gray(200), WHITE), 2),
    "jpeg-RGB": (".jpg", saved("RGB", quads((255, 0, 0), (0, 255, 0), (0, 0, 255), gray(128), np.uint8), "JPEG",
                               quality=100, subsampling=0), ((255, 0, 0), (0, 255, 0), (0, 0, 255), gray(128)), 3),
}


def _fix_one_bit(name, path):
    """Pillow writes mode '1' only from a '1' image; the writers above give L for readability."""
    if name in ("png-1", "tiff-1", "bmp-1"):
        im = Image.open(path).convert("1")
        im.save(path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_mode_and_transparency(tmp_path, name):
    suffix, write, expected, tol = CASES[name]
    path = tmp_path / f"{name}{suffix}"
    write(path)
    _fix_one_bit(name, path)
    out = decode_image(path, 16)
    assert out.dtype == np.uint8 and out.shape == (16, 16, 3)
    want = quads(*expected, dtype=np.int16)
    # compare quadrant interiors (lossy formats ring at the quadrant edges)
    inner = (slice(2, 6), slice(10, 14))
    for rows in inner:
        for cols in inner:
            diff = np.abs(out[rows, cols].astype(np.int16) - want[rows, cols]).max()
            assert diff <= tol, (name, rows, cols, out[rows, cols][0, 0], want[rows, cols][0, 0])


def test_the_matrix_covers_what_files_produce(tmp_path):
    """Each case really gives the mode it is named for (HSV: no file format stores it)."""
    modes = {}
    for name, (suffix, write, _, _) in CASES.items():
        path = tmp_path / f"{name}{suffix}"
        write(path)
        _fix_one_bit(name, path)
        with Image.open(path) as im:
            modes[name] = (im.mode, "transparency" in im.info)
    assert modes["png-I16-trns"] == ("I;16", True) and modes["png-RGB16-trns"] == ("RGB", True)
    assert modes["png-L2-trns"] == ("L", True) and modes["png-1-trns"][0] == "1"
    assert modes["png-P-alpha"] == ("P", True) and modes["gif-trns"] == ("P", True)
    assert {modes[k][0] for k in ("tiff-I-8bit-range", "tiff-F-unit", "tiff-CMYK", "tiff-YCbCr", "tiff-LAB")} == \
        {"I", "F", "CMYK", "YCbCr", "LAB"}
    assert modes["bmp-BGRA"][0] == "RGBA" and modes["png-LA16"][0] in ("LA", "RGBA")


def test_hsv_and_premultiplied_modes_convert(monkeypatch):
    for mode, value, want in (("HSV", (0, 255, 255), (255, 0, 0)), ("RGBa", (0, 0, 0, 0), WHITE),
                              ("La", (50, 255), gray(50)), ("RGBX", (1, 2, 3, 0), (1, 2, 3))):
        im = decode._straight(Image.new(mode, (4, 4), value), None)
        assert tuple(decode._on_white(im)[0, 0]) == want, mode


def test_exif_orientation_is_applied_after_the_crop(tmp_path):
    im = Image.new("RGB", (32, 16), (0, 0, 255))
    im.paste((255, 0, 0), (8, 0, 24, 8))  # red across the top half of the centre square
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated 90° counter-clockwise: show it turned clockwise
    im.save(tmp_path / "r.png", exif=exif)
    out = decode_image(tmp_path / "r.png", 16)
    assert out[8, 12, 0] > 250 and out[8, 3, 2] > 250  # red now on the right, blue on the left


# ---------------------------------------------------------------- large images

def test_large_images_are_reduced_before_any_copy(tmp_path, monkeypatch):
    calls = []
    real = Image.Image.reduce

    def spy(self, factor, box=None):
        calls.append((self.size, factor, box))
        return real(self, factor, box)

    monkeypatch.setattr(Image.Image, "reduce", spy)
    Image.new("RGB", (1000, 600), (10, 200, 30)).save(tmp_path / "big.png")
    assert tuple(decode_image(tmp_path / "big.png", 32)[5, 5]) == (10, 200, 30)
    assert calls == [((1000, 600), 9, (200, 0, 800, 600))]  # 600 / (32 · 2) -> 9, the centre square
    calls.clear()
    Image.new("RGB", (1024, 1024), (200, 0, 0)).save(tmp_path / "big.jpg", quality=95)
    decode_image(tmp_path / "big.jpg", 32)
    assert calls[0][0] == (128, 128) and calls[0][1] == 2  # JPEG drafted at 1/8 scale first


def test_small_images_are_not_reduced(tmp_path, monkeypatch):
    monkeypatch.setattr(Image.Image, "reduce", lambda *a, **k: pytest.fail("reduce on a small image"))
    Image.new("RGB", (100, 90), (1, 2, 3)).save(tmp_path / "s.png")
    assert tuple(decode_image(tmp_path / "s.png", 32)[0, 0]) == (1, 2, 3)


def test_pixel_budget_is_first_come_first_served_and_bounded():
    budget = decode._PixelBudget(100)
    order, peak, lock = [], [0], threading.Lock()

    def job(name, pixels, hold):
        weight = budget.acquire(pixels)
        with lock:
            order.append(name)
            peak[0] = max(peak[0], budget.used)
        time.sleep(hold)
        budget.release(weight)

    first = budget.acquire(60)
    threads = [threading.Thread(target=job, args=(n, p, 0.02), daemon=True)
               for n, p in (("big", 500), ("a", 30), ("b", 30))]
    for t in threads:
        t.start()
        time.sleep(0.02)  # start in this order
    time.sleep(0.05)
    assert order == []  # "big" waits for the first holder; "a" and "b" queue behind it
    budget.release(first)
    for t in threads:
        t.join(5)
    assert order == ["big", "a", "b"] and peak[0] <= 100 and budget.used == 0


def test_folder_load_stays_within_the_budget(tmp_path, monkeypatch):
    import studio.data.folder as folder

    budget = decode._PixelBudget(2 * 64 * 64)  # two of these images at a time, of 8 threads
    seen, real = [], budget.acquire

    def acquire(pixels):
        weight = real(pixels)
        seen.append(budget.used)
        time.sleep(0.005)  # hold it long enough for the other threads to queue
        return weight

    monkeypatch.setattr(folder.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(budget, "acquire", acquire)
    monkeypatch.setattr(decode, "_budget", budget)
    for i in range(12):
        Image.new("RGB", (64, 64), (i * 20, 0, 0)).save(tmp_path / f"{i:02d}.png")
    ds = load_dataset(f"folder:{tmp_path}", resolution=8)
    assert len(ds) == 12 and len(seen) == 12 and max(seen) <= 2 * 64 * 64 and budget.used == 0
    assert [int(v) for v in ds.images[:, 0, 4, 4]] == [i * 20 for i in range(12)]


@pytest.mark.slow
def test_a_12000_square_png_decodes_in_bounded_memory(tmp_path):
    """Just under Pillow's bomb limit (2 × 89.5 Mpx): one full-size copy (Pillow keeps RGB in
    4 bytes a pixel: 576 MB), not the ~1.5 GB of decode + transpose + convert copies."""
    path = tmp_path / "huge.png"
    im = Image.new("RGB", (12000, 12000), (30, 60, 90))
    im.paste((250, 250, 250), (4000, 4000, 8000, 8000))
    im.save(path, compress_level=1)
    del im
    code = ("import resource, sys, warnings; warnings.simplefilter('ignore');"
            "from studio.data.decode import decode_image;"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
            f"a = decode_image({str(path)!r}, 32);"
            "print(a[16, 16].tolist(), a[1, 1].tolist(), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    centre, corner, grown_mb = out.stdout.split("]")[0] + "]", out.stdout.split("]")[1] + "]", int(out.stdout.split()[-1])
    assert "250, 250, 250" in centre and "30, 60, 90" in corner
    assert grown_mb < 800, f"decoding grew the RSS by {grown_mb} MB"


# ---------------------------------------------------------------- fuzz

def _seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    out = {}
    for fmt, im, kw in (("PNG", noise, {}), ("PNG", noise.convert("RGBA"), {}), ("JPEG", noise, {"quality": 80}),
                        ("GIF", noise.convert("P"), {}), ("BMP", noise, {}), ("PNG", noise.convert("P"), {"transparency": 2}),
                        ("JPEG", noise, {"progressive": True})):
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        out[f"{fmt.lower()}-{im.mode}-{len(out)}"] = buf.getvalue()
    return out


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.5:  # flip bytes, biased towards the header where the structure lives
            i = rng.randrange(min(len(b), 64)) if rng.random() < 0.5 else rng.randrange(len(b))
            b[i] = rng.randrange(256)
        elif kind < 0.7:
            del b[rng.randrange(len(b)):]  # truncate
        elif kind < 0.85:
            i = rng.randrange(len(b))
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            i, j = sorted(rng.randrange(len(b)) for _ in range(2))
            del b[i:j]
    return bytes(b or b"\0")


class _Hang(Exception):
    pass


def test_fuzzed_files_decode_or_are_skipped_with_a_reason(tmp_path):
    """400 seeded mutations of valid PNG/JPEG/GIF/BMP files: each gives a uint8 (16, 16, 3)
    array or an UnreadableImage (a DatasetError) with a reason, within 5 s."""
    def alarm(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    rng = random.Random(1234)
    seeds = _seeds()
    counts = {"decoded": 0, "skipped": 0}
    try:
        for trial in range(400):
            name = rng.choice(sorted(seeds))
            data = _mutate(seeds[name], rng)
            path = tmp_path / f"f{trial}.{name.split('-')[0]}"
            path.write_bytes(data)
            signal.alarm(5)
            try:
                out = decode_image(path, 16)
            except UnreadableImage as exc:
                assert isinstance(exc, DatasetError) and str(exc), (trial, name)
                counts["skipped"] += 1
            except _Hang:
                pytest.fail(f"decoding mutation {trial} of {name} took over 5 s")
            else:
                assert out.dtype == np.uint8 and out.shape == (16, 16, 3), (trial, name)
                counts["decoded"] += 1
            finally:
                signal.alarm(0)
            path.unlink()
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert counts["decoded"] > 20 and counts["skipped"] > 20, counts  # both outcomes exercised


def test_not_regular_and_empty_files_are_reasons(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "zero.png").write_bytes(b"")
    with pytest.raises(UnreadableImage, match="not a regular file"):
        decode_image(tmp_path / "pipe.png", 8)
    with pytest.raises(UnreadableImage, match="0 bytes"):
        decode_image(tmp_path / "zero.png", 8)
    with pytest.raises(UnreadableImage, match="cannot read"):
        decode_image(tmp_path / "missing.png", 8)
