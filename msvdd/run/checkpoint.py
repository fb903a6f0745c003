"""Evaluating a saved model (``ckpt_path=RUN/model.pt``) on the command line's data, without training."""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from msvdd.errors import ConfigError
from msvdd.model_file import load_model
from msvdd.nested import flatten
from msvdd.run.settings import run_settings
from msvdd.run.typed import is_typed, typed_keys

log = logging.getLogger(__name__)


def load_checkpoint(path, input_shape) -> tuple[object, dict]:
    """(the saved model, the run that trained it). A model of another input shape is refused here, with
    both shapes named, rather than failing in a matrix product."""
    model = load_model(path, field="ckpt_path")
    try:
        model.validate(input_shape)
    except ConfigError as err:
        shape = list(input_shape)
        problem = (f"its network takes inputs of shape {err.value}, the dataset's are {shape}"
                   if err.field == "network.input_shape" else f"it does not fit the data ({err})")
        raise ConfigError("ckpt_path", str(path), f"a model of inputs of shape {shape}", problem) from None
    run = model.meta_.get("run")
    return model, run if isinstance(run, dict) else {}


def checkpoint_settings(cfg: DictConfig, dataset_name: str, trained_run: dict) -> dict:
    """The settings an evaluation records: the checkpoint's own (network, training, the model's options),
    with the command line's data. Settings the user typed (or, outside Hydra's app, any the caller's config
    gives) that the checkpoint overrides are named in a warning; defaults nobody typed are not."""
    given = run_settings(cfg, dataset_name)
    data = {k: given[k] for k in ("dataset", "dataset_options", "group")}
    own = dict(trained_run.get("settings") or {})
    mine, theirs, typed = flatten(given), flatten(own), typed_keys()
    ignored = sorted(k for k in mine.keys() & theirs.keys() if k.split(".")[0] not in data and mine[k] != theirs[k]
                     and (typed is None or is_typed(k, typed)))
    if ignored:
        log.warning("ckpt_path: the checkpoint's own settings are used and recorded; ignoring the command line's %s",
                    ", ".join(f"{k}={mine[k]!r} (checkpoint: {theirs[k]!r})" for k in ignored))
    return {**own, **data}
