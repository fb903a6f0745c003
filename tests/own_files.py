"""Small real files of the user-data layouts, written from scikit-learn's embedded 8x8 digits:
PNG folders (Pillow), .npz / .npy arrays and CSV / Parquet tables. Shared by the own-data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.datasets import load_digits

NORMAL, ANOMALY = (0, 1), (7,)


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (1797, 8, 8) with values 0..240 and their digit labels."""
    d = load_digits()
    return (d.images * 15).astype(np.uint8), d.target.astype(np.int64)


def save_png(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def write_split_folder(root: Path) -> Path:
    """train/<digit>/ for the normal digits, test/good/ (normal) and test/seven/ (anomalies)."""
    x, y = digit_images()
    rng = np.random.default_rng(0)
    for i in np.flatnonzero(np.isin(y, NORMAL + ANOMALY)):
        if y[i] in ANOMALY:
            sub = "test/seven"
        else:
            sub = f"train/{y[i]}" if rng.random() < 0.7 else "test/good"
        save_png(root / sub / f"{i:04d}.png", x[i])
    return root


def write_class_folder(root: Path) -> Path:
    """One subfolder per digit (ImageFolder layout) for the normal and anomalous digits."""
    x, y = digit_images()
    for i in np.flatnonzero(np.isin(y, NORMAL + ANOMALY)):
        save_png(root / str(y[i]) / f"{i:04d}.png", x[i])
    return root


def digit_arrays() -> dict[str, np.ndarray]:
    """x_train/y_train of the normal digits, x_test/labels_test of normal + anomalous digits."""
    x, y = digit_images()
    keep = np.flatnonzero(np.isin(y, NORMAL + ANOMALY))
    rng = np.random.default_rng(1)
    is_test = rng.random(len(keep)) < 0.3
    test = keep[is_test | np.isin(y[keep], ANOMALY)]
    train = keep[~is_test & np.isin(y[keep], NORMAL)]
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "labels_test": y[test]}


def digit_table() -> pd.DataFrame:
    """64 pixel columns and a 'digit' label column, for the normal and anomalous digits."""
    x, y = digit_images()
    keep = np.isin(y, NORMAL + ANOMALY)
    df = pd.DataFrame(x[keep].reshape(-1, 64).astype(np.float64), columns=[f"p{i}" for i in range(64)])
    df["digit"] = y[keep]
    return df


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    """Every file under ``folder`` with its size and modification time: proof that nothing was written."""
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def copy_as_16_bit(source: Path, target: Path, kind: str = "png", every: int = 1) -> Path:
    """Every PNG under ``source`` again under ``target`` at 16 bits, values v * 257 (8-bit 255 -> 65535):
    ``png`` (Pillow mode I;16), ``tiff`` (big-endian I;16B) or ``tiff32`` (mode I); ``every`` > 1 converts
    only every such file and copies the others as they are (a folder of both depths)."""
    for i, p in enumerate(sorted(source.rglob("*.png"))):
        q = target / p.relative_to(source)
        q.parent.mkdir(parents=True, exist_ok=True)
        a = np.array(Image.open(p))
        if i % every:
            Image.fromarray(a).save(q)
        elif kind == "png":
            Image.fromarray(a.astype(np.uint16) * 257).save(q)
        elif kind == "tiff":
            Image.fromarray((a.astype(np.uint16) * 257).astype(">u2")).save(q.with_suffix(".tif"))
        else:
            Image.fromarray(a.astype(np.int32) * 257).save(q.with_suffix(".tif"))
    return target


def huge_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A small file whose PNG header claims ``width`` x ``height`` pixels (over Pillow's decompression-bomb
    limit by default): Pillow refuses it when opening, before reading any pixel."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def make_read_only(folder: Path, monkeypatch) -> None:
    """``folder`` read-only: chmod where that binds (not root); for root, every write under it fails with
    EROFS, as on a read-only mount (open for writing, temporary files, new folders)."""
    import builtins
    import errno
    import os
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    probe = folder / ".probe"
    try:
        probe.touch()
    except OSError:
        return  # the permissions hold
    probe.unlink()
    folder.chmod(0o755)
    inside = lambda p: Path(p).absolute().is_relative_to(folder)  # noqa: E731

    def refuse(p):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(p))

    real_open, real_mkstemp, real_mkdir = builtins.open, tempfile.mkstemp, os.mkdir

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and set(mode) & set("wax+") and inside(file):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002  tempfile's own name
        if dir is not None and inside(dir):
            refuse(dir)
        return real_mkstemp(*args, dir=dir, **kwargs)

    def mkdir(path, *args, **kwargs):
        if inside(path) and not Path(path).exists():
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "mkdir", mkdir)
