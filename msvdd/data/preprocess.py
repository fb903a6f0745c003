"""Preprocessing of Ruff et al. (2018): global contrast normalisation (L1) per image, then min-max scaling
with constants from the normal training data. Everything works on whole batches at once."""

from __future__ import annotations

import torch

# float64 values per chunk in gcn_l1 (16 MiB): smaller chunks stay in cache but start more parallel
# regions, which gets very slow when other processes compete for the cores (a joblib sweep).
_CHUNK_VALUES = 1 << 21


def to_float(images: torch.Tensor, max_value: float) -> torch.Tensor:
    """Integer pixels 0..max_value -> float32 in [0, 1], as torchvision's ToTensor does for 255.

    GCN is scale-invariant; scaling first only follows Ruff et al.'s pipeline step for step.
    """
    return images.to(torch.float32).div_(max_value)


def gcn_l1(x: torch.Tensor) -> torch.Tensor:
    """Global contrast normalisation with the L1 norm, per image; the first dimension indexes the images.

    Each image loses its mean (over all its pixels and channels) and is divided by its mean absolute
    deviation. A constant image has deviation 0 and is divided by 1 instead (it becomes all zeros).
    Returns a new tensor of ``x``'s shape and float type (float32 for integer input). The sums run in
    float64, in chunks of about two million values: float64 reproduces Ruff et al.'s min/max constants to
    a quarter float32 ulp (float32 arithmetic drifts by ~5e-6 on MNIST class 1), and chunks bound the
    memory and run faster than one pass over the whole batch.
    """
    if x.dim() < 2:
        raise ValueError(f"gcn_l1 needs a batch of images (n, ...), got shape {tuple(x.shape)}")
    dtype = x.dtype if x.is_floating_point() else torch.float32
    flat = x.reshape(x.shape[0], -1)
    chunk = max(1, _CHUNK_VALUES // max(1, flat.shape[1]))
    out = torch.empty(flat.shape, dtype=dtype, device=x.device)
    for start in range(0, flat.shape[0], chunk):
        part = flat[start : start + chunk].to(torch.float64, copy=True)  # in-place below: never touch x
        part -= part.mean(dim=1, keepdim=True)
        scale = part.abs().mean(dim=1, keepdim=True)
        out[start : start + chunk] = part.div_(torch.where(scale > 0, scale, torch.ones_like(scale)))
    return out.reshape(x.shape)


def fit_min_max(x: torch.Tensor) -> tuple[float, float]:
    """The (min, max) of ``x`` over all its values, as Python floats."""
    if x.numel() == 0:
        raise ValueError("fit_min_max needs at least one value")
    return float(x.min()), float(x.max())


def apply_min_max(x: torch.Tensor, lo: float, hi: float, inplace: bool = False) -> torch.Tensor:
    """(x - lo) / (hi - lo): [lo, hi] -> [0, 1]. Data outside the fitted range goes outside [0, 1].

    A zero range (all fitted values equal) divides by 1 instead, like gcn_l1 for a constant image.
    ``inplace`` overwrites ``x`` (a float tensor) instead of allocating a new one.
    """
    span = hi - lo
    out = x.sub_(lo) if inplace else x - lo
    return out.div_(span if span != 0 else 1.0)
