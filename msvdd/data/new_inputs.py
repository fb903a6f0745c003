"""New data for a saved model (msvdd.predict): image files, folders, .npz/.npy arrays or CSV/Parquet
tables, read and preprocessed exactly as the model's training run read its test data."""

from __future__ import annotations

from pathlib import Path

import torch

from msvdd.data.arrays import as_feature_rows, as_image_batch, read_arrays
from msvdd.data.images import COLORS, MAX_8, decode_images, find_images, is_image, pixel_max
from msvdd.data.prepare import IMAGES, prepare_images, prepare_table
from msvdd.data.table import feature_values, read_table, short_list
from msvdd.errors import ConfigError

FIELD = "INPUT"
IMAGE_INPUTS = "image files, folders of images, .npz or .npy arrays"
TABLE_INPUTS = ".csv or .parquet tables with the model's feature columns, or .npz/.npy feature rows"


def read_inputs(inputs: list[str], prep: dict) -> tuple[list[str], torch.Tensor]:
    """(names, preprocessed tensor) of every item in ``inputs``, in order; ConfigError on bad input."""
    read = _image_input if prep["kind"] == IMAGES else _table_input
    names, parts = [], []
    for item in inputs:
        path = Path(item).expanduser()
        if not path.exists():
            raise ConfigError(FIELD, item, IMAGE_INPUTS if prep["kind"] == IMAGES else TABLE_INPUTS,
                              "no such file or folder")
        n, x = read(path, item, prep)
        names += n
        parts.append(x)
    return names, torch.cat(parts)


def _image_input(path: Path, item: str, prep: dict):
    shape = tuple(prep["input_shape"])
    if path.suffix.lower() in (".npz", ".npy"):
        arrays = read_arrays(path, FIELD)
        key = next((k for k in ("x_test", "x") if k in arrays), None)
        if key is None and len(arrays) == 1:
            key = next(iter(arrays))
        if key is None:
            raise ConfigError(FIELD, item, "arrays with x_test or x (or one array)", f"found {sorted(arrays)}")
        raw, max_value = as_image_batch(arrays[key], key, FIELD, item)
        if tuple(raw.shape[1:]) != shape:
            raise ConfigError(FIELD, item, f"images of the model's shape {list(shape)} (C, H, W)",
                              f"{key} holds images of shape {list(raw.shape[1:])}")
        return [f"{path.name}#{i}" for i in range(len(raw))], prepare_images(raw, max_value, prep)
    if path.is_dir():
        files = find_images(path)
        if not files:
            raise ConfigError(FIELD, item, IMAGE_INPUTS, "no images found in this folder")
    elif is_image(path):
        files = [path]
    else:
        raise ConfigError(FIELD, item, IMAGE_INPUTS, "not an image, a folder or an array file")
    if shape[0] not in (1, 3):
        raise ConfigError(FIELD, item, ".npz or .npy arrays", f"the model takes {shape[0]}-channel images")
    color = prep.get("color") or next(c for c, (_, n) in COLORS.items() if n == shape[0])
    # on the 16-bit scale where the model's training images were: its test images' numbers exactly
    raw = decode_images(files, color, prep.get("image_size"), "read images", FIELD, expect=shape,
                        wide=prep.get("max_value", MAX_8) > MAX_8)
    return [str(p) for p in files], prepare_images(raw, pixel_max(raw), prep)


def _table_input(path: Path, item: str, prep: dict):
    if path.is_dir():
        raise ConfigError(FIELD, item, TABLE_INPUTS, "a folder; the model scores table rows")
    if path.suffix.lower() in (".npz", ".npy"):  # feature rows (n, d), as dataset=arrays reads them
        arrays = read_arrays(path, FIELD)
        key = next((k for k in ("x_test", "x") if k in arrays), next(iter(arrays)) if len(arrays) == 1 else None)
        if key is None:
            raise ConfigError(FIELD, item, "arrays with x_test or x (or one array)", f"found {sorted(arrays)}")
        rows, _ = as_feature_rows(arrays[key], key, FIELD, item)
        if rows.shape[1] != len(prep["columns"]):
            raise ConfigError(FIELD, item, f"rows of the model's {len(prep['columns'])} features",
                              f"{key} holds rows of {rows.shape[1]}")
        return [f"{path.name}#{i}" for i in range(len(rows))], prepare_table(rows.numpy(), prep["mean"], prep["std"])
    df = read_table(path, FIELD)
    df.columns = [str(c) for c in df.columns]
    values = feature_values(df, prep["columns"], FIELD, item, expected=f"the model's feature columns "
                            f"{short_list(prep['columns'])}")
    return [f"{path.name}#{i}" for i in range(len(df))], prepare_table(values, prep["mean"], prep["std"])
