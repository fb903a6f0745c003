"""What the user-data sources (folder, arrays, table) share: the checks of their data, the one-class
data they build, and a seeded per-class split.

Every problem with the user's data is a ConfigError naming the config field, the value and what would
work: one line, exit code 2, raised while loading, before any training and before any file is written.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from msvdd.data.datasets import OneClassData
from msvdd.data.prepare import image_preprocessing, prepare_images
from msvdd.data.preprocess import apply_min_max, fit_min_max, gcn_l1, to_float
from msvdd.errors import ConfigError


class OwnDataset:
    """Base of the user-data datasets: arguments checked at creation, data read (once) by ``load()``.

    Unlike the benchmarks, the input shape is known only from the data, so ``input_shape`` loads it.
    """

    name: ClassVar[str]
    n_classes = None  # no fixed class list: class groups (group.size) do not apply

    def load(self) -> OneClassData:
        if getattr(self, "_data", None) is None:
            self._data = self._load()
        return self._data

    def _load(self) -> OneClassData:
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.load().x_train.shape[1:])


def existing_path(field: str, path, allowed: str, folder: bool | None = None) -> Path:
    """``path`` as an absolute Path; ConfigError when it is not set or does not exist."""
    if path is None or path == "" or not isinstance(path, (str, os.PathLike)):
        raise ConfigError(field, path, allowed, "not set")
    p = Path(path).expanduser().absolute()
    if not p.exists():
        raise ConfigError(field, str(path), allowed, "no such file or folder")
    if folder is True and not p.is_dir():
        raise ConfigError(field, str(path), allowed, "not a folder")
    if folder is False and not p.is_file():
        raise ConfigError(field, str(path), allowed, "not a file")
    return p


def check_fraction(field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(field, value, "a fraction in (0, 1)")
    return float(value)


def check_seed(field: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConfigError(field, value, "an integer in 0..2**32-1")
    return int(value)


MIN_TRAIN = 2  # one item gives BatchNorm no batch statistics and a one-class model nothing to describe


def check_train_size(n: int, field: str, value, allowed: str, what: str) -> None:
    """At least MIN_TRAIN normal training items (``what``: 'image', 'row'), else a ConfigError saying how many."""
    if n < MIN_TRAIN:
        found = f"no normal {what}" if n == 0 else f"only {n} normal {what}"
        raise ConfigError(field, value, allowed, f"{found} left for training; at least {MIN_TRAIN} are needed")


def check_test_split(y_test: np.ndarray, field: str, value, allowed: str) -> None:
    """AUROC needs both kinds of test item: say which kind is missing."""
    n_anomalies = int(np.asarray(y_test).sum())
    if n_anomalies == len(y_test):
        raise ConfigError(field, value, allowed, "the test split holds no normal item, so AUROC is undefined")
    if n_anomalies == 0:
        raise ConfigError(field, value, allowed, "the test split holds no anomalous item, so AUROC is undefined")


def split_per_class(labels: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices: each class's items shuffled with ``seed``, ceil(test_size * n) go to test.

    Per class, so the split keeps the class proportions (stratified) and does not depend on which
    classes are normal; at least one item of each class stays in training where the class has two.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = min(math.ceil(test_size * len(idx)), max(len(idx) - 1, 1))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def one_class_images(name, normal_ids, max_value, x_train, y_train, x_test, labels_test, y_test,
                     names_test=None, color=None, image_size=None) -> OneClassData:
    """Images (uint8 or float tensors, (n, C, H, W)) of the normal training data and the test data,
    preprocessed as the benchmarks are (GCN-L1 per image, min-max with the training constants)."""
    x_tr = gcn_l1(to_float(x_train, max_value))
    lo, hi = fit_min_max(x_tr)
    return OneClassData(
        name=name,
        normal_classes=tuple(int(c) for c in normal_ids),
        x_train=apply_min_max(x_tr, lo, hi, inplace=True),
        y_train=torch.as_tensor(np.asarray(y_train), dtype=torch.int64),
        x_test=prepare_images(x_test, max_value, (lo, hi)),
        labels_test=torch.as_tensor(np.asarray(labels_test), dtype=torch.int64),
        y_test=torch.as_tensor(np.asarray(y_test), dtype=torch.int64),
        scale=(lo, hi),
        preprocessing=image_preprocessing(x_train.shape[1:], max_value, (lo, hi), color, image_size),
        names_test=None if names_test is None else tuple(names_test),
    )


def match_classes(field: str, wanted, available: list[str]) -> list[int]:
    """Indices into ``available`` (class names) of the names in ``wanted`` (compared as text)."""
    allowed = f"a list of 1 to {len(available) - 1} of {available}" if len(available) > 1 else \
        "at least two classes in the data (one normal, one anomalous)"
    if wanted is None:  # shown as None, not as the empty list it is not
        raise ConfigError(field, None, allowed, "not set: name the normal classes")
    if isinstance(wanted, (str, bytes, int)) and not isinstance(wanted, bool):
        wanted = [wanted]
    wanted = [str(w) for w in wanted]
    if not wanted:
        raise ConfigError(field, wanted, allowed, "empty: name the normal classes")
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise ConfigError(field, wanted, allowed, f"not in the data: {unknown}")
    if len(set(wanted)) != len(wanted):
        raise ConfigError(field, wanted, allowed, "duplicate names")
    if len(set(wanted)) == len(available):
        raise ConfigError(field, wanted, allowed, "every class is normal: at least one must be an anomaly")
    return [available.index(w) for w in wanted]
