"""Checks of the top-level config fields that no component owns: unknown keys, threads, plots.

Hydra lets ``+epochs=5`` add a key nobody reads; the run would go on with the default epochs and
the user would never know. The known keys are read from conf/config.yaml itself (its fields and
its config groups), so a field added there is known here without a second list.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from msvdd.errors import ConfigError
from msvdd.run.keys import close_key

log = logging.getLogger(__name__)
PRIMARY = Path(__file__).resolve().parents[2] / "conf" / "config.yaml"


@cache
def known_keys() -> frozenset[str]:
    """Fields and config groups of conf/config.yaml (empty when the package runs without conf/)."""
    if not PRIMARY.is_file():
        return frozenset()
    primary = OmegaConf.to_container(OmegaConf.load(PRIMARY))
    groups = set()
    for entry in primary.pop("defaults", []):
        if isinstance(entry, dict):
            groups.update(k.split("@")[0].removeprefix("override ").strip("/ ") for k in entry)
    return frozenset(primary) | frozenset(groups)


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def check(cfg: DictConfig) -> None:
    """ConfigError for an unknown top-level key, an unusable ``threads`` or a ``plots`` that is not a bool;
    a warning for more threads than cores (each run slows down, nothing is wrong)."""
    known = known_keys()
    for key in cfg:
        if known and key not in known:
            owners = [f"{g}.{key}" for g in cfg if isinstance(cfg.get(g), DictConfig) and key in cfg[g]]
            owners = owners or [k for k in [close_key(key, [k for k in known if k in cfg])] if k]
            hint = f" (did you mean {' or '.join(owners)}?)" if owners else ""
            allowed = ", ".join(sorted(k for k in known if k in cfg))
            raise ConfigError(str(key), cfg.get(key), allowed, f"unknown top-level key{hint}")
    threads = cfg.get("threads")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError("threads", threads, "a positive int (torch CPU threads per run)")
    plots = cfg.get("plots")
    if not isinstance(plots, bool):
        raise ConfigError("plots", plots, "true or false", "not a bool")
    if threads > cpu_cores():
        log.warning("threads=%d is more than the %d CPU cores here: the run slows down (threads=1 is fastest for "
                    "the small networks; a sweep runs jobs side by side instead: hydra/launcher=joblib)",
                    threads, cpu_cores())
