"""``dataset=arrays``: the user's images as NumPy arrays, one ``.npz`` file or a folder of ``.npy`` files.

Arrays: ``x_train`` (n, H, W) or (n, H, W, C) normal images; optional ``y_train`` (class ids of the
normal images, for the oracle variant and the ARI); ``x_test``; and ``y_test`` (0 normal / 1 anomaly) or
``labels_test`` (class ids) with ``dataset.normal_classes`` naming the normal ids. With ``normal_classes``
and ``y_train`` the training images of other classes are dropped, so a whole labelled dataset works too.
Integer images are scaled by 255, float ones are taken as they are (GCN does not depend on the scale).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from msvdd.data.own import OwnDataset, check_test_split, existing_path, one_class_images
from msvdd.errors import ConfigError

KEYS = ("x_train", "y_train", "x_test", "y_test", "labels_test")
ALLOWED = "an .npz file, or a folder of .npy files, with x_train, x_test and y_test or labels_test"


def read_arrays(path: Path, field: str = "dataset.path") -> dict[str, np.ndarray]:
    """The arrays of an .npz file, or of the .npy files in a folder, by name (no pickled objects)."""
    try:
        if path.is_dir():
            return {p.stem: np.load(p, allow_pickle=False) for p in sorted(path.glob("*.npy"))}
        if path.suffix == ".npy":
            return {"x": np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        reason = " ".join(str(err).split())[:200]
        raise ConfigError(field, str(path), ALLOWED, f"cannot read the arrays ({reason})") from None


def as_image_batch(x: np.ndarray, key: str, field: str = "dataset.path") -> tuple[torch.Tensor, float]:
    """(n, H, W[, C]) numbers -> (n, C, H, W) tensor and the value that maps to 1 (255 for integers)."""
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] not in (1, 3)):
        raise ConfigError(field, key, "images of shape (n, H, W) or (n, H, W, C) with C = 1 or 3",
                          f"{key} has shape {list(x.shape)}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ConfigError(field, key, "integer or float numbers", f"{key} holds {x.dtype} values")
    if len(x) == 0:
        raise ConfigError(field, key, "at least one image", f"{key} is empty")
    if np.issubdtype(x.dtype, np.floating):
        bad = int((~np.isfinite(x.reshape(len(x), -1))).any(axis=1).sum())
        if bad:
            raise ConfigError(field, key, "finite numbers", f"{bad} images of {key} hold NaN or infinite values")
    images = torch.from_numpy(np.array(x if x.ndim == 4 else x[..., None]).transpose(0, 3, 1, 2).copy())
    return images, 255.0 if np.issubdtype(x.dtype, np.integer) else 1.0


def _labels(arrays, key, n, field) -> np.ndarray:
    y = np.asarray(arrays[key])
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(field, key, f"{n} integer labels, one per image", f"{key} is {y.dtype} {list(y.shape)}")
    return y.astype(np.int64)


class Arrays(OwnDataset):
    """Images from NumPy arrays; see the module docstring for the arrays it reads."""

    name = "arrays"

    def __init__(self, path, normal_classes=None):
        self.path = existing_path("dataset.path", path, ALLOWED)
        if normal_classes is not None:
            items = [normal_classes] if isinstance(normal_classes, int) else list(normal_classes)
            if not items or any(isinstance(v, bool) or not isinstance(v, int) for v in items):
                raise ConfigError("dataset.normal_classes", normal_classes, "null, or a list of class ids (ints)")
            normal_classes = sorted(set(items))
        self.normal_classes = normal_classes

    def __repr__(self) -> str:
        return f"Arrays(path='{self.path}', normal_classes={self.normal_classes})"

    def _load(self):
        arrays, f = read_arrays(self.path), "dataset.path"
        missing = [k for k in ("x_train", "x_test") if k not in arrays]
        if missing:
            raise ConfigError(f, str(self.path), ALLOWED, f"missing {missing}; found {sorted(arrays)}")
        x_train, max_train = as_image_batch(arrays["x_train"], "x_train")
        x_test, max_test = as_image_batch(arrays["x_test"], "x_test")
        if x_train.shape[1:] != x_test.shape[1:] or max_train != max_test:
            raise ConfigError(f, str(self.path), "x_train and x_test of one image shape and number type",
                              f"x_train {list(arrays['x_train'].shape[1:])} {arrays['x_train'].dtype}, "
                              f"x_test {list(arrays['x_test'].shape[1:])} {arrays['x_test'].dtype}")
        n_train, n_test = len(x_train), len(x_test)
        y_train = _labels(arrays, "y_train", n_train, f) if "y_train" in arrays else np.zeros(n_train, np.int64)
        labels = _labels(arrays, "labels_test", n_test, f) if "labels_test" in arrays else None
        if "y_test" in arrays:
            y_test = _labels(arrays, "y_test", n_test, f)
            if not np.isin(y_test, (0, 1)).all():
                raise ConfigError(f, "y_test", "0 (normal) or 1 (anomaly)", f"values {np.unique(y_test).tolist()}")
        elif labels is not None and self.normal_classes is not None:
            y_test = (~np.isin(labels, self.normal_classes)).astype(np.int64)
        else:
            raise ConfigError(f, str(self.path), "y_test, or labels_test with dataset.normal_classes",
                              "no test labels: add y_test (0 normal / 1 anomaly) or set dataset.normal_classes")
        normal = self.normal_classes
        if normal is not None and "y_train" in arrays:
            keep = np.isin(y_train, normal)
            if not keep.any():
                raise ConfigError("dataset.normal_classes", normal, f"class ids of y_train: "
                                  f"{np.unique(y_train).tolist()}", "no training image of these classes")
            x_train, y_train = x_train[torch.from_numpy(keep)], y_train[keep]
        check_test_split(y_test, "dataset.path" if "y_test" in arrays else "dataset.normal_classes",
                         str(self.path) if "y_test" in arrays else normal, "test data with normal and anomalous items")
        normal_ids = normal if normal is not None else np.unique(y_train).tolist()
        names = [f"{self.path.name}#{i}" for i in range(n_test)]
        return one_class_images(self.name, normal_ids, max_train, x_train, y_train, x_test,
                                labels if labels is not None else y_test, y_test, names)
