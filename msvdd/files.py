"""Files written whole or not at all: a temp file in the same folder, then a rename.

A killed job or a full disk never leaves a partial file under the final name, and a failed write
leaves no temp file behind.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """``write(temp path)`` in the same folder, then rename: a killed job or a full disk never leaves a
    partial file, and a failed write leaves no temp file behind."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        if err.filename is None:  # a failed write() names no file: name the one the user knows
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_torch(path: str | os.PathLike, obj) -> Path:
    """torch.save, atomically. Serialised in memory first: torch reports a full disk as a cryptic
    RuntimeError ("unexpected pos"), a plain write as OSError(ENOSPC), which msvdd turns into one line."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_atomic(path, lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))


def save_npz(path: str | os.PathLike, **arrays) -> Path:
    """numpy.savez, atomically (built in memory first, as save_torch)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_atomic(path, lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))


def write_csv(path: str | os.PathLike, columns: dict) -> Path:
    """One row per item, one column per key (equal lengths); floats written exactly (repr), atomically."""
    names = list(columns)
    cells = [[repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in columns[n]] for n in names]

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(names)
            writer.writerows(zip(*cells))

    return write_atomic(path, write)
