"""One-class versions of the benchmark datasets, built by Hydra from ``conf/dataset/*.yaml``.

A dataset object checks its arguments when it is created (so a bad config fails before any training)
and reads the files only in ``load()``, which returns everything preprocessed, in memory, as tensors.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from msvdd.data.normalize import DEFAULT, MINMAX_FROM, apply_normalization, check_normalize, fit_normalization
from msvdd.data.prepare import image_preprocessing
from msvdd.data.sources import digits_arrays, raw_arrays
from msvdd.errors import ConfigError


@dataclass(frozen=True)
class OneClassData:
    """A one-class problem: training images of the normal classes only, the whole test split to score."""

    name: str
    normal_classes: tuple[int, ...]
    x_train: torch.Tensor  # float32 (n, C, H, W), preprocessed
    y_train: torch.Tensor  # int64 true class of each training image (all in normal_classes)
    x_test: torch.Tensor  # float32, preprocessed with the training constants
    labels_test: torch.Tensor  # int64 true class of each test image
    y_test: torch.Tensor  # int64: 0 normal (class in normal_classes), 1 anomaly
    scale: tuple[float, float]  # min-max constants of the normal training data (the input's range without them)
    # What scoring new data needs (saved in model.pt for msvdd.predict): see msvdd.data.prepare.
    preprocessing: dict | None = None
    names_test: tuple[str, ...] | None = None  # one name per test item (file or row), where the data has them
    split: dict | None = None  # own data: which held-out part is scored and how large each is (own.Holdout)


def validate_normal_classes(value, n_classes: int) -> tuple[int, ...]:
    """The normal class ids as a tuple of ints (order kept); ConfigError when they cannot work.

    A bare integer counts as one class. At least one class must stay an anomaly.
    """
    field = "dataset.normal_classes"
    allowed = f"1 to {n_classes - 1} distinct class ids in 0..{n_classes - 1}"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ConfigError(field, value, allowed, "not a list of class ids")
    items = list(value)
    if not items:
        raise ConfigError(field, items, allowed, "empty: at least one normal class is needed")
    bad = [v for v in items if isinstance(v, bool) or not isinstance(v, numbers.Integral)]
    if bad:
        raise ConfigError(field, items, allowed, f"not integer class ids: {bad!r}")
    ids = [int(v) for v in items]
    out = [v for v in ids if not 0 <= v < n_classes]
    if out:
        raise ConfigError(field, ids, allowed, f"class ids out of range: {out}")
    if len(set(ids)) != len(ids):
        dups = sorted({v for v in ids if ids.count(v) > 1})
        raise ConfigError(field, ids, allowed, f"duplicate class ids: {dups}")
    if len(ids) == n_classes:
        raise ConfigError(field, ids, allowed, "every class is normal: at least one must be an anomaly")
    return tuple(ids)


def check_minmax_from(value) -> str:
    if value not in MINMAX_FROM:
        raise ConfigError("dataset.minmax_from", value, "group (the whole group's training images, msvdd's) | "
                          "first_class (the first normal class's, as the seed's code)")
    return value


def resolve_root(root) -> Path:
    """The data root: ``root``, else the MSVDD_DATA environment variable, else ``data/``."""
    if root is None or root == "":
        root = os.environ.get("MSVDD_DATA") or "data"
    if not isinstance(root, (str, os.PathLike)):
        raise ConfigError("dataset.root", root, "a folder path, or null for $MSVDD_DATA else data/")
    return Path(root).expanduser().absolute()


def make_one_class(name, normal_classes, max_value, x_train, y_train, x_test, labels_test,
                   normalize: str = DEFAULT, minmax_from: str = "group") -> OneClassData:
    """Keep the normal training images, normalise everything with ``normalize`` fitted on them
    (Ruff et al.'s GCN-L1 + min-max by default: msvdd.data.normalize); ``minmax_from=first_class`` takes the
    min-max constants from the first normal class's images only, as the seed's code does."""
    keep = np.isin(y_train, normal_classes)
    first = torch.from_numpy(y_train[keep] == normal_classes[0]) if minmax_from == "first_class" else None
    x_tr, record = fit_normalization(torch.from_numpy(x_train[keep]), max_value, normalize, first)
    labels = torch.tensor(labels_test, dtype=torch.int64)
    return OneClassData(
        name=name,
        normal_classes=tuple(normal_classes),
        x_train=x_tr,
        y_train=torch.from_numpy(y_train[keep].astype(np.int64)),
        x_test=apply_normalization(torch.tensor(x_test), record, max_value),
        labels_test=labels,
        y_test=(~torch.isin(labels, torch.tensor(normal_classes))).to(torch.int64),
        scale=tuple(record.get("scale", (float(x_tr.min()), float(x_tr.max())))),
        preprocessing=image_preprocessing(x_train.shape[1:], max_value, record),
    )


class OneClassDataset:
    """Base of the file-backed datasets: validated arguments, files read and preprocessed by load()."""

    name: ClassVar[str]
    n_classes: ClassVar[int] = 10
    input_shape: ClassVar[tuple[int, int, int]]
    class_names: ClassVar[tuple[str, ...]]
    max_value: ClassVar[int] = 255  # the largest raw pixel value

    def __init__(self, normal_classes, root=None, normalize: str = DEFAULT, minmax_from: str = "group"):
        self.normal_classes = validate_normal_classes(normal_classes, self.n_classes)
        self.root = resolve_root(root)
        self.normalize = check_normalize(normalize)
        self.minmax_from = check_minmax_from(minmax_from)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(normal_classes={list(self.normal_classes)}, root='{self.root}')"

    def raw(self):
        """(x_train, y_train, x_test, y_test) as read from the files (uint8 images, int64 labels)."""
        return raw_arrays(self.name, str(self.root))

    def load(self) -> OneClassData:
        """Read (cached per process) and preprocess: see OneClassData."""
        x_train, y_train, x_test, y_test = self.raw()
        return make_one_class(
            self.name, self.normal_classes, self.max_value, x_train, y_train, x_test, y_test, self.normalize,
            self.minmax_from,
        )


DIGIT_NAMES = tuple(str(i) for i in range(10))


class MNIST(OneClassDataset):
    """MNIST handwritten digits, 28x28 grey; files in ``<root>/MNIST/raw/``."""

    name = "mnist"
    input_shape = (1, 28, 28)
    class_names = DIGIT_NAMES


class FashionMNIST(OneClassDataset):
    """Fashion-MNIST clothing images, 28x28 grey; files in ``<root>/FashionMNIST/raw/``."""

    name = "fashion_mnist"
    input_shape = (1, 28, 28)
    class_names = (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip


class CIFAR10(OneClassDataset):
    """CIFAR-10 colour images, 3x32x32; python batches in ``<root>/cifar-10-batches-py/``."""

    name = "cifar10"
    input_shape = (3, 32, 32)
    class_names = (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    )  # fmt: skip


class Digits(OneClassDataset):
    """scikit-learn's bundled 8x8 digits (1,797 images, values 0..16): needs no files.

    A stratified train/test split, fixed by ``split_seed``, stands in for a dataset's own split.
    ``root`` is accepted so every dataset takes the same arguments, and ignored.
    """

    name = "digits"
    input_shape = (1, 8, 8)
    class_names = DIGIT_NAMES
    max_value = 16
    n_images: ClassVar[int] = 1797

    def __init__(self, normal_classes, test_size: float = 0.3, split_seed: int = 0, root=None,
                 normalize: str = DEFAULT, minmax_from: str = "group"):
        self.normal_classes = validate_normal_classes(normal_classes, self.n_classes)
        self.root = None
        self.normalize = check_normalize(normalize)
        self.minmax_from = check_minmax_from(minmax_from)
        self.test_size = self._validate_test_size(test_size)
        if (
            isinstance(split_seed, bool)
            or not isinstance(split_seed, numbers.Integral)
            or not (0 <= split_seed < 2**32)
        ):
            raise ConfigError("dataset.split_seed", split_seed, "an integer in 0..2**32-1")
        self.split_seed = int(split_seed)

    def _validate_test_size(self, test_size) -> float:
        allowed = f"a fraction in (0, 1) leaving at least {self.n_classes} images in each split"
        if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
            raise ConfigError("dataset.test_size", test_size, allowed)
        test_size = float(test_size)
        if not 0 < test_size < 1:
            raise ConfigError("dataset.test_size", test_size, allowed)
        n_test = math.ceil(test_size * self.n_images)  # as scikit-learn counts it
        if min(n_test, self.n_images - n_test) < self.n_classes:
            raise ConfigError("dataset.test_size", test_size, allowed, "a split would miss some classes")
        return test_size

    def __repr__(self) -> str:
        return (
            f"Digits(normal_classes={list(self.normal_classes)}, test_size={self.test_size}, "
            f"split_seed={self.split_seed})"
        )

    def raw(self):
        from sklearn.model_selection import train_test_split

        x, y = digits_arrays()
        train, test = train_test_split(
            np.arange(len(y)), test_size=self.test_size, random_state=self.split_seed, stratify=y
        )
        return x[train], y[train], x[test], y[test]


BENCHMARKS = {cls.name: cls for cls in (MNIST, FashionMNIST, CIFAR10, Digits)}  # by results.json's "dataset"
