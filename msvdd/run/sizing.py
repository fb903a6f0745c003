"""Networks sized by the data: the dataset's input shape goes into the network's config where that
leaves it open (``input_shape: null``), and a shape the network cannot take is one error naming both."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf, open_dict

from msvdd.errors import ConfigError


def check_required(node: DictConfig) -> None:
    """A mandatory field (``???``) left unset is a ConfigError, not OmegaConf's traceback."""
    missing = sorted(OmegaConf.missing_keys(node))  # full keys, e.g. dataset.label
    if missing:
        raise ConfigError(missing[0], "???", f"a value on the command line, e.g. {missing[0]}=...",
                          "required and not set")


def size_network(cfg: DictConfig, input_shape) -> None:
    """Set ``network.input_shape`` to the data's ``input_shape`` where the config leaves it null."""
    if "input_shape" in cfg.network and cfg.network.input_shape is None:
        with open_dict(cfg):
            cfg.network.input_shape = [int(v) for v in input_shape]


def explain_size(err: ConfigError, dataset_name: str, input_shape) -> ConfigError:
    """``err`` (from building the network) with the data's shape added, so it names both sizes."""
    if err.field.startswith("network."):
        err.args = (f"{err} (dataset={dataset_name} gives items of shape {[int(v) for v in input_shape]})",)
    return err
