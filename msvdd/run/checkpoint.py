"""Evaluating a saved model (``ckpt_path=RUN/model.pt``) on the command line's data, without training."""

from __future__ import annotations

from msvdd.errors import ConfigError
from msvdd.model_file import load_model


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
