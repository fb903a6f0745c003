"""The preprocessing record a trained model carries, and its application to new raw data.

A run's test data and ``msvdd.predict`` go through the same functions here, so that predict scores the
run's test items bit for bit as the run did. The record holds plain lists and numbers only: it is saved
inside model.pt, which is read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import numpy as np
import torch

from msvdd.data.normalize import apply_normalization

IMAGES, TABLE = "images", "table"


def image_preprocessing(shape, max_value: float, normalization: dict, color: str | None = None,
                        image_size=None) -> dict:
    """Images: ``normalization`` is the fitted record of msvdd.data.normalize (rule and constants)."""
    return {"kind": IMAGES, "input_shape": [int(v) for v in shape], "max_value": float(max_value),
            **normalization, "color": color, "image_size": image_size}


def prepare_images(x: torch.Tensor, max_value: float, prep: dict) -> torch.Tensor:
    """Raw images (n, C, H, W) -> the network's input, with the training record ``prep``."""
    return apply_normalization(x, prep, max_value)


def table_preprocessing(columns, mean: np.ndarray, std: np.ndarray) -> dict:
    """Tables: standardisation of each feature column with the normal training rows' mean and std."""
    return {"kind": TABLE, "input_shape": [len(columns)], "columns": [str(c) for c in columns],
            "mean": [float(v) for v in mean], "std": [float(v) for v in std]}


def fit_standardisation(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std (float64); a constant column gets std 1, so it maps to zeros."""
    mean, std = values.mean(axis=0), values.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def prepare_table(values: np.ndarray, mean, std) -> torch.Tensor:
    """Raw feature rows (n, d) -> standardised float32 rows, computed in float64."""
    out = (np.asarray(values, dtype=np.float64) - np.asarray(mean)) / np.asarray(std)
    return torch.from_numpy(out.astype(np.float32))
