"""Checks of the top-level config fields that no component owns: unknown keys, threads.

Hydra lets ``+epochs=5`` add a key nobody reads; the run would go on with the default epochs and
the user would never know. The known keys are read from conf/config.yaml itself (its fields and
its config groups), so a field added there is known here without a second list.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from msvdd.errors import ConfigError

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


def check(cfg: DictConfig) -> None:
    """ConfigError for an unknown top-level key or an unusable ``threads``."""
    known = known_keys()
    for key in cfg:
        if known and key not in known:
            owners = [f"{g}.{key}" for g in cfg if isinstance(cfg.get(g), DictConfig) and key in cfg[g]]
            hint = f" (did you mean {' or '.join(owners)}?)" if owners else ""
            allowed = ", ".join(sorted(k for k in known if k in cfg))
            raise ConfigError(str(key), cfg.get(key), allowed, f"unknown top-level key{hint}")
    threads = cfg.get("threads")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError("threads", threads, "a positive int (torch CPU threads per run)")
