"""The labels that predict's inputs carry, for a ``label`` column next to their scores.

A user who scores files whose classes they know (a labelled test folder, a table with its class column)
wants to read the scores against them without joining files by name. The labels are what the inputs
themselves say, nothing inferred: a table's class column (the one the model was trained with,
``dataset.label``), an array file's ``labels_test`` or ``y_test`` next to ``x_test`` (``y`` or ``labels``
next to ``x``), and for an image inside an input folder the name of its subfolder there
(``test/scratch/0001.png`` given ``test/`` -> ``scratch``: the class-folder and split layouts' class).
Items without one get an empty label; when no input carries any, there is no column.
The items come in the order msvdd.data.new_inputs reads them (the same file listing).
"""

from __future__ import annotations

from pathlib import Path

from msvdd.data.arrays import read_arrays
from msvdd.data.images import find_images
from msvdd.data.prepare import IMAGES
from msvdd.data.table import read_table

FIELD = "INPUT"
ARRAY_LABELS = {"x_test": ("labels_test", "y_test"), "x": ("y", "labels")}


def input_labels(inputs: list[str], prep: dict, label_column: str | None = None) -> list[str] | None:
    """One label per item of ``inputs`` ("" where an item has none), or None when none has one."""
    labels = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.suffix.lower() in (".npz", ".npy"):  # images or feature rows (n, d)
            labels += _array_labels(path)
        elif prep["kind"] != IMAGES:
            labels += _table_labels(path, label_column)
        else:
            labels += _folder_labels(path)
    return labels if any(labels) else None


def _table_labels(path: Path, column: str | None) -> list[str]:
    df = read_table(path, FIELD)
    df.columns = [str(c) for c in df.columns]
    if column is None or column not in df.columns:
        return [""] * len(df)
    values = df[column]
    if values.dtype.kind == "f" and values.notna().all() and (values % 1 == 0).all():
        values = values.astype("int64")  # 1.0 -> "1", as the training run names the class
    return ["" if v != v else str(v) for v in values.tolist()]  # v != v: a missing label (NaN)


def _array_labels(path: Path) -> list[str]:
    arrays = read_arrays(path, FIELD)
    key = next((k for k in ARRAY_LABELS if k in arrays), next(iter(arrays)) if len(arrays) == 1 else None)
    n = len(arrays[key]) if key is not None else 0
    for name in ARRAY_LABELS.get(key, ()):
        if name in arrays and arrays[name].ndim == 1 and len(arrays[name]) == n:
            return [str(v) for v in arrays[name].tolist()]
    return [""] * n


def _folder_labels(path: Path) -> list[str]:
    if not path.is_dir():
        return [""]  # one image file: no folder says what it is
    parts = [f.relative_to(path).parts for f in find_images(path)]
    return [p[0] if len(p) > 1 else "" for p in parts]
