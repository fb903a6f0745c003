"""One unknown-key check for every node of the config, nested ones included, and the close key a typo meant.

Hydra refuses ``train.epoch=3`` (no such key), but ``+group.indx=3`` adds a key nobody reads and the run
goes on with group 0. Every node knows its fields without a hand-kept list: a node with ``_target_`` from
the signature of what it builds (checked whether or not this run builds it: a Deep SVDD run never builds
``features``), a plain node (``group``, ``paths``) from the YAML files that define it (conf/config.yaml and
the options of its group, conf/<group>/*.yaml). Top-level keys are msvdd.run.toplevel's.
"""

from __future__ import annotations

import difflib
import inspect
from functools import cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from msvdd.errors import ConfigError

CONF = Path(__file__).resolve().parents[2] / "conf"
HYDRA_KEYS = frozenset({"_target_", "_recursive_", "_convert_", "_partial_", "_args_"})


def close_key(key: str, known) -> str | None:
    """The known key ``key`` most likely misspells (``indx`` -> ``index``) or cuts short (``tf`` -> ``tf32``),
    or None."""
    key, known = str(key), [str(k) for k in known if k != key and k not in HYDRA_KEYS]
    longer = [k for k in known if len(key) >= 2 and k.startswith(key)]
    found = longer if len(longer) == 1 else difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return found[0] if found else None


def unknown_key(field: str, value, known, where: str | None = None) -> ConfigError:
    """The one-line error for ``field`` (``group.indx``), not among the ``known`` fields of its node."""
    parent, _, key = field.rpartition(".")
    where = where or parent or "the config"
    near = close_key(key, known)
    hint = f" (did you mean {parent + '.' if parent else ''}{near}?)" if near else ""
    fields = ", ".join(str(k) for k in known if k not in HYDRA_KEYS)
    return ConfigError(field, value, f"the fields of {where}: {fields}", f"unknown key{hint}")


@cache
def plain_keys() -> dict[str, tuple[str, ...]]:
    """The fields of every top-level node without ``_target_``, from the files that define it (empty without conf/)."""
    if not CONF.is_dir():
        return {}
    found: dict[str, dict] = {}
    sources = [(None, CONF / "config.yaml")] + [(p.parent.name, p) for p in sorted(CONF.glob("*/*.yaml"))]
    built = set()  # groups with an option that has _target_: the signature knows their fields
    for group, path in sources:
        if group == "hydra" or path.read_text().lstrip().startswith("# @package _global_"):
            continue  # Hydra's own node, and options that set other nodes (experiments, searches)
        node = OmegaConf.to_container(OmegaConf.load(path))
        if not isinstance(node, dict):
            continue
        node.pop("defaults", None)
        for name, value in (node.items() if group is None else [(group, node)]):
            if isinstance(value, dict):
                found.setdefault(name, {}).update(dict.fromkeys(value))
                built.update([name] if "_target_" in value else [])
    return {name: tuple(keys) for name, keys in found.items() if name not in built}


@cache
def target_keys(target: str) -> tuple[str, ...] | None:
    """The keyword arguments ``target`` takes, or None where that is not known (``**kwargs``, not importable)."""
    try:
        from hydra.utils import get_object

        params = inspect.signature(get_object(target)).parameters.values()
    except Exception:  # noqa: BLE001 - not importable or no signature: instantiate will say what is wrong
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def check(cfg: DictConfig) -> None:
    """ConfigError for the first key below the top level that its node does not have."""
    raw = OmegaConf.to_container(cfg, resolve=False)
    plain = plain_keys()
    for name, node in raw.items():
        if not isinstance(node, dict):
            continue
        if "_target_" not in node and name in plain:
            _check_node(str(name), node, plain[name])
        _check_targets(str(name), node)


def _check_targets(path: str, node: dict) -> None:
    target = node.get("_target_")
    if isinstance(target, str):
        known = target_keys(target)
        if known is not None:
            _check_node(path, node, (*known, *sorted(HYDRA_KEYS)))
    for key, value in node.items():
        if isinstance(value, dict):
            _check_targets(f"{path}.{key}", value)


def _check_node(path: str, node: dict, known) -> None:
    for key, value in node.items():
        if key not in known:
            raise unknown_key(f"{path}.{key}", value, known, path)
