"""results.json: the record format of one run (schema, settings id, package versions) and its atomic write."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path

from msvdd.files import write_atomic

SCHEMA = 1
PACKAGES = ("msvdd", "torch", "numpy", "scikit-learn", "hydra-core", "optuna", "pynndescent", "umap-learn", "numba")


def write_json_atomic(path: str | os.PathLike, record: dict) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(record, f, indent=2, default=_jsonable)
            f.write("\n")

    return write_atomic(path, write)


def settings_id(settings: dict) -> str:
    return hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]


def versions() -> dict:
    found = {"python": platform.python_version(), "device": _device_name()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _device_name() -> str:
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu ({platform.machine()})"


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
