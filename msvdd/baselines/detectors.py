"""The classic detectors, each a thin scikit-learn wrapper with msvdd's sign convention.

Scores are higher for more anomalous points. Each detector fits on the normal training data in the
feature space chosen in config (``conf/features``); ``Baseline`` (base.py) does the rest. ``_detector``
fits the scikit-learn model (deterministically: ``load`` calls it again on the saved training features),
``_fit`` also returns the training points' scores.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.svm import OneClassSVM

from msvdd.baselines.base import Baseline
from msvdd.errors import ConfigError

AGGREGATES = ("mean", "kth")


def _positive_int(field: str, value, allowed: str = "an int >= 1") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(field, value, allowed)


class KNNDetector(Baseline):
    """Distance to the k nearest training points: mean over the k (``aggregate=mean``) or the k-th.

    A training point's own score leaves the point itself out, so ``threshold_`` is not optimistic.
    """

    kind = name = "knn"

    def __init__(self, n_neighbors: int = 5, aggregate: str = "mean", features=None, contamination: float = 0.1,
                 seed: int = 0):
        self.n_neighbors, self.aggregate, self.features = n_neighbors, aggregate, features
        self.contamination, self.seed = contamination, seed

    def _validate(self) -> None:
        _positive_int("model.n_neighbors", self.n_neighbors)
        if self.aggregate not in AGGREGATES:
            raise ConfigError("model.aggregate", self.aggregate, ", ".join(AGGREGATES))

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        if self.n_neighbors >= len(Z):
            raise ConfigError("model.n_neighbors", self.n_neighbors,
                              f"an int from 1 to the number of training points - 1 ({len(Z) - 1})")
        self._learn(Z)
        dist, _ = self.nn_.kneighbors(n_neighbors=self.n_neighbors)  # no argument: excludes each point itself
        return self._aggregate(dist)

    def _detector(self, Z: np.ndarray) -> None:
        self.nn_ = NearestNeighbors(n_neighbors=self.n_neighbors).fit(Z)

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return self._aggregate(self.nn_.kneighbors(Z)[0])

    def _aggregate(self, dist: np.ndarray) -> np.ndarray:
        return dist.mean(1) if self.aggregate == "mean" else dist[:, -1]


class LOFDetector(Baseline):
    """Local outlier factor in novelty mode: density of a point relative to its neighbours' densities."""

    kind = name = "lof"

    def __init__(self, n_neighbors: int = 20, features=None, contamination: float = 0.1, seed: int = 0):
        self.n_neighbors, self.features, self.contamination, self.seed = n_neighbors, features, contamination, seed

    def _validate(self) -> None:
        _positive_int("model.n_neighbors", self.n_neighbors)

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        self._learn(Z)
        return -self.lof_.negative_outlier_factor_

    def _detector(self, Z: np.ndarray) -> None:
        self.lof_ = LocalOutlierFactor(n_neighbors=self.n_neighbors, novelty=True).fit(Z)

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return -self.lof_.score_samples(Z)


class IForestDetector(Baseline):
    """Isolation Forest: points that random axis-aligned splits isolate quickly are anomalous."""

    kind = name = "iforest"

    def __init__(self, n_estimators: int = 100, max_samples="auto", features=None, contamination: float = 0.1,
                 seed: int = 0):
        self.n_estimators, self.max_samples, self.features = n_estimators, max_samples, features
        self.contamination, self.seed = contamination, seed

    def _validate(self) -> None:
        _positive_int("model.n_estimators", self.n_estimators)
        ms = self.max_samples
        if ms != "auto" and (isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms <= 0
                             or (isinstance(ms, float) and ms > 1)):
            raise ConfigError("model.max_samples", ms, "auto, an int >= 1, or a fraction in (0, 1]")

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        self._learn(Z)
        return -self.forest_.score_samples(Z)

    def _detector(self, Z: np.ndarray) -> None:
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                       random_state=self.seed).fit(Z)

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return -self.forest_.score_samples(Z)


class OCSVMDetector(Baseline):
    """One-class SVM with an RBF kernel (Schölkopf et al.), trained on a seeded subsample.

    Its fit time grows about quadratically with the training set, so at most ``max_train`` training
    points (default 10,000, drawn without replacement with ``seed``) are used; ``null`` uses all.

    The kernel width ``gamma``: a positive number, scikit-learn's ``scale`` / ``auto``, or ``median``:
    ``gamma_factor`` / the median squared distance between training features (of a seeded draw of at
    most ``MEDIAN_SAMPLE`` of them). ``scale`` is about 2 / that median, a kernel as wide as the data:
    on a group of several digits it smooths the classes into one blob and scores below chance. A kernel
    as narrow as the distances between neighbours fits them; ``median`` says that relative to the data's
    own distances, so one factor carries across feature spaces and datasets (chosen on dev groups,
    docs/baselines.md). ``gamma_factor`` is used by ``median`` only. ``gamma_`` is the width used.
    """

    kind = name = "ocsvm"
    GAMMA_RULES = ("scale", "auto", "median")
    MEDIAN_SAMPLE = 2000

    def __init__(self, nu: float = 0.1, gamma="median", gamma_factor: float = 50.0, max_train: int | None = 10000,
                 features=None, contamination: float = 0.1, seed: int = 0):
        self.nu, self.gamma, self.gamma_factor, self.max_train = nu, gamma, gamma_factor, max_train
        self.features, self.contamination, self.seed = features, contamination, seed

    def _validate(self) -> None:
        nu = self.nu
        if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not 0 < nu < 1:
            # nu = 1 (every training point an error) is valid in theory, but libsvm's solution is then not
            # finite and scikit-learn raises deep inside fit: refuse it here with the usual one line
            raise ConfigError("model.nu", nu, "a number in (0, 1)")
        g = self.gamma
        if g not in self.GAMMA_RULES and (isinstance(g, bool) or not isinstance(g, (int, float)) or g <= 0):
            raise ConfigError("model.gamma", g, "scale, auto, median, or a positive number")
        f = self.gamma_factor
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < float("inf"):
            raise ConfigError("model.gamma_factor", f, "a positive number")
        if self.max_train is not None:
            _positive_int("model.max_train", self.max_train, "an int >= 1, or null for every training point")

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        used = Z
        if self.max_train is not None and len(Z) > self.max_train:
            rows = np.random.default_rng(self.seed).choice(len(Z), self.max_train, replace=False)
            used = Z[np.sort(rows)]
        self._learn(used)
        return self._score(Z)

    def _detector(self, Z: np.ndarray) -> None:
        self.n_train_used_ = len(Z)
        self.gamma_ = self._gamma(Z)
        self.svm_ = OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma_).fit(Z)

    def _gamma(self, Z: np.ndarray):
        """The width the SVM gets: ``median``'s from the features ``Z`` (deterministic given ``seed``)."""
        if self.gamma != "median":
            return self.gamma
        if len(Z) > self.MEDIAN_SAMPLE:
            Z = Z[np.random.default_rng(self.seed).choice(len(Z), self.MEDIAN_SAMPLE, replace=False)]
        median = float(np.median(pdist(Z.astype(np.float64), "sqeuclidean"))) if len(Z) > 1 else 0.0
        if not median > 0:
            raise ValueError("gamma=median needs at least two distinct training features; use a number for gamma")
        return self.gamma_factor / median

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return -self.svm_.score_samples(Z)

    @classmethod
    def _from_state(cls, state: dict, device: str = "cpu"):
        """A model.pt saved before ``gamma=median`` existed has no ``gamma_factor`` (its gamma is scale, auto
        or a number, which ignore it): it loads as it was saved."""
        return super()._from_state({**state, "params": {"gamma_factor": 1.0, **state["params"]}}, device)

    def _describe(self) -> dict:
        gamma = self.gamma_ if isinstance(self.gamma_, str) else float(self.gamma_)
        return {**super()._describe(), "n_train_used": self.n_train_used_, "gamma": gamma}
