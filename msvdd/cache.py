"""On-disk cache of pretrained autoencoder weights, shared by the methods of one (group, seed).

The key hashes everything that determines the weights: the training data itself (so dataset,
classes and preprocessing are covered without naming them), the network's hyperparameters and
source code version, the pretraining settings, the seed and the torch version. Entries are written
to a temporary file and renamed into place, so two jobs racing on one key never corrupt it: the
last rename wins and both files hold the same weights. ``lock(key)`` (an flock on a side file) lets
a job wait for another that is pretraining the same entry instead of doing the same work twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import torch

log = logging.getLogger(__name__)


def data_fingerprint(x: torch.Tensor) -> str:
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


def cache_key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


class PretrainCache:
    """``get(key)`` -> state dict or None; ``put(key, state)`` stores atomically. Counts hits and misses."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.hits = self.misses = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.pt"

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        if path.exists():
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
                self.hits += 1
                log.info("pretrain: reusing cached autoencoder %s", path)
                return state
            except Exception as err:  # a truncated file from another tool: treat as absent
                log.warning("pretrain: ignoring unreadable cache entry %s (%s)", path, err)
        self.misses += 1
        return None

    @contextlib.contextmanager
    def lock(self, key: str):
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f".{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, key: str, state: dict) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(state, tmp)
            os.replace(tmp, self.path(key))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.path(key)
