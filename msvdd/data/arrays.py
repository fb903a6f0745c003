"""``dataset=arrays``: the user's images as NumPy arrays, one ``.npz`` file or a folder of ``.npy`` files.

Arrays: ``x_train`` (n, H, W) or (n, H, W, C) normal images; optional ``y_train`` (class ids of the
normal images, for the oracle variant and the ARI); ``x_test``; and ``y_test`` (0 normal / 1 anomaly) or
``labels_test`` (class ids) with ``dataset.normal_classes`` naming the normal ids. With ``normal_classes``
and ``y_train`` the training images of other classes are dropped, so a whole labelled dataset works too.
``normal_classes`` must name ids of ``y_train`` or ``labels_test``, and with ``y_test`` (no class ids) it
may not drop a class of ``y_train``: y_test would still count that class's test images normal.
Integer images are scaled by 255, float ones are taken as they are (GCN does not depend on the scale).
Two-dimensional arrays (n, d) are feature rows, read as ``dataset=table`` reads a table: standardised per
column with the normal training rows' mean and std (use ``network=mlp``); ``normalize`` is for images.
``validation_size`` (with ``group.split=dev``) holds out a validation part (msvdd.data.own.Holdout).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from msvdd.data.datasets import OneClassData
from msvdd.data.normalize import DEFAULT, check_normalize
from msvdd.data.own import (
    Holdout,
    OwnDataset,
    check_seed,
    check_split,
    check_test_split,
    check_train_size,
    check_validation_size,
    existing_path,
    one_class_images,
)
from msvdd.data.prepare import fit_standardisation, prepare_table, table_preprocessing
from msvdd.errors import ConfigError

KEYS = ("x_train", "y_train", "x_test", "y_test", "labels_test")
ALLOWED = "an .npz file, or a folder of .npy files, with x_train, x_test and y_test or labels_test"


NPY_MAGIC, ZIP_MAGICS = b"\x93NUMPY", (b"PK\x03\x04", b"PK\x05\x06")  # .npy header; .npz is a zip


def read_arrays(path: Path, field: str = "dataset.path") -> dict[str, np.ndarray]:
    """The arrays of an .npz file, or of the .npy files in a folder, by name (no pickled objects).

    A file that is no NumPy file at all, or one holding pickled objects, is said to be so in one line
    (numpy's own message for both is advice about ``allow_pickle``, which msvdd never sets)."""
    files = sorted(path.glob("*.npy")) if path.is_dir() else [path]
    out = {}
    for file in files:
        what = file.name if path.is_dir() else "it"
        try:
            with open(file, "rb") as f:
                head = f.read(6)
        except OSError as err:
            raise ConfigError(field, str(path), ALLOWED, f"cannot read {what} ({err.strerror})") from None
        if head != NPY_MAGIC and head[:4] not in ZIP_MAGICS:
            raise ConfigError(field, str(path), ALLOWED, f"{what} is not a NumPy file (neither .npy nor .npz data)")
        try:
            if path.is_dir():
                out[file.stem] = np.load(file, allow_pickle=False)
            elif head == NPY_MAGIC:
                out["x"] = np.load(file, allow_pickle=False)
            else:
                with np.load(file, allow_pickle=False) as npz:
                    out.update({k: npz[k] for k in npz.files})
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            if "allow_pickle" in str(err):
                raise ConfigError(field, str(path), ALLOWED + " (numbers only)", f"{what} holds pickled Python "
                                  "objects, which msvdd never loads: save numeric arrays") from None
            reason = " ".join(str(err).split())[:200]
            raise ConfigError(field, str(path), ALLOWED, f"cannot read the arrays of {what} ({reason})") from None
    return out


def as_image_batch(x: np.ndarray, key: str, field: str = "dataset.path",
                   source: str | None = None) -> tuple[torch.Tensor, float]:
    """(n, H, W[, C]) numbers -> (n, C, H, W) tensor and the value that maps to 1 (255 for integers).

    Errors name ``source`` (the file the array came from; ``key`` where not given) and the array."""
    value = key if source is None else source
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] not in (1, 3)):
        raise ConfigError(field, value, "images of shape (n, H, W) or (n, H, W, C) with C = 1 or 3, or feature "
                          "rows (n, d) in x_train and x_test", f"{key} has shape {list(x.shape)}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ConfigError(field, value, "integer or float numbers", f"{key} holds {x.dtype} values")
    if len(x) == 0:
        raise ConfigError(field, value, "at least one image", f"{key} is empty")
    if np.issubdtype(x.dtype, np.floating):
        bad = int((~np.isfinite(x.reshape(len(x), -1))).any(axis=1).sum())
        if bad:
            raise ConfigError(field, value, "finite numbers", f"{bad} images of {key} hold NaN or infinite values")
    images = torch.from_numpy(np.array(x if x.ndim == 4 else x[..., None]).transpose(0, 3, 1, 2).copy())
    return images, 255.0 if np.issubdtype(x.dtype, np.integer) else 1.0


def as_feature_rows(x: np.ndarray, key: str, field: str = "dataset.path",
                    source: str | None = None) -> tuple[torch.Tensor, float]:
    """(n, d) numbers -> a float64 tensor of feature rows (1.0: rows have no pixel scale)."""
    value = key if source is None else source
    if x.ndim != 2:
        raise ConfigError(field, value, "feature rows (n, d) in both x_train and x_test", f"{key} has shape "
                          f"{list(x.shape)}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)) or len(x) == 0:
        raise ConfigError(field, value, "a non-empty array of integer or float numbers", f"{key} is {x.dtype} "
                          f"{list(x.shape)}")
    bad = int((~np.isfinite(x.astype(np.float64))).any(axis=1).sum())
    if bad:
        raise ConfigError(field, value, "finite numbers", f"{bad} rows of {key} hold NaN or infinite values")
    return torch.from_numpy(x.astype(np.float64)), 1.0


def _labels(arrays, key, n, field, source) -> np.ndarray:
    y = np.asarray(arrays[key])
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(field, source, f"{key} of {n} integer labels, one per image",
                          f"{key} is {y.dtype} {list(y.shape)}")
    return y.astype(np.int64)


def _ids(values) -> list[int]:
    return [int(v) for v in np.unique(values)]


def check_normal_ids(normal: list[int], y_train, labels, has_y_test: bool) -> None:
    """``dataset.normal_classes`` must name class ids of the arrays (y_train, labels_test), and must not
    drop training classes that y_test (0/1, no class ids) still counts normal."""
    field, known = "dataset.normal_classes", sorted({*_ids([] if y_train is None else y_train),
                                                     *_ids([] if labels is None else labels)})
    if not known:
        raise ConfigError(field, normal, "null: y_test says which test images are normal", "these arrays hold no "
                          "class ids (no y_train, no labels_test) for normal_classes to name")
    absent = [c for c in normal if c not in known]
    if absent:
        names = " and ".join(k for k, v in (("y_train", y_train), ("labels_test", labels)) if v is not None)
        raise ConfigError(field, normal, f"class ids of {names}: {known}", f"not in the data: {absent}")
    if has_y_test and labels is None and y_train is not None:
        dropped = [c for c in _ids(y_train) if c not in normal]
        if dropped:
            raise ConfigError(field, normal, "null (train on every x_train image; y_test says what is normal), or "
                              "labels_test (class ids) in place of y_test, so that normal_classes decides both",
                              f"it drops y_train's classes {dropped} from training, but y_test (0 normal / 1 "
                              "anomaly, no class ids) cannot mark their test images as anomalies")


class Arrays(OwnDataset):
    """Images from NumPy arrays; see the module docstring for the arrays it reads."""

    name = "arrays"

    def __init__(self, path, normal_classes=None, normalize=DEFAULT, validation_size=0.0, split="table",
                 split_seed=0):
        self.path = existing_path("dataset.path", path, ALLOWED)
        self.normalize = check_normalize(normalize)
        self.validation_size = check_validation_size(validation_size)
        self.split = check_split(split, self.validation_size)
        self.split_seed = check_seed("dataset.split_seed", split_seed)
        if normal_classes is not None:
            items = [normal_classes] if isinstance(normal_classes, int) else list(normal_classes)
            if not items or any(isinstance(v, bool) or not isinstance(v, int) for v in items):
                raise ConfigError("dataset.normal_classes", normal_classes, "null, or a list of class ids (ints)")
            normal_classes = sorted(set(items))
        self.normal_classes = normal_classes

    def __repr__(self) -> str:
        return f"Arrays(path='{self.path}', normal_classes={self.normal_classes})"

    def _load(self):
        arrays, f, where = read_arrays(self.path), "dataset.path", str(self.path)
        missing = [k for k in ("x_train", "x_test") if k not in arrays]
        if missing:
            raise ConfigError(f, where, ALLOWED, f"missing {missing}; found {sorted(arrays)}")
        rows = arrays["x_train"].ndim == 2
        x_train, max_train = (as_feature_rows if rows else as_image_batch)(arrays["x_train"], "x_train", f, where)
        x_test, max_test = (as_feature_rows if rows else as_image_batch)(arrays["x_test"], "x_test", f, where)
        if x_train.shape[1:] != x_test.shape[1:] or max_train != max_test:
            raise ConfigError(f, where, "x_train and x_test of one image shape and number type",
                              f"x_train {list(arrays['x_train'].shape[1:])} {arrays['x_train'].dtype}, "
                              f"x_test {list(arrays['x_test'].shape[1:])} {arrays['x_test'].dtype}")
        n_train, n_test = len(x_train), len(x_test)
        y_train = _labels(arrays, "y_train", n_train, f, where) if "y_train" in arrays else None
        labels = _labels(arrays, "labels_test", n_test, f, where) if "labels_test" in arrays else None
        normal = self.normal_classes
        if normal is not None:
            check_normal_ids(normal, y_train, labels, "y_test" in arrays)
        if "y_test" in arrays:
            y_test = _labels(arrays, "y_test", n_test, f, where)
            if not np.isin(y_test, (0, 1)).all():
                raise ConfigError(f, where, "y_test of 0 (normal) or 1 (anomaly)",
                                  f"y_test holds {np.unique(y_test).tolist()}")
            if normal is not None and labels is not None:
                derived = (~np.isin(labels, normal)).astype(np.int64)
                if (derived != y_test).any():
                    raise ConfigError("dataset.normal_classes", normal, "null (y_test says what is normal), or "
                                      "normal classes that y_test agrees with", f"y_test disagrees with labels_test "
                                      f"and these normal classes on {int((derived != y_test).sum())} test images")
        elif labels is not None and normal is not None:
            y_test = (~np.isin(labels, normal)).astype(np.int64)
        else:
            raise ConfigError(f, where, "y_test, or labels_test with dataset.normal_classes",
                              "no test labels: add y_test (0 normal / 1 anomaly) or set dataset.normal_classes")
        if y_train is None:
            y_train = np.zeros(n_train, np.int64)
        elif normal is not None:
            keep = np.isin(y_train, normal)
            if not keep.any():
                raise ConfigError("dataset.normal_classes", normal, f"class ids of y_train: "
                                  f"{np.unique(y_train).tolist()}", "no training image of these classes")
            x_train, y_train = x_train[torch.from_numpy(keep)], y_train[keep]
        check_train_size(len(x_train), "dataset.path" if len(x_train) == n_train else "dataset.normal_classes",
                         where if len(x_train) == n_train else normal, "x_train of normal images", "image")
        check_test_split(y_test, "dataset.path" if "y_test" in arrays else "dataset.normal_classes",
                         where if "y_test" in arrays else normal, "test data with normal and anomalous items")
        normal_ids = normal if normal is not None else np.unique(y_train).tolist()
        names = [f"{self.path.name}#{i}" for i in range(n_test)]
        labels = labels if labels is not None else y_test
        holdout = Holdout.draw(y_train, labels, y_test, self.validation_size, self.split_seed, self.split)
        if rows:
            if self.normalize != DEFAULT:
                raise ConfigError("dataset.normalize", self.normalize, f"{DEFAULT} (the default; it is for images)",
                                  "feature rows (n, d) are standardised per column, as tables are")
            return self._rows(normal_ids, holdout, x_train, y_train, x_test, labels, y_test, names)
        return one_class_images(self.name, normal_ids, max_train, x_train, y_train, x_test, labels, y_test, names,
                                normalize=self.normalize, holdout=holdout)

    def _rows(self, normal_ids, holdout, x_train, y_train, x_test, labels, y_test, names) -> OneClassData:
        """Feature rows as a table: standardised with the normal training rows' statistics."""
        split = holdout.record(len(x_test))
        x_train, y_train, x_test, labels, y_test, names = holdout.select(
            x_train, y_train, x_test, labels, y_test, [f"train#{i}" for i in range(len(x_train))], names)
        values = x_train.numpy()
        mean, std = fit_standardisation(values)
        x = prepare_table(values, mean, std)
        columns = [f"x{i}" for i in range(values.shape[1])]
        return OneClassData(
            name=self.name, normal_classes=tuple(int(c) for c in normal_ids), x_train=x,
            y_train=torch.as_tensor(np.asarray(y_train), dtype=torch.int64),
            x_test=prepare_table(x_test.numpy(), mean, std),
            labels_test=torch.as_tensor(np.asarray(labels), dtype=torch.int64),
            y_test=torch.as_tensor(np.asarray(y_test), dtype=torch.int64),
            scale=(float(x.min()), float(x.max())), preprocessing=table_preprocessing(columns, mean, std),
            names_test=tuple(names), split=split)
