"""One rule for where msvdd writes: every output path lies outside every input path.

A run folder inside an image folder dataset puts its plots among the images, and the next run trains on
them (a new class "outputs"); a cache inside the data does the same. The outputs are the run or sweep
folder and every ``cache_dir`` of the config (the pretraining, image and numba caches); the inputs are the
user's own data (``dataset.path``: a folder, or a file). Checked before Hydra creates the run folder
(msvdd.run.job_guards.OutputCheck) and again by the run itself (msvdd.run.job), so nothing is written
into the data, not even Hydra's ``.hydra/`` or ``app.log``.

An empty output root (``MSVDD_OUTPUTS=""``) would put ``/runs`` and ``/cache`` at the filesystem root: refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from msvdd.errors import ConfigError

INPUTS = ("dataset.path",)
OUTPUT_KEYS = ("root_dir", "cache_dir")  # any node's: paths.root_dir, paths.cache_dir, dataset.cache_dir, ...


def _value(cfg: DictConfig, key: str):
    try:
        return OmegaConf.select(cfg, key, default=None, throw_on_missing=False)
    except Exception:  # noqa: BLE001 - an interpolation that does not resolve: its own error comes later
        return None


def _real(path) -> Path:
    return Path(os.path.expanduser(str(path))).resolve()


def output_paths(cfg: DictConfig) -> dict[str, str]:
    """``{field: path}`` for every ``root_dir`` and ``cache_dir`` below the top level (null ones left out)."""
    found = {}

    def walk(node: DictConfig, prefix: str) -> None:
        for key in node:
            full = f"{prefix}{key}"
            if full == "hydra":
                continue
            child = node._get_node(key)
            if isinstance(child, DictConfig):
                walk(child, f"{full}.")
            elif key in OUTPUT_KEYS:
                value = _value(cfg, full)
                if isinstance(value, str | os.PathLike) and value:
                    found[full] = str(value)

    walk(cfg, "")
    return found


def check(cfg: DictConfig, outputs: dict[str, str | os.PathLike] | None = None) -> None:
    """ConfigError when ``paths.root_dir`` is empty or an output (``outputs``, e.g. the run folder, and the
    config's caches) lies inside an input (``dataset.path``)."""
    root = _value(cfg, "paths.root_dir")
    if isinstance(root, str) and not root.strip():
        raise ConfigError("paths.root_dir", root, "a folder (unset MSVDD_OUTPUTS to write under outputs/)",
                          "an empty output root writes at the filesystem root (MSVDD_OUTPUTS is set but empty?)")
    inputs = {key: _real(v) for key in INPUTS if isinstance(v := _value(cfg, key), str) and v and v != "???"}
    inputs = {key: path for key, path in inputs.items() if path.exists()}
    if not inputs:
        return
    for field, out in {**{k: str(v) for k, v in (outputs or {}).items()}, **output_paths(cfg)}.items():
        real = _real(out)
        for key, data in inputs.items():
            if real.is_relative_to(data):
                it = "it" if str(real) == out else str(real)
                how = "or null" if field.endswith("cache_dir") else "(set MSVDD_OUTPUTS or paths.root_dir elsewhere)"
                raise ConfigError(field, out, f"a folder outside {key} {how}",
                                  f"{it} lies inside {key} {data}: msvdd never writes into its input data")
