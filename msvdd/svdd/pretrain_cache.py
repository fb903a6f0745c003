"""On-disk cache of pretrained autoencoder weights, shared by the methods of one (group, seed).

The key hashes everything that determines the weights: the training data itself (so dataset,
classes and preprocessing are covered without naming them), the network's hyperparameters, the
pretraining settings, the seed, the torch version, and the source of the whole msvdd package. The
package as a whole, not a list of the files that matter: the pretraining loop, the optimiser
settings, the preprocessing and the networks all shape the weights, and a list would miss the next
such file. Any edit of msvdd's code thus starts a fresh cache, a price paid once per edit.

Entries are written to a temporary file and renamed into place, so two jobs racing on one key never
corrupt it: the last rename wins and both files hold the same weights. ``lock(key)`` (an flock on a
side file) lets a job wait for another that is pretraining the same entry instead of doing the same
work twice. An entry that cannot be used (truncated, another tool's file, the weights of another
network) is ignored with a warning, pretrained again and overwritten: the cache never fails a run.
A folder that cannot be written (a read-only shared cache, a full disk) is read without the lock,
and what is pretrained is not stored, with a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
from pathlib import Path

import torch

from msvdd.files import save_torch
from msvdd.svdd.pretrain import pretrain_autoencoder
from msvdd.svdd.training import DEVICE_ONLY

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the msvdd package whose source keys the cache


def data_fingerprint(x: torch.Tensor) -> str:
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


def cache_key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def source_version() -> str:
    """A hash of every ``.py`` file of the msvdd package (names and contents), computed once per process."""
    return _tree_hash(str(PACKAGE_DIR))


@functools.lru_cache(maxsize=8)
def _tree_hash(folder: str) -> str:
    root, digest = Path(folder), hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached_pretrain(net: torch.nn.Module, x: torch.Tensor, settings, generator: torch.Generator, seed: int,
                    folder: str | os.PathLike, show_progress: bool | None = None) -> tuple[list[float], bool]:
    """``pretrain_autoencoder`` through the cache in ``folder``: (losses, whether the entry was reused).

    On a hit ``net`` gets the cached weights and ``generator`` the state it had after pretraining,
    so what follows (batch order of Deep SVDD) is the same as after a fresh pretraining.
    """
    key = pretrain_key(net, x, settings, seed)
    cache = PretrainCache(folder)
    with cache.lock(key):  # a second job on the same key waits here, then reads the entry
        losses = cache.restore(key, net, generator)
        if losses is not None:
            return losses, True
        losses = pretrain_autoencoder(net, x, settings, generator, show_progress)
        state = {k: v.cpu() for k, v in net.state_dict().items()}
        cache.put(key, {"state": state, "losses": losses, "generator": generator.get_state()})
    return losses, False


def pretrain_key(net: torch.nn.Module, x: torch.Tensor, settings, seed: int) -> str:
    """The entry of pretraining ``net`` on ``x`` with ``settings`` and ``seed`` (also msvdd.stack's)."""
    # Hashing the whole training set costs a pass over it: only when a cache is asked for.
    return cache_key(data=data_fingerprint(x), network=net.hparams, code=source_version(),
                     settings={k: v for k, v in vars(settings).items() if k not in DEVICE_ONLY},
                     seed=seed, torch=torch.__version__)


class PretrainCache:
    """``restore(key, net, generator)`` -> losses or None; ``put(key, entry)`` stores atomically."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.writable = True  # False once the folder refused a write: read what is there, store nothing

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.pt"

    def restore(self, key: str, net: torch.nn.Module, generator: torch.Generator) -> list[float] | None:
        """Load the entry into ``net`` and ``generator`` if it fits them exactly, else change nothing."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
            problem = _misfit(entry, net, generator)
        except Exception as err:  # a truncated file, another tool's file
            problem = f"unreadable ({type(err).__name__}: {' '.join(str(err).split())[:200]})"
        if problem:
            log.warning("pretrain: ignoring cache entry %s: %s; pretraining again", path, problem)
            return None
        # checked above: neither call can fail half-way and leave the network partly loaded
        net.load_state_dict(entry["state"])
        generator.set_state(entry["generator"])
        log.info("pretrain: reusing cached autoencoder %s", path)
        return [float(v) for v in entry["losses"]]

    @contextlib.contextmanager
    def lock(self, key: str):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = open(self.folder / f".{key}.lock", "w")  # noqa: SIM115  closed below
        except OSError as err:
            self._not_writable(err)
            handle = None
        if handle is None:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, key: str, entry: dict) -> Path | None:
        """Store ``entry`` under ``key``; None (and a warning) where the folder cannot be written."""
        if not self.writable:
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return save_torch(self.path(key), entry)
        except OSError as err:
            self._not_writable(err)
            return None

    def _not_writable(self, err: OSError) -> None:
        self.writable = False
        log.warning("pretrain: the cache folder %s cannot be written (%s: %s): its entries are read without a "
                    "lock, and newly pretrained weights are not stored", self.folder,
                    err.strerror or type(err).__name__, err.filename or self.folder)


def _misfit(entry, net: torch.nn.Module, generator: torch.Generator) -> str:
    """Why ``entry`` cannot be loaded into ``net`` and ``generator`` ('' when it can)."""
    if not isinstance(entry, dict) or not {"state", "losses", "generator"} <= set(entry):
        return "not a pretraining entry (needs state, losses and generator)"
    state, own = entry["state"], net.state_dict()
    if not isinstance(state, dict) or set(state) != set(own):
        return "the weights of another network (other layers)"
    for name, weight in own.items():
        theirs = state[name]
        if not isinstance(theirs, torch.Tensor) or theirs.shape != weight.shape or theirs.dtype != weight.dtype:
            found = tuple(theirs.shape) if isinstance(theirs, torch.Tensor) else type(theirs).__name__
            return f"the weights of another network ({name}: {found}, this network {tuple(weight.shape)})"
    gen = entry["generator"]
    if not isinstance(gen, torch.Tensor) or gen.dtype != torch.uint8 or gen.shape != generator.get_state().shape:
        return "no valid random-generator state"
    if not isinstance(entry["losses"], (list, tuple)):
        return "no list of losses"
    return ""
