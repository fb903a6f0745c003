"""``python -m msvdd.predict MODEL INPUT... --out scores.csv`` (or ``msvdd-predict``): score new data with
any saved model.pt (Deep SVDD or a baseline), one CSV row per item: name, then the model's
``item_columns``: score (higher = more anomalous), for Deep SVDD the nearest sphere, and whether the
item is outside (1: anomalous).

The model carries its training data's preprocessing (constants, input shape, colour and size, or the
feature columns with their mean and std), so new data goes through exactly what its test data did.
"Outside" is the model's own verdict (``predict``: outside every fitted sphere, or a baseline's score
above its fitted threshold), or with ``--threshold-quantile q`` a score above the q-quantile of the
training items' scores (e.g. 0.95: about 5 % of normal data is flagged). Bad input: one line, exit 2,
no file; ``--out`` never names an input, nor a file inside an input folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from msvdd import threads
from msvdd.data.new_inputs import read_inputs
from msvdd.errors import ConfigError
from msvdd.files import write_csv
from msvdd.input_labels import input_labels
from msvdd.model_file import load_model
from msvdd.svdd.accel import AccelSettings

log = logging.getLogger("msvdd.predict")


def check_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise ConfigError("--device", device, "cpu, auto, or cuda[:N] on a machine with a GPU")
    return device


def load_saved(path: str, device: str = "cpu"):
    """A saved model with its preprocessing record; ConfigError when the file is not one."""
    allowed = "a model.pt written by a msvdd run (outputs/runs/<date>/<time>/model.pt)"
    if not Path(path).is_file():
        raise ConfigError("MODEL", path, allowed, "no such file")
    try:
        model = load_model(path, device=device, field="MODEL")
    except ConfigError as err:  # the model file reader already says what is wrong with the file: pass that on
        raise ConfigError("MODEL", path, allowed, f"cannot load it: {err.problem or err.allowed}") from None
    except Exception as err:  # noqa: BLE001  any unreadable or foreign file means the same to the user
        raise ConfigError("MODEL", path, allowed, f"cannot load it ({type(err).__name__})") from None
    if not (model.meta_ or {}).get("preprocessing"):
        raise ConfigError("MODEL", path, allowed, "it has no preprocessing record (saved by an older msvdd): "
                          "train it again")
    return model


def check_quantile(q) -> float | None:
    if q is not None and not 0 < q < 1:
        raise ConfigError("--threshold-quantile", q, "a number in (0, 1), e.g. 0.95")
    return q


def check_out(out: str, model_path: str, inputs: list[str]) -> Path:
    """The CSV's path, refused when it is (or resolves to, through links) the model or an input file, or
    lies in an input folder: a typo in ``--out`` must never cost the user their data."""
    out_path = Path(out).expanduser().absolute()
    if not out_path.parent.is_dir():
        raise ConfigError("--out", out, "a file in an existing folder", f"no folder {out_path.parent}")
    if out_path.is_dir():
        raise ConfigError("--out", out, "a file name, e.g. scores.csv", "a folder")
    real_out = out_path.resolve()
    for item in inputs:
        folder = Path(item).expanduser().absolute()
        if folder.is_dir() and (out_path.is_relative_to(folder) or real_out.is_relative_to(folder.resolve())):
            raise ConfigError("--out", out, "a file outside the input folders", "msvdd never writes into data")
    for item in [model_path, *inputs]:
        path = Path(item).expanduser().absolute()
        if real_out == path.resolve() or (out_path.exists() and path.exists() and os.path.samefile(out_path, path)):
            raise ConfigError("--out", out, "a file that is none of the inputs (MODEL, INPUT...)",
                              f"it is the input {item}: msvdd never writes over its inputs")
    try:  # before any scoring: a folder we cannot write into is one line, not a traceback at the end
        fd, probe = tempfile.mkstemp(dir=out_path.parent, prefix=".msvdd-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ConfigError("--out", out, "a file in a folder you can write", f"cannot write there ({err.strerror})") \
            from None
    return out_path


def predict(model_path: str, inputs: list[str], out: str, threshold_quantile: float | None = None,
            device: str = "cpu", show_progress: bool | None = None) -> dict[str, np.ndarray]:
    """Score ``inputs`` with the model at ``model_path`` and write ``out``; returns the columns."""
    q, device = check_quantile(threshold_quantile), check_device(device)
    out_path = check_out(out, model_path, inputs)
    model = load_saved(model_path, device)
    if device.startswith("cuda") and model.meta_.get("accel"):  # the run's TF32 / cuDNN settings: its numbers
        AccelSettings(**model.meta_["accel"]).apply()
    if q is not None and model.meta_.get("train_scores") is None:
        raise ConfigError("--threshold-quantile", q, "no --threshold-quantile for this model (its fitted rule)",
                          f"{model_path} holds no training scores to take the quantile of")
    names, x = read_inputs(inputs, model.meta_["preprocessing"])
    show = sys.stderr.isatty() if show_progress is None else show_progress
    items = model.item_columns(x, show_progress=show)
    if q is not None:
        threshold = float(np.quantile(np.asarray(model.meta_["train_scores"], dtype=np.float64), q))
        items["outside"] = (items["score"] > threshold).astype(np.int64)
    labels = input_labels(inputs, model.meta_["preprocessing"], _label_column(model.meta_))
    columns = {"name": names, **items, **({"label": labels} if labels else {})}  # label: what the inputs say
    write_csv(out_path, columns)
    rule = f"score > {threshold:.6g} ({q:g}-quantile of the training scores)" if q is not None else \
        f"the {model.kind} model's fitted rule"
    print(f"msvdd-predict: {len(names)} items scored, {int(items['outside'].sum())} flagged ({rule}); "
          f"wrote {out_path}")
    return columns


def _label_column(meta: dict) -> str | None:
    """The class column a table model was trained with (``dataset.label``), as its run recorded it."""
    options = ((meta.get("run") or {}).get("settings") or {}).get("dataset_options") or {}
    return options.get("label") if isinstance(options.get("label"), str) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msvdd-predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", metavar="MODEL", help="model.pt of a run (Deep SVDD or a baseline)")
    parser.add_argument("inputs", metavar="INPUT", nargs="+",
                        help="image files, folders of images, .npz/.npy arrays, or .csv/.parquet tables")
    parser.add_argument("--out", default="scores.csv", help="the CSV to write (default: scores.csv)")
    parser.add_argument("--threshold-quantile", type=float, default=None, metavar="Q",
                        help="flag scores above the Q-quantile of the training scores (default: the fitted radii)")
    parser.add_argument("--device", default="cpu", help="cpu (default), auto or cuda[:N]: the device of the run "
                        "reproduces its test scores bit for bit")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of torch and BLAS (default 1, as runs: "
                        "the baselines' PCA rounds differently on more threads)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    threads.pin(args.threads)
    try:
        predict(args.model, args.inputs, args.out, args.threshold_quantile, args.device)
    except ConfigError as err:
        print(f"msvdd-predict: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the disk filled up while writing, say: the CSV is whole or absent
        print(f"msvdd-predict: error: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
