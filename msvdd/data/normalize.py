"""How images become network input (``dataset.normalize``): fitted on the normal training images, recorded,
and applied unchanged to the test split and to new data in ``msvdd.predict``.

Ruff et al.'s per-image GCN removes each image's brightness and contrast, which suits digits and
clothes but erases what tells some data apart (colour, exposure): the other rules keep it.
"""

from __future__ import annotations

import torch

from msvdd.data.preprocess import apply_min_max, fit_min_max, gcn_l1, to_float
from msvdd.errors import ConfigError

NORMALIZATIONS = {
    "gcn_minmax": "GCN-L1 per image, then min-max with the training range (Ruff et al.'s, the default)",
    "minmax": "min-max with the training range, no per-image step (keeps brightness and colour)",
    "standardize": "per-channel mean and std of the training images",
    "none": "raw pixels on [0, 1] (integer images) or as given (float images)",
}
DEFAULT = "gcn_minmax"
MINMAX_FROM = ("group", "first_class")  # the images min-max constants come from (benchmarks)


def check_normalize(value, field: str = "dataset.normalize") -> str:
    if not isinstance(value, str) or value not in NORMALIZATIONS:
        raise ConfigError(field, value, " | ".join(NORMALIZATIONS))
    return value


def fit_normalization(x: torch.Tensor, max_value: float, normalize: str = DEFAULT,
                      fit_on: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """Raw training images (n, C, H, W) -> (network input, the record that repeats it on other images).

    ``fit_on`` (a boolean mask) fits the min-max constants on those images only: the seed's code scales a
    group with its first normal class's constants (``dataset.minmax_from=first_class``)."""
    check_normalize(normalize)
    x = to_float(x, max_value)
    if normalize == "gcn_minmax":
        x = gcn_l1(x)
    if normalize in ("gcn_minmax", "minmax"):
        lo, hi = fit_min_max(x if fit_on is None else x[fit_on])
        return apply_min_max(x, lo, hi, inplace=True), {"normalize": normalize, "scale": [lo, hi]}
    if normalize == "standardize":
        dims = [0, *range(2, x.dim())]
        mean = x.mean(dim=dims, dtype=torch.float64)
        std = x.to(torch.float64).std(dim=dims, correction=0)
        std = torch.where(std > 0, std, torch.ones_like(std))
        record = {"normalize": normalize, "mean": mean.tolist(), "std": std.tolist()}
        return apply_normalization(x, record, scaled=True), record
    return x, {"normalize": normalize}


def apply_normalization(x: torch.Tensor, record: dict, max_value: float = 1.0, scaled: bool = False) -> torch.Tensor:
    """Raw images -> network input with a fitted ``record`` (records older than ``normalize`` are Ruff's)."""
    x = x if scaled else to_float(x, max_value)
    normalize = record.get("normalize", DEFAULT)
    if normalize == "gcn_minmax":
        x = gcn_l1(x)
    if normalize in ("gcn_minmax", "minmax"):
        lo, hi = record["scale"]
        return apply_min_max(x, lo, hi, inplace=not scaled or normalize == "gcn_minmax")
    if normalize == "standardize":
        shape = (1, -1) + (1,) * (x.dim() - 2)
        mean = torch.tensor(record["mean"], dtype=torch.float64).reshape(shape)
        std = torch.tensor(record["std"], dtype=torch.float64).reshape(shape)
        return ((x.to(torch.float64) - mean) / std).to(torch.float32)
    return x
