"""One rule for every number of the config: finite. NaN and infinities pass most range checks written as
comparisons (``nan <= 0`` is false), so ``train.lr=nan`` used to pretrain for an hour and then fail in
the optimiser; here every group's numbers are checked at composition, before any work. Ranges are each
component's own (``TrainSettings``, the objectives, the clusterings), checked when the config is built.
"""

from __future__ import annotations

import math

from omegaconf import DictConfig, OmegaConf

from msvdd.errors import ConfigError


def check(cfg: DictConfig) -> None:
    """ConfigError for the first NaN or infinite number anywhere in ``cfg`` (as typed: interpolations are
    checked where they point)."""
    _walk("", OmegaConf.to_container(cfg, resolve=False))


def _walk(path: str, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(f"{path}.{key}" if path else str(key), item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, float) and not math.isfinite(item):
                raise _not_finite(path, value)
            _walk(path, item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise _not_finite(path, value)


def _not_finite(path: str, value) -> ConfigError:
    return ConfigError(path, value, "a finite number in the field's range (docs/configuration.md)",
                       "not a finite number")
