"""From the composed config to what one run needs: classes, dataset, model, method and settings.

Everything that can be wrong with a config fails here, before any data is read: unknown keys,
unset fields, a network that does not fit the data, a checkpoint that is not a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hydra.errors import InstantiationException
from hydra.utils import get_class
from hydra.utils import instantiate as hydra_instantiate
from omegaconf import DictConfig, OmegaConf

from msvdd import threads
from msvdd.errors import ConfigError
from msvdd.model_file import OneClassModel
from msvdd.run import keys, numbers, toplevel
from msvdd.run.checkpoint import checkpoint_settings, load_checkpoint
from msvdd.run.groups import group_classes
from msvdd.run.settings import run_settings
from msvdd.run.sizing import check_required, explain_size, size_network
from msvdd.run.typed import typed_keys


@dataclass
class Job:
    """One run, composed: what it trains (or evaluates) on which data, and the settings it records."""

    cfg: DictConfig
    classes: list[int]
    dataset: object
    model: OneClassModel
    method: str
    settings: dict
    trained_run: dict | None = None  # evaluating a checkpoint: the run that trained it

    @property
    def evaluating(self) -> bool:
        return self.trained_run is not None


def compose(cfg: DictConfig) -> Job:
    """The job ``cfg`` describes; ConfigError (one line) for anything a user must fix first."""
    toplevel.check(cfg)  # unknown keys at every depth, then values: nothing is built or read before
    keys.check(cfg)
    numbers.check(cfg)
    classes = normal_classes(cfg)
    dataset = instantiate(cfg.dataset, normal_classes=classes)
    if isinstance(classes, int):  # a bare int is one class: recorded as the list the dataset made of it
        classes = list(dataset.normal_classes)
    size_network(cfg, dataset.input_shape)  # own data: reads the files to learn their shape
    if cfg.ckpt_path:  # evaluate: the checkpoint's model and settings, the command line's data
        model, trained_run = load_checkpoint(cfg.ckpt_path, dataset.input_shape)
        settings = checkpoint_settings(cfg, dataset.name, trained_run)
        return Job(cfg, classes, dataset, model, trained_run.get("method", "unknown"), settings, trained_run)
    settings = run_settings(cfg, dataset.name)  # before instantiate, which resolves interpolations in place
    try:
        model = instantiate(cfg.model, _convert_="all")
    except ConfigError as err:
        raise explain_size(err, dataset.name, dataset.input_shape) from None
    model.validate(dataset.input_shape)
    return Job(cfg, classes, dataset, model, str(cfg.method), settings)


def apply_process_settings(cfg: DictConfig) -> None:
    """Threads (torch, BLAS/OpenMP of numpy and scikit-learn) and the GPU settings, for this process."""
    threads.pin(int(cfg.threads))  # held after the clustering too (msvdd.threads)
    instantiate(cfg.accel).apply()


def normal_classes(cfg: DictConfig) -> list[int]:
    """dataset.normal_classes, or the classes of the group addressed by (group.size, group.index); never both
    typed on one command line (the group would win in silence)."""
    check_required(cfg.dataset)
    g = cfg.group
    if g.size is not None and "dataset.normal_classes" in (typed_keys() or ()):
        typed = cfg.dataset.normal_classes
        typed = list(typed) if OmegaConf.is_list(typed) else typed
        raise ConfigError("group.size", g.size, "one of them (group.size=null to run the classes typed)",
                          f"given with dataset.normal_classes={typed}: both say which classes are normal")
    if g.size is None:  # a list, a bare int, null or a typo: the dataset checks it as typed (never list("abc"))
        value = cfg.dataset.normal_classes
        return list(value) if OmegaConf.is_list(value) else value
    n_classes = getattr(get_class(cfg.dataset._target_), "n_classes", None)  # a class attribute of each dataset
    if n_classes is None:
        raise ConfigError("group.size", g.size, "null: class groups need a dataset with a fixed class list")
    return list(group_classes(g.size, g.index, n_classes=n_classes, count=g.count, seed=g.seed,
                              split=g.split, dev_count=g.dev_count, dev_seed=g.dev_seed))


def instantiate(node, **kwargs):
    """hydra.utils.instantiate, re-raising our ConfigError instead of Hydra's wrapper around it."""
    try:
        return hydra_instantiate(node, **kwargs)
    except InstantiationException as wrapped:
        cause = wrapped.__cause__
        while isinstance(cause, InstantiationException):  # nested _target_s wrap once per level
            cause = cause.__cause__
        if isinstance(cause, ConfigError):
            raise cause from None
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(cause))
        where = re.search(r"full_key: (\S+)", str(wrapped))
        if isinstance(cause, TypeError) and unknown:  # e.g. +train.foo=1: a key its group does not have
            root = node._get_root() if isinstance(node, DictConfig) else node
            group = _as_typed(root, where.group(1)) if where else "its group"
            field = f"{group}.{unknown.group(1)}"
            raise ConfigError(field, OmegaConf.select(root, field), f"the fields of {group} (see --cfg job)",
                              "unknown key") from None
        raise


def _as_typed(root: DictConfig, full_key: str) -> str:
    """The path a user typed for a node: ``model.train`` is ``train`` when the model interpolates ``${train}``."""
    parts = full_key.split(".")
    if parts[0] == "model" and len(parts) > 1 and isinstance(root.get("model"), DictConfig):
        node = root.model._get_node(parts[1])
        whole = re.fullmatch(r"\$\{(\w+)\}", str(node._value())) if node is not None else None
        if whole:
            return ".".join([whole.group(1), *parts[2:]])
    return full_key
