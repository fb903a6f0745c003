"""model.pt: one file format for every model msvdd fits, Deep SVDD and each baseline.

A model file is a ``torch.save``'d dict of tensors and plain values (no pickled objects), read back
with ``weights_only=True``: a file from elsewhere cannot run code when it is loaded, and any saved
model, whatever its kind, is scored by the same ``msvdd.predict``.

    {"format": 3, "kind": "deep_svdd" | "knn" | ..., "state": {...}, "meta": {...}}

``state`` is the model's own (written by its ``_state()``, read by its ``_from_state``); ``meta`` is
what the run adds about the data and itself (preprocessing, training scores, the run's settings), kept
as the loaded model's ``meta_``. Reading is where a user's mistake shows up (a results.json, a truncated
copy, a folder, an old file): each becomes one ConfigError naming the field the path came from.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from msvdd.errors import ConfigError
from msvdd.files import save_torch

FORMAT = 3  # 1: networks before Ruff's; 2: Deep SVDD only (baselines were pickles); 3: one format for all
KINDS = {  # kind -> the class that rebuilds it; classes are imported only when a file of theirs is read
    "deep_svdd": "msvdd.svdd.DeepSVDD",
    "knn": "msvdd.baselines.KNNDetector",
    "lof": "msvdd.baselines.LOFDetector",
    "iforest": "msvdd.baselines.IForestDetector",
    "ocsvm": "msvdd.baselines.OCSVMDetector",
    "ae_recon": "msvdd.baselines.AEReconstruction",
}
ALLOWED = "a model.pt written by msvdd (every training run writes one)"


class OneClassModel(Protocol):
    """What every model speaks (DeepSVDD and each baseline), so a run never asks which kind it holds.

    Sign convention: scores are higher for more anomalous points; ``predict`` is 1 for an anomaly.
    Fitted attributes end in ``_``: ``timings_`` (seconds per phase of ``fit``), ``train_scores_`` (the
    training points' scores as new normal points would get them: a neighbour rule leaves each point out);
    a loaded model has ``meta_`` (what its run saved with it).
    """

    kind: str
    seed: int

    def validate(self, input_shape=None) -> None: ...  # parameters and the data's shape, before any work
    def fit(self, X, y=None) -> OneClassModel: ...
    def score_samples(self, X) -> np.ndarray: ...
    def decision_function(self, X) -> np.ndarray: ...  # > 0: anomalous
    def predict(self, X) -> np.ndarray: ...
    def describe(self, y=None) -> dict: ...  # what results.json records; y (true classes) for agreement scores
    def item_columns(self, X, show_progress: bool = False) -> dict[str, np.ndarray]: ...  # test_scores.csv
    def figures(self, folder, X_train, y_train, trained: bool = True) -> None: ...  # the model's own PNGs
    def save(self, path, meta: dict | None = None) -> None: ...


class SavedModel:
    """``save`` / ``load`` for a model class that says how it becomes plain state and back.

    A subclass sets ``kind`` (a key of KINDS) and implements ``_state() -> dict`` (tensors and plain
    values only) and the classmethod ``_from_state(state, device)``.
    """

    kind = "?"

    def save(self, path, meta: dict | None = None) -> None:
        """Write the fitted model and ``meta`` to ``path``: temp file then rename, never half-written."""
        write(path, self.kind, self._state(), meta)

    @classmethod
    def load(cls, path, device: str = "cpu", field: str = "ckpt_path"):
        """The model saved at ``path``; ConfigError (one line, on ``field``) when it is not one of this class."""
        model = load_model(path, device, field)
        if not isinstance(model, cls):
            raise _error(field, path, f"it holds a {model.kind} model, not a {cls.kind} one")
        return model


def write(path, kind: str, state: dict, meta: dict | None = None) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    save_torch(path, {"format": FORMAT, "kind": kind, "state": state, "meta": meta or {}})


def load_model(path, device: str = "cpu", field: str = "ckpt_path"):
    """Any msvdd model from its file, ready to score on ``device``, with ``meta_`` set."""
    file = read(path, field)
    module, _, name = KINDS[file["kind"]].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    try:
        model = cls._from_state(file["state"], device)
    except Exception as err:  # noqa: BLE001  wrong types, shapes, keys: all mean "not one of ours"
        raise _error(field, path, f"its model cannot be rebuilt ({type(err).__name__}: {_line(err)})") from None
    model.meta_ = file["meta"] if isinstance(file["meta"], dict) else {}
    return model


def read(path, field: str = "ckpt_path") -> dict:
    """The file's dict, checked: a readable PyTorch file of msvdd's current format and a known kind."""
    path = Path(path)
    if not path.exists():
        raise _error(field, path, "no such file")
    if path.is_dir():
        raise _error(field, path, "a folder, not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as err:
        raise _error(field, path, f"cannot be read ({err.strerror})") from None
    if not head.startswith((b"PK\x03\x04", b"\x80")):  # torch.save writes a zip (very old ones a pickle)
        raise _error(field, path, "not a PyTorch file (a text file, results.json...?)")
    try:
        file = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  truncated zip, foreign pickle, an old pickled baseline
        raise _error(field, path, f"a truncated or foreign PyTorch file, or one written by an older msvdd "
                                  f"({type(err).__name__}: {_line(err)})") from None
    if not isinstance(file, dict):
        raise _error(field, path, f"holds a {type(file).__name__}, not an msvdd model")
    if file.get("format") in (1, 2):
        raise _error(field, path, f"written by an older msvdd (format {file['format']}): train it again")
    if file.get("format") != FORMAT or not isinstance(file.get("state"), dict):
        raise _error(field, path, f"not an msvdd model of format {FORMAT} (found format {file.get('format')!r})")
    if file.get("kind") not in KINDS:
        raise _error(field, path, f"a model of unknown kind {file.get('kind')!r}")
    return file


def _line(err: Exception, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _error(field: str, path, problem: str) -> ConfigError:
    return ConfigError(field, str(path), ALLOWED, problem)
