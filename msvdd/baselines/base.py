"""What every baseline detector shares: input checks, the feature space, predict's threshold, model.pt.

A subclass only says how to fit its scikit-learn detector on features and how to score them
(higher = more anomalous). Like DeepSVDD, ``__init__`` stores, ``fit`` validates and learns,
``predict`` returns 1 for an anomaly and 0 for a normal point, and ``save`` / ``load`` use the one
model file of every msvdd model (``msvdd.model_file``: tensors and plain values, no pickles).

What model.pt holds, and why loading is exact: the parameters, the fitted feature space (the pixels'
width, or the PCA's fitted arrays, put back into a scikit-learn PCA), the threshold, the training
scores, and the training features the detector was fitted on (``fitted_on_``; for the OC-SVM its
seeded subsample). ``load`` refits the detector on those features with the same parameters and seed:
kNN, LOF, the seeded Isolation Forest and the OC-SVM are deterministic on the CPU, so the loaded model
scores bit for bit as the saved one did on the same machine. Simpler and surer than copying
scikit-learn's private fitted arrays; the price is the detector's fit time on load (seconds; the
OC-SVM's at most ``max_train`` points).
"""

from __future__ import annotations

import copy
import inspect
import time

import numpy as np
import torch

from msvdd.baselines.features import PixelFeatures, features_from_state
from msvdd.errors import ConfigError
from msvdd.model_file import SavedModel


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


class Baseline(SavedModel):
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
    fitted_on_ : the training features the detector was fitted on (what ``load`` refits it on).
    """

    kind = name = "baseline"  # each detector's kind in msvdd.model_file.KINDS is its method name

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

    def _learn(self, Z: np.ndarray) -> None:
        """Fit the scikit-learn detector on the features ``Z`` and keep them (``fit`` and ``load`` both)."""
        self.fitted_on_ = Z
        self._detector(Z)

    def _detector(self, Z: np.ndarray) -> None:
        """The subclass fits its scikit-learn detector on ``Z``, deterministically."""
        raise NotImplementedError

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

    def item_columns(self, X, show_progress: bool = False) -> dict[str, np.ndarray]:
        """Per item: score and outside (``predict``'s verdict): test_scores.csv, msvdd.predict's CSV."""
        scores = self.score_samples(X)
        return {"score": scores, "outside": (scores - self.threshold_ > 0).astype(np.int64)}

    def describe(self, y=None) -> dict:
        """What results.json records about the fitted detector (``y`` is not used: no partition to compare)."""
        return {"baseline": self._describe()}

    def _describe(self) -> dict:
        return {"features": self.features_.describe(), "threshold": self.threshold_}

    def figures(self, folder, X_train, y_train, trained: bool = True) -> None:
        """A baseline draws no figures of its own (the run draws every model's ROC and extreme images)."""

    # ---------------------------------------------------------------- model.pt (msvdd.model_file)
    @classmethod
    def _param_names(cls) -> list[str]:
        """The constructor's parameters but the feature space (saved fitted, as its own state)."""
        return [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "features")]

    def _state(self) -> dict:
        return {"params": {name: getattr(self, name) for name in self._param_names()},
                "features": self.features_.state(), "threshold": float(self.threshold_),
                "train_scores": torch.from_numpy(np.array(self.train_scores_)),
                "fitted_on": torch.from_numpy(np.array(self.fitted_on_))}

    @classmethod
    def _from_state(cls, state: dict, device: str = "cpu"):
        """The detector ``state`` describes, refitted on its saved training features (on the CPU: ``device``
        is not used); ValueError / KeyError / ConfigError when the state is not one."""
        features = features_from_state(state["features"])
        model = cls(**{name: state["params"][name] for name in cls._param_names()},
                    features=type(features)(**features.params()))
        model.validate()
        fitted_on, train_scores = state["fitted_on"].numpy(), state["train_scores"].numpy()
        width = features.width()
        if fitted_on.ndim != 2 or fitted_on.shape[1] != width or train_scores.ndim != 1:
            raise ValueError(f"training features of shape {list(fitted_on.shape)} and scores of shape "
                             f"{list(train_scores.shape)} do not fit a feature space of width {width}")
        model.features_, model.threshold_, model.train_scores_ = features, float(state["threshold"]), train_scores
        model._learn(fitted_on)
        return model
