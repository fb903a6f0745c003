"""What a run's numbers depend on, read off its config: the settings results.json records and a table compares.

Nothing here is a hand-kept list of groups. The model's config says what it uses: a field that
interpolates a whole top-level group (``network: ${network}``) makes that group part of the run's
settings; its other fields are the model's own options (a kNN's k, FINCH's metric and space). A value
that is the run's seed or a path (``${seed}``, ``${paths.cache_dir}``) varies by design and is left out,
as are the fields that only say where and how fast training runs (``DEVICE_ONLY``), in a top-level group or
in a training phase of the model's own (``method=svdd_many_short``'s ``model.train``). So a kNN run records
no FINCH settings, a CPU and a GPU run of one method record the same settings, and a table can check that
the groups two methods share agree.
"""

from __future__ import annotations

import re

from omegaconf import DictConfig, OmegaConf

from msvdd.svdd.training import DEVICE_ONLY, TrainSettings

SWEPT = ("normal_classes", "root", "cache_dir")  # dataset fields that vary within a table or do not change results
RUN_GROUPS = ("dataset", "group", "accel", "paths")  # the groups the run itself reads (msvdd.run.compose)
VARIES = re.compile(r"\$\{(seed|paths\.|oc\.env:)")  # interpolations of the run's seed or of a path
WHOLE_GROUP = re.compile(r"\$\{(\w+)\}")
TRAIN_TARGET = f"{TrainSettings.__module__}.{TrainSettings.__qualname__}"  # a training phase's _target_


def model_groups(cfg: DictConfig) -> list[str]:
    """The top-level groups the model uses whole (``network: ${network}`` -> network), in config order."""
    raw = OmegaConf.to_container(cfg.model, resolve=False)
    found = {m.group(1) for v in raw.values() if isinstance(v, str) and (m := WHOLE_GROUP.fullmatch(v))}
    return [k for k in cfg if k in found and isinstance(cfg.get(k), DictConfig)]


def run_settings(cfg: DictConfig, dataset_name: str) -> dict:
    """Everything the run's numbers depend on but its group, seed and the method's name."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    settings = {"dataset": dataset_name, "dataset_options": _without(plain["dataset"], "_target_", *SWEPT),
                "group": None if cfg.group.size is None else _without(plain["group"], "index", "size")}
    for group in model_groups(cfg):
        raw = OmegaConf.to_container(cfg[group], resolve=False)
        settings[group] = _without(own_options(raw, plain[group]), *DEVICE_ONLY)
    settings["model"] = own_options(OmegaConf.to_container(cfg.model, resolve=False), plain["model"])
    return settings


def own_options(raw: dict, resolved: dict) -> dict:
    """A node's fields (resolved), without the whole groups it interpolates, seeds and paths."""
    out = {}
    device_only = DEVICE_ONLY if raw.get("_target_") == TRAIN_TARGET else ()
    for key, value in raw.items():
        if key in device_only:
            continue
        if isinstance(value, dict):
            out[key] = own_options(value, resolved[key])
        elif not (isinstance(value, str) and (WHOLE_GROUP.fullmatch(value) or VARIES.search(value))):
            out[key] = resolved[key]
    return out


def used_config(cfg: DictConfig, evaluating: bool = False) -> dict:
    """The resolved config as results.json records it: top-level fields, the run's groups, and the model with
    the groups it uses (none of them when a checkpoint brings its own)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    used = () if evaluating else (*model_groups(cfg), "model")
    owned = ("seed", "method") if evaluating else ()  # the checkpoint's own, recorded under "checkpoint"
    return {k: v for k, v in plain.items()
            if (not isinstance(v, dict) and k not in owned) or k in RUN_GROUPS or k in used}


def _without(d: dict, *keys) -> dict:
    return {k: v for k, v in d.items() if k not in keys}
