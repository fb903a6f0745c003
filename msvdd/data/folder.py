"""``dataset=folder``: the user's own images on disk, in one of two layouts.

- ``split``: ``train/`` holds normal images only (optionally in subfolders, whose names become class
  ids for the oracle variant and the ARI) and ``test/<name>/`` holds the test images, normal where
  ``<name>`` is in ``normal_test_dirs`` (default ``[good]``, as in MVTec AD), an anomaly class otherwise.
- ``classes``: one subfolder per class, as torchvision's ImageFolder; ``normal_classes`` names the normal
  subfolders, and a seeded per-class split makes training and test sets: ``test_size`` of each normal
  class goes to the test split, with every image of the anomaly classes.

``validation_size`` (with ``group.split=dev``) holds out a validation part of the training images and of
the anomalies (msvdd.data.own.Holdout); ``normalize`` chooses the pixel normalisation (msvdd.data.normalize).

``layout: auto`` picks ``split`` when both ``train/`` and ``test/`` exist. Images are decoded once
(colour, resize + center-crop) and cached under ``cache_dir`` (see msvdd.data.image_cache).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from msvdd.data.image_cache import cached_decode
from msvdd.data.images import ALLOWED, check_color, check_image_size, find_images, pixel_max
from msvdd.data.normalize import DEFAULT, check_normalize
from msvdd.data.own import (
    MIN_TRAIN,
    Holdout,
    OwnDataset,
    check_fraction,
    check_seed,
    check_split,
    check_test_split,
    check_train_size,
    check_validation_size,
    existing_path,
    match_classes,
    one_class_images,
    split_per_class,
)
from msvdd.errors import ConfigError

LAYOUTS = ("auto", "split", "classes")


class Folder(OwnDataset):
    """Images from ``path``; see the module docstring for the layouts and options."""

    name = "folder"

    def __init__(self, path, normal_classes=None, layout="auto", normal_test_dirs=("good",), color="gray",
                 image_size=None, test_size=0.3, split_seed=0, cache_dir=None, normalize=DEFAULT,
                 validation_size=0.0, split="table"):
        self.path = existing_path("dataset.path", path, ALLOWED, folder=True)
        if layout not in LAYOUTS:
            raise ConfigError("dataset.layout", layout, ", ".join(LAYOUTS))
        if layout == "auto":
            layout = "split" if (self.path / "train").is_dir() and (self.path / "test").is_dir() else "classes"
        if layout == "split":
            for sub in ("train", "test"):
                if not (self.path / sub).is_dir():
                    raise ConfigError("dataset.layout", "split", "classes, or a folder holding train/ and test/",
                                      f"{self.path} has no {sub}/ folder")
            if normal_classes is not None:
                raise ConfigError("dataset.normal_classes", normal_classes, "null: with train/ and test/ every "
                                  "training image is normal (train/'s subfolders name the classes)")
        self.layout, self.normal_classes = layout, normal_classes
        if isinstance(normal_test_dirs, str):
            normal_test_dirs = [normal_test_dirs]
        if not normal_test_dirs:
            raise ConfigError("dataset.normal_test_dirs", normal_test_dirs, "names of test/'s normal subfolders")
        self.normal_test_dirs = [str(d) for d in normal_test_dirs]
        self.color, self.image_size = check_color(color), check_image_size(image_size)
        self.test_size = check_fraction("dataset.test_size", test_size)
        self.split_seed = check_seed("dataset.split_seed", split_seed)
        self.normalize = check_normalize(normalize)
        self.validation_size = check_validation_size(validation_size)
        self.split = check_split(split, self.validation_size)
        self.cache_dir = None if not cache_dir else Path(cache_dir).expanduser().absolute()
        if self.cache_dir is not None and self.cache_dir.is_relative_to(self.path):
            raise ConfigError("dataset.cache_dir", str(cache_dir), "a folder outside the data folder, or null",
                              "msvdd never writes into the data folder")

    def __repr__(self) -> str:
        return f"Folder(path='{self.path}', layout='{self.layout}')"

    def _images(self, paths: list[Path]):
        return cached_decode(paths, self.color, self.image_size, self.cache_dir)

    def _load(self):
        return self._load_split() if self.layout == "split" else self._load_classes()

    def _find(self, folder: Path, where: str) -> tuple[list[Path], list[str | None]]:
        """Images under ``folder`` and the subfolder each lies in (None: directly in ``folder``)."""
        files = find_images(folder)
        if not files:
            raise ConfigError("dataset.path", str(self.path), ALLOWED, f"no images found in {where}")
        return files, [p.relative_to(folder).parts[0] if len(p.relative_to(folder).parts) > 1 else None
                       for p in files]

    def _load_split(self):
        train_files, train_dirs = self._find(self.path / "train", "train/")
        test_files, test_dirs = self._find(self.path / "test", "test/")
        if None in train_dirs and any(train_dirs):
            raise ConfigError("dataset.path", str(self.path), "train/ with images only, or subfolders only",
                              "train/ holds images both directly and in subfolders")
        if None in test_dirs:
            loose = test_files[test_dirs.index(None)].name
            raise ConfigError("dataset.path", str(self.path), "test/<name>/ subfolders; normal ones named by "
                              "dataset.normal_test_dirs", f"test/ holds images directly ({loose})")
        class_names = sorted({d or "normal" for d in train_dirs})
        others = sorted(set(test_dirs) - set(class_names))
        names = class_names + others
        y_test = np.array([d not in self.normal_test_dirs for d in test_dirs], dtype=np.int64)
        check_test_split(y_test, "dataset.normal_test_dirs", self.normal_test_dirs,
                         f"names of test/'s subfolders: {sorted(set(test_dirs))}")
        if len(train_files) < MIN_TRAIN:
            raise ConfigError("dataset.path", str(self.path), f"a train/ folder of at least {MIN_TRAIN} normal images",
                              f"train/ holds only 1 image ({train_files[0].relative_to(self.path)})")
        self.class_names = names
        images = self._images(train_files + test_files)
        n = len(train_files)
        y_train, labels_test = [names.index(d or "normal") for d in train_dirs], [names.index(d) for d in test_dirs]
        return self._one_class(range(len(class_names)), pixel_max(images), images[:n], y_train, images[n:],
                               labels_test, y_test, [str(p) for p in test_files], [str(p) for p in train_files])

    def _one_class(self, normal, max_value, x_train, y_train, x_test, labels_test, y_test, names_test, names_train):
        holdout = Holdout.draw(y_train, labels_test, y_test, self.validation_size, self.split_seed, self.split)
        return one_class_images(self.name, normal, max_value, x_train, y_train, x_test, labels_test, y_test,
                                names_test, self.color, self.image_size, self.normalize, holdout, names_train)

    def _load_classes(self):
        files, dirs = self._find(self.path, str(self.path))
        if None in dirs:
            loose = files[dirs.index(None)].name
            raise ConfigError("dataset.path", str(self.path), "one subfolder per class (or train/ and test/)",
                              f"images directly in the folder ({loose})")
        self.class_names = sorted(set(dirs))
        normal = match_classes("dataset.normal_classes", self.normal_classes, self.class_names)
        labels = np.array([self.class_names.index(d) for d in dirs], dtype=np.int64)
        train, test = split_per_class(labels, self.test_size, self.split_seed)  # per class: normal test items
        is_normal = np.isin(labels, normal)
        train, test = train[is_normal[train]], np.union1d(test[is_normal[test]], np.flatnonzero(~is_normal))
        check_train_size(len(train), "dataset.test_size", self.test_size, "a fraction leaving training images "
                         "(or more images in the normal subfolders)", "image")
        y_test = (~np.isin(labels[test], normal)).astype(np.int64)
        check_test_split(y_test, "dataset.normal_classes", self.normal_classes, f"subfolders of {self.path}")
        images = self._images(files)
        return self._one_class(normal, pixel_max(images), images[train], labels[train], images[test], labels[test],
                               y_test, [str(files[i]) for i in test], [str(files[i]) for i in train])
