"""What the user-data sources (folder, arrays, table) share: the checks of their data, the one-class
data they build, and a seeded per-class split.

Every problem with the user's data is a ConfigError naming the config field, the value and what would
work: one line, exit code 2, raised while loading, before any training and before any file is written.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from msvdd.data.datasets import OneClassData
from msvdd.data.normalize import DEFAULT, fit_normalization
from msvdd.data.prepare import image_preprocessing, prepare_images
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


EVALUATED = {"table": "test", "dev": "validation"}  # group.split -> the part of the data a run scores


def check_split(value, validation_size: float) -> str:
    """``dataset.split`` (``${group.split}``): which held-out part a run scores; dev needs a validation part."""
    if value not in EVALUATED:
        raise ConfigError("group.split", value, "table (score the test split) | dev (score the validation split)")
    if value == "dev" and not validation_size:
        raise ConfigError("dataset.validation_size", validation_size, "a fraction in (0, 1), e.g. 0.2",
                          "group.split=dev scores your data's validation split, carved from the training items "
                          "and the anomalies, so that tuning never reads the test split")
    return value


def check_validation_size(value) -> float:
    return 0.0 if value in (0, None) else check_fraction("dataset.validation_size", value)


def carve(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Mask of the items held out for validation: ceil(fraction * n) of each class, seeded; a class of two
    or more items keeps at least one. ``fraction`` 0 holds out nothing (and draws nothing)."""
    held = np.zeros(len(labels), dtype=bool)
    if not fraction:
        return held
    rng = np.random.default_rng([seed, 1])  # a stream of its own: the test split does not move
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        held[idx[: min(math.ceil(fraction * len(idx)), max(len(idx) - 1, 1))]] = True
    return held


@dataclass(frozen=True)
class Holdout:
    """Which items a run trains on and scores: the same training items whichever part is scored, so that
    settings tuned on the validation part carry over to the test part unchanged."""

    train: np.ndarray  # mask over the normal training items
    validation_normal: np.ndarray  # mask over the training items: held out, scored with split=dev
    validation_anomaly: np.ndarray  # mask over the test items: held out of the test split
    split: str

    @classmethod
    def draw(cls, train_labels, test_labels, y_test, validation_size: float, seed: int, split: str) -> Holdout:
        val_normal = carve(np.asarray(train_labels), validation_size, seed)
        anomalies = np.flatnonzero(np.asarray(y_test) == 1)
        val_anomaly = np.zeros(len(y_test), dtype=bool)
        val_anomaly[anomalies[carve(np.asarray(test_labels)[anomalies], validation_size, seed + 1)]] = True
        return cls(~val_normal, val_normal, val_anomaly, check_split(split, validation_size))

    def record(self, n_test: int) -> dict:
        """What results.json says of the split: how many items each part holds, which one was scored."""
        n_anomaly = int(self.validation_anomaly.sum())
        return {"scored": EVALUATED[self.split], "validation_size": {
            "normal": int(self.validation_normal.sum()), "anomaly": n_anomaly}, "test_items": n_test - n_anomaly}

    def select(self, x_train, y_train, x_test, labels_test, y_test, names_train, names_test):
        """(x_train, y_train, x_scored, labels_scored, y_scored, names_scored) of this holdout."""
        train, val_n, val_a = self.train, self.validation_normal, self.validation_anomaly
        if self.split == "table":
            keep = ~val_a
            return (_take(x_train, train), _take(y_train, train), _take(x_test, keep), _take(labels_test, keep),
                    _take(y_test, keep), _take(names_test, keep))
        return (_take(x_train, train), _take(y_train, train), _cat(_take(x_train, val_n), _take(x_test, val_a)),
                np.concatenate([_take(y_train, val_n), _take(labels_test, val_a)]),
                np.concatenate([np.zeros(int(val_n.sum()), np.int64), _take(y_test, val_a)]),
                [*_take(names_train, val_n), *_take(names_test, val_a)])


def _cat(a, b):
    return torch.cat([a, b]) if isinstance(a, torch.Tensor) else np.concatenate([a, b])


def _take(a, mask: np.ndarray):
    if isinstance(a, torch.Tensor):
        return a[torch.from_numpy(mask)]
    return np.asarray(a)[mask] if not isinstance(a, (list, tuple)) else [v for v, m in zip(a, mask) if m]


def one_class_images(name, normal_ids, max_value, x_train, y_train, x_test, labels_test, y_test,
                     names_test=None, color=None, image_size=None, normalize=DEFAULT,
                     holdout: Holdout | None = None, names_train=None) -> OneClassData:
    """Images (uint8 or float tensors, (n, C, H, W)) of the normal training data and the test data,
    normalised with ``normalize`` fitted on the training images (msvdd.data.normalize); ``holdout``
    chooses the items trained on and scored (test or validation part)."""
    split = None
    if holdout is not None:
        split = holdout.record(len(x_test))
        names_train = names_train or [f"train#{i}" for i in range(len(x_train))]
        names_test = names_test if names_test is not None else [f"test#{i}" for i in range(len(x_test))]
        x_train, y_train, x_test, labels_test, y_test, names_test = holdout.select(
            x_train, y_train, x_test, labels_test, y_test, names_train, names_test)
    x_tr, record = fit_normalization(x_train, max_value, normalize)
    prep = image_preprocessing(x_train.shape[1:], max_value, record, color, image_size)
    return OneClassData(
        name=name,
        normal_classes=tuple(int(c) for c in normal_ids),
        x_train=x_tr,
        y_train=torch.as_tensor(np.asarray(y_train), dtype=torch.int64),
        x_test=prepare_images(x_test, max_value, prep),
        labels_test=torch.as_tensor(np.asarray(labels_test), dtype=torch.int64),
        y_test=torch.as_tensor(np.asarray(y_test), dtype=torch.int64),
        scale=tuple(record.get("scale", (float(x_tr.min()), float(x_tr.max())))),
        preprocessing=prep,
        names_test=None if names_test is None else tuple(names_test),
        split=split,
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
