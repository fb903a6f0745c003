"""Where each dataset's files live under the data root, the download fallback, and the raw-array cache."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from msvdd.data.readers import CIFAR10_FILES, read_cifar10, read_idx
from msvdd.errors import DataNotFoundError

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


def _cifar_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in CIFAR10_FILES)


def _download(torchvision_class: str, root: Path) -> str:
    """Let torchvision download the dataset into ``root``'s standard layout; '' or why it failed."""
    try:
        import torchvision.datasets

        getattr(torchvision.datasets, torchvision_class)(str(root), train=True, download=True)
    except Exception as err:  # noqa: BLE001  no network, read-only root...: all of them mean "not found"
        return " ".join(f"download failed: {type(err).__name__}: {err}".split())[:300]  # one line
    return ""


def _expected(name: str) -> list[str]:
    if name == "cifar10":
        return list(CIFAR10_FILES)
    return [f"{stem}[.gz]" for stem in IDX_FILES]


def _read_idx_set(folder: Path) -> RawArrays:
    paths = _find_idx(folder)
    x_train, y_train, x_test, y_test = (read_idx(paths[stem]) for stem in IDX_FILES)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{folder}: {split} images {x.shape} do not match {split} labels {y.shape}")
        if y.size and y.max() > 9:
            raise ValueError(f"{folder}: {split} labels outside 0..9")
    # one channel: (n, H, W) -> (n, 1, H, W), like CIFAR-10's (n, 3, H, W)
    return x_train[:, None], y_train.astype(np.int64), x_test[:, None], y_test.astype(np.int64)


@functools.lru_cache(maxsize=4)
def raw_arrays(name: str, root: str) -> RawArrays:
    """(x_train, y_train, x_test, y_test) as read-only uint8 images and int64 labels, cached per process.

    ``name`` is a key of LAYOUT, ``root`` the data root. Missing files are downloaded with torchvision
    when possible; otherwise DataNotFoundError names the dataset, the folder and the expected files.
    """
    subfolder, torchvision_class = LAYOUT[name]
    folder = Path(root) / subfolder

    def present() -> bool:
        if name == "cifar10":
            return _cifar_complete(folder)
        return all(p is not None for p in _find_idx(folder).values())

    if not present():
        reason = _download(torchvision_class, Path(root))
        if not present():
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
