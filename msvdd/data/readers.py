"""msvdd's own readers for the standard dataset files (IDX for MNIST-type data, pickles for CIFAR-10).

The readers check the files' structure (magic numbers, sizes) instead of MD5 sums, so re-compressed or
re-encoded copies of the datasets (see the data README) load as long as their content is well formed.
Every way a file can be wrong ends in one DataFileError naming that file: a user fixes a data folder
from one line, not from a traceback into gzip or pickle.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

from msvdd.errors import DataFileError

# IDX magic number -> number of dimensions (both hold unsigned bytes: type code 0x08).
IDX_MAGIC = {2049: 1, 2051: 3}

CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
CIFAR10_FILES = (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError; a bad deflate stream, zlib's
        raise DataFileError(path, f"cannot read the file ({type(err).__name__}: {err})") from None


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (MNIST format), gzip-compressed or not.

    Magic 2049 gives the labels, shape (n,); magic 2051 the images, shape (n, rows, cols). The header is
    big-endian. ``magic``, when given, is the one the file must have. Raises DataFileError (a ValueError)
    naming the file when it cannot be read or its magic number or size is wrong.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFileError(path, f"not an IDX file (only {len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    wanted = IDX_MAGIC if magic is None else {magic: IDX_MAGIC[magic]}
    if found not in wanted:
        names = " or ".join(f"{m} ({'labels' if IDX_MAGIC[m] == 1 else 'images'})" for m in wanted)
        raise DataFileError(path, f"wrong IDX magic number {found}; expected {names}")
    ndim = IDX_MAGIC[found]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(path, f"truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataFileError(path, f"wrong size {len(raw)} bytes; the header {shape} needs {expected} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


class _BatchUnpickler(pickle.Unpickler):
    """Rebuilds plain containers and numpy arrays only, so a data file cannot run code when loaded."""

    ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
        }
    )

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} has no place in a CIFAR-10 batch")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise
    except Exception as err:  # truncated or garbled pickle: many exception types are possible
        raise DataFileError(path, f"not a CIFAR-10 pickle batch ({type(err).__name__}: {str(err)[:200]})") from None
    batch = batch if isinstance(batch, dict) else {}
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataFileError(path, "not a CIFAR-10 batch (no dict with 'data' and 'labels' entries)")
    try:
        data, labels = np.asarray(data), np.asarray(labels)
    except ValueError as err:  # ragged lists
        raise DataFileError(path, f"not a CIFAR-10 batch ({err})") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.dtype != np.uint8:
        raise DataFileError(path, f"wrong CIFAR-10 data {data.dtype} {data.shape}; expected uint8 (n, 3072)")
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise DataFileError(path, f"{labels.size} labels of type {labels.dtype} for {data.shape[0]} images; "
                            "expected one integer label per image")
    check_labels(path, labels)
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def check_labels(path, labels: np.ndarray, n_classes: int = 10) -> None:
    """Labels must be class ids 0..n_classes-1: anything else would silently become a class of its own."""
    bad = np.unique(labels[(labels < 0) | (labels >= n_classes)])
    if bad.size:
        raise DataFileError(path, f"labels outside 0..{n_classes - 1}: {bad[:10].tolist()}")


def read_cifar10(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read CIFAR-10's python batches from ``folder`` (``data_batch_1..5``, ``test_batch``).

    Returns (x_train, y_train, x_test, y_test): uint8 images (n, 3, 32, 32) and int64 labels.
    """
    folder = Path(folder)
    train = [_read_cifar_batch(folder / name) for name in CIFAR10_TRAIN_BATCHES]
    x_test, y_test = _read_cifar_batch(folder / CIFAR10_TEST_BATCH)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test
