"""Where each dataset's files live under the data root, the download fallback, and the raw-array cache.

A download goes into a temporary folder and only complete files are moved into the data root, one
atomic rename each: a download that fails half-way (no network, a full disk, a killed job) leaves the
user's data root exactly as it was.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from msvdd.data.readers import CIFAR10_FILES, check_labels, read_cifar10, read_idx
from msvdd.errors import DataFileError, DataNotFoundError
from msvdd.files import write_atomic

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# dataset name -> (folder under the root, torchvision class that downloads into that folder)
LAYOUT = {
    "mnist": ("MNIST/raw", "MNIST"),
    "fashion_mnist": ("FashionMNIST/raw", "FashionMNIST"),
    "cifar10": ("cifar-10-batches-py", "CIFAR10"),
}

RawArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _find_idx(folder: Path) -> dict[str, Path | None]:
    """Each IDX file's path (uncompressed preferred, else ``.gz``), or None when neither exists."""
    found = {}
    for stem in IDX_FILES:
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found[stem] = next((p for p in candidates if p.is_file()), None)
    return found


def _missing(name: str, folder: Path) -> list[str]:
    """The files (IDX: stems, either form counts) the dataset needs that ``folder`` lacks."""
    if name == "cifar10":
        return [f for f in CIFAR10_FILES if not (folder / f).is_file()]
    return [stem for stem, path in _find_idx(folder).items() if path is None]


def _download(name: str, root: Path) -> str:
    """Download the dataset into a temporary folder with torchvision, then move the files ``root`` lacks
    into its standard layout, only when every one of them arrived; '' or why it failed (one line)."""
    subfolder, torchvision_class = LAYOUT[name]
    folder = root / subfolder
    staging = Path(tempfile.mkdtemp(prefix="msvdd-download-"))
    try:
        import torchvision.datasets

        getattr(torchvision.datasets, torchvision_class)(str(staging), train=True, download=True)
        fetched = staging / subfolder
        moves = {}
        for wanted in _missing(name, folder):
            options = [fetched / wanted] if name == "cifar10" else [fetched / wanted, fetched / f"{wanted}.gz"]
            moves[wanted] = next((p for p in options if p.is_file()), None)
        if None in moves.values():
            lacking = [w for w, p in moves.items() if p is None]
            return f"download gave no {', '.join(lacking)}"
        folder.mkdir(parents=True, exist_ok=True)
        for source in moves.values():
            _move_into(source, folder)
    except Exception as err:  # noqa: BLE001  no network, read-only root...: all of them mean "not found"
        return " ".join(f"download failed: {type(err).__name__}: {err}".split())[:300]  # one line
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ""


def _move_into(source: Path, folder: Path) -> None:
    """Copy next to the target under a temporary name, then rename: the target is whole or absent."""
    write_atomic(folder / source.name, lambda tmp: shutil.copyfile(source, tmp))


def _expected(name: str) -> list[str]:
    if name == "cifar10":
        return list(CIFAR10_FILES)
    return [f"{stem}[.gz]" for stem in IDX_FILES]


def _read_idx_set(folder: Path) -> RawArrays:
    paths = _find_idx(folder)
    arrays = []
    for split in ("train", "t10k"):
        images, labels = paths[f"{split}-images-idx3-ubyte"], paths[f"{split}-labels-idx1-ubyte"]
        x, y = read_idx(images, magic=2051), read_idx(labels, magic=2049)
        if len(x) != len(y):
            raise DataFileError(labels, f"{len(y)} labels for the {len(x)} images of {images.name}")
        check_labels(labels, y)
        # one channel: (n, H, W) -> (n, 1, H, W), like CIFAR-10's (n, 3, H, W)
        arrays += [x[:, None], y.astype(np.int64)]
    return tuple(arrays)


@functools.lru_cache(maxsize=4)
def raw_arrays(name: str, root: str) -> RawArrays:
    """(x_train, y_train, x_test, y_test) as read-only uint8 images and int64 labels, cached per process.

    ``name`` is a key of LAYOUT, ``root`` the data root. Missing files are downloaded with torchvision
    when possible; otherwise DataNotFoundError names the dataset, the folder and the expected files.
    """
    folder = Path(root) / LAYOUT[name][0]
    if _missing(name, folder):
        reason = _download(name, Path(root))
        if _missing(name, folder):
            raise DataNotFoundError(name, folder, _expected(name), reason or "download gave no files")
    arrays = read_cifar10(folder) if name == "cifar10" else _read_idx_set(folder)
    for a in arrays:
        a.setflags(write=False)  # shared by every load() of this process: nobody may change it
    return arrays


@functools.lru_cache(maxsize=1)
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits: uint8 images (1797, 1, 8, 8) with values 0..16, int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.uint8).reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y
