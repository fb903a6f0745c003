"""``dataset=table``: rows of numeric features from a CSV or Parquet file (read with pandas).

``label`` names the class column; ``features`` the feature columns (null: every other column);
``normal_classes`` the label values that are normal. The normal rows are split per class with
``split_seed`` (``test_size`` of them go to the test set); every other row is a test anomaly.
``validation_size`` (with ``group.split=dev``) holds out a validation part (msvdd.data.own.Holdout).
Features are standardised with the normal training rows' mean and std (see msvdd.data.prepare).
Use it with ``network=mlp`` (the default network of this dataset).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from msvdd.data.datasets import OneClassData
from msvdd.data.own import (
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
    split_per_class,
)
from msvdd.data.prepare import fit_standardisation, prepare_table, table_preprocessing
from msvdd.errors import ConfigError

ALLOWED = "a .csv or .parquet file"


def read_table(path: Path, field: str = "dataset.path") -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ConfigError(field, str(path), ALLOWED, f"unknown file type {suffix or '(none)'}")
    try:
        df = pd.read_parquet(path) if suffix != ".csv" else pd.read_csv(path)
    except ImportError as err:
        raise ConfigError(field, str(path), "a .csv file, or install pyarrow to read Parquet", str(err)) from None
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        reason = " ".join(str(err).split())[:200]
        raise ConfigError(field, str(path), ALLOWED, f"cannot read the table ({reason})") from None
    if len(df) == 0:  # pandas gives a header-only CSV text columns: say what it is, not "non-numeric"
        raise ConfigError(field, str(path), f"{ALLOWED} with data rows", f"no rows, only the header of "
                          f"{len(df.columns)} columns")
    return df


def short_list(names, limit: int = 12) -> str:
    """``names`` as a list, the first ``limit`` of a longer one followed by how many there are."""
    names = [str(n) for n in names]
    return str(names) if len(names) <= limit else f"{str(names[:limit])[:-1]}, ... ({len(names)} in all)]"


def feature_values(df: pd.DataFrame, columns: list[str], field: str, value, expected: str | None = None) -> np.ndarray:
    """The float64 values of ``columns``; ConfigError naming missing or non-numeric columns and counting
    rows with NaN or infinite values. ``expected`` says what a missing column's error allows (default: the
    table's columns, from which the user picks features)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(field, value, expected or f"columns of the table: {list(map(str, df.columns))}",
                          f"missing columns {missing}")
    text = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c])]
    if text:
        raise ConfigError(field, value, "numeric feature columns (drop or encode the others)",
                          f"non-numeric columns {text}")
    values = df[columns].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise ConfigError(field, value, "finite numbers in every feature", f"{int(bad.sum())} rows hold NaN or "
                          f"infinite values (first: row {int(np.flatnonzero(bad)[0])})")
    return values


def _label_text(column: pd.Series) -> list[str]:
    """Label values as text; integral floats as ints, so a label 1 matches ``normal_classes: [1]``."""
    if pd.api.types.is_float_dtype(column) and column.notna().all() and (column % 1 == 0).all():
        column = column.astype(np.int64)
    return column.astype(str).tolist()


class Table(OwnDataset):
    """A table of numeric features; see the module docstring."""

    name = "table"

    def __init__(self, path, label=None, normal_classes=None, features=None, test_size=0.3, split_seed=0,
                 validation_size=0.0, split="table"):
        self.path = existing_path("dataset.path", path, ALLOWED, folder=False)
        if not isinstance(label, (str, int)) or isinstance(label, bool):
            raise ConfigError("dataset.label", label, "the name of the class column")
        if features is not None and (isinstance(features, str) or not all(isinstance(c, str) for c in features)):
            raise ConfigError("dataset.features", features, "null (every column but the label) or a list of names")
        self.label, self.features = str(label), None if features is None else list(features)
        self.normal_classes = normal_classes
        self.test_size = check_fraction("dataset.test_size", test_size)
        self.split_seed = check_seed("dataset.split_seed", split_seed)
        self.validation_size = check_validation_size(validation_size)
        self.split = check_split(split, self.validation_size)

    def __repr__(self) -> str:
        return f"Table(path='{self.path}', label='{self.label}', normal_classes={self.normal_classes})"

    def _load(self) -> OneClassData:
        df = read_table(self.path)
        df.columns = [str(c) for c in df.columns]
        if self.label not in df.columns:
            raise ConfigError("dataset.label", self.label, f"a column of the table: {list(df.columns)}",
                              "no such column")
        if df[self.label].isna().any():
            raise ConfigError("dataset.label", self.label, "a class in every row",
                              f"{int(df[self.label].isna().sum())} rows have no label")
        columns = self.features if self.features is not None else [c for c in df.columns if c != self.label]
        if not columns or self.label in columns:
            raise ConfigError("dataset.features", self.features, "feature columns other than the label")
        field = "dataset.features" if self.features is not None else "dataset.path"
        values = feature_values(df, columns, field, self.features if self.features is not None else str(self.path))
        text = _label_text(df[self.label])
        self.class_names = sorted(set(text))
        normal = match_classes("dataset.normal_classes", self.normal_classes, self.class_names)
        labels = np.array([self.class_names.index(t) for t in text], dtype=np.int64)
        is_normal = np.isin(labels, normal)
        rows = np.flatnonzero(is_normal)
        train, test_normal = split_per_class(labels[rows], self.test_size, self.split_seed)
        train, test = rows[train], np.sort(np.concatenate([rows[test_normal], np.flatnonzero(~is_normal)]))
        check_train_size(len(train), "dataset.path", str(self.path), f"more normal rows, or a smaller "
                         f"dataset.test_size ({len(rows)} normal of {len(df)} rows; ceil(test_size * n) rows of "
                         "each normal class go to the test split)", "row")
        y_test = (~is_normal[test]).astype(np.int64)
        check_test_split(y_test, "dataset.test_size", self.test_size, "a fraction leaving normal test rows")
        holdout = Holdout.draw(labels[train], labels[test], y_test, self.validation_size, self.split_seed, self.split)
        split = holdout.record(len(test))
        train, _, test, _, y_test, _ = holdout.select(train, labels[train], test, labels[test], y_test, train, test)
        test = np.asarray(test)
        mean, std = fit_standardisation(values[train])
        x_train = prepare_table(values[train], mean, std)
        return OneClassData(
            name=self.name, normal_classes=tuple(normal),
            x_train=x_train, y_train=_tensor(labels[train]),
            x_test=prepare_table(values[test], mean, std), labels_test=_tensor(labels[test]),
            y_test=_tensor(y_test), scale=(float(x_train.min()), float(x_train.max())),
            preprocessing=table_preprocessing(columns, mean, std),
            names_test=tuple(f"{self.path.name}#{i}" for i in test), split=split,
        )


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))
