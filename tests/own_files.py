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
