"""Shared fixtures: small, real configs composed exactly as `python -m msvdd` composes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
DATA = os.environ.get("MSVDD_DATA")
HAS_DATA = bool(DATA) and Path(DATA).is_dir()
# UMAP's numba functions compile once into the repository's (git-ignored) cache, not once per test folder:
# the folder the per-user default resolves to with XDG_CACHE_HOME=outputs/cache/xdg (test_clustering_costs
# runs without MSVDD_NUMBA_CACHE), so that a fresh clone compiles them once, not twice (about 35 s).
NUMBA_CACHE = str(ROOT / "outputs" / "cache" / "xdg" / "msvdd" / "numba")
os.environ.setdefault("MSVDD_NUMBA_CACHE", NUMBA_CACHE)

# Short schedules that still learn on the 8x8 digits (a full run takes a few seconds).
QUICK = ["pretrain.epochs=30", "pretrain.lr=1e-3", "pretrain.milestones=[20]", "pretrain.batch_size=32",
         "train.epochs=30", "train.lr=1e-3", "train.milestones=[20]", "train.batch_size=32", "plots=false"]


@pytest.fixture
def make_cfg(tmp_path):
    """compose(overrides) -> DictConfig with outputs (and the pretrain cache) under tmp_path."""

    def _compose(*overrides: str):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return compose("config", overrides=[*QUICK, f"paths.root_dir={tmp_path}", *overrides])

    yield _compose
    GlobalHydra.instance().clear()


@pytest.fixture
def no_download(monkeypatch):
    """torchvision's downloads fail as without network; records the roots they were asked for."""
    import torchvision.datasets  # here, not at the top: it takes seconds to import

    calls = []

    def fail(root, *args, **kwargs):
        calls.append(root)
        raise RuntimeError("no network in this test")

    for cls in ("MNIST", "FashionMNIST", "CIFAR10"):
        monkeypatch.setattr(torchvision.datasets, cls, fail)
    return calls


requires_data = pytest.mark.skipif(not HAS_DATA, reason="MSVDD_DATA does not point at a data folder")


@pytest.fixture(scope="session")
def digits():
    """The embedded 8x8 digits, normal classes [0, 1, 3], preprocessed as in every run."""
    from msvdd.data import Digits

    return Digits([0, 1, 3]).load()


TINY = ["pretrain.epochs=2", "train.epochs=2", "plots=false", "threads=1"]  # a run of a few seconds


def run_msvdd(tmp_path, *args, env=None, timeout=300) -> subprocess.CompletedProcess:
    """``python -m msvdd ARGS`` as a user runs it, writing under ``tmp_path`` (MSVDD_OUTPUTS)."""
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path), **(env or {})}
    return subprocess.run([sys.executable, "-m", "msvdd", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)
