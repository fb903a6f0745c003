"""What every baseline detector shares: input checks, the feature space, predict's threshold, save/load.

A subclass only says how to fit its scikit-learn detector on features and how to score them
(higher = more anomalous). Like DeepSVDD, ``__init__`` stores, ``fit`` validates and learns,
``predict`` returns 1 for an anomaly and 0 for a normal point.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time

import joblib
import numpy as np
import torch

from msvdd.baselines.features import PixelFeatures
from msvdd.errors import ConfigError

FORMAT = 1


def as_matrix(X) -> np.ndarray:
    """Images (n, C, H, W) or rows (n, d) -> float32 rows, checked as DeepSVDD checks its input."""
    X = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"X must hold one image or feature row per sample; got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("X holds no samples")
    X = X.reshape(len(X), -1).astype(np.float32, copy=False)
    bad = int((~np.isfinite(X)).any(1).sum())
    if bad:
        raise ValueError(f"X has NaN or infinite values in {bad} samples")
    return X


def check_contamination(value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError("model.contamination", value, "a number in (0, 1)")


class Baseline:
    """A classic detector on a feature space.

    Parameters (shared)
    -------------------
    features : PixelFeatures (default) or PCAFeatures, fitted on the training data in ``fit``.
    contamination : share of the training data ``predict`` calls anomalous (its threshold).
    seed : seeds every random choice (forest, subsample, PCA solver).

    Attributes
    ----------
    features_ : the fitted feature space.  threshold_ : score above which ``predict`` says 1.
    train_scores_ : scores of the training points.  timings_ : seconds of fit.
    """

    name = "baseline"

    def validate(self, input_shape=None) -> None:
        """Check the parameters before any data is read (the run calls this first)."""
        (self.features or PixelFeatures()).validate(input_shape)
        check_contamination(self.contamination)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError("seed", self.seed, "an int")
        self._validate()

    def _validate(self) -> None:
        """The subclass's own parameter checks."""

    def fit(self, X, y=None):
        """Learn from normal data only; ``y`` is ignored (the detectors are unsupervised)."""
        X = as_matrix(X)
        self.validate(X.shape[1:])
        t = time.perf_counter()
        self.features_ = self._fresh_features().fit(X)
        Z = self.features_.transform(X)
        self.train_scores_ = self._fit(Z)
        self.threshold_ = float(np.quantile(self.train_scores_, 1 - self.contamination))
        self.timings_ = {"fit": time.perf_counter() - t}
        return self

    def _fresh_features(self):
        return copy.deepcopy(self.features or PixelFeatures())

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score, higher = more anomalous."""
        if not hasattr(self, "features_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: call fit(X) (or load(path)) first")
        return self._score(self.features_.transform(as_matrix(X))).astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        """Score minus the threshold: > 0 means anomalous."""
        return self.score_samples(X) - self.threshold_

    def predict(self, X) -> np.ndarray:
        """1 for an anomaly, 0 for a normal point."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def describe(self) -> dict:
        """What results.json records about the fitted detector."""
        return {"features": self.features_.describe(), "threshold": self.threshold_}

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """Pickle the fitted detector (joblib), via a temp file and a rename: never half-written.

        Load only files you wrote: unpickling runs code.
        """
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        os.close(fd)
        try:
            joblib.dump({"format": FORMAT, "class": type(self).__name__, "model": self}, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path):
        state = joblib.load(path)
        model = state.get("model") if isinstance(state, dict) else None
        if not isinstance(model, cls):
            raise ValueError(f"{path} does not hold a {cls.__name__} (found {state.get('class')!r})")
        return model
