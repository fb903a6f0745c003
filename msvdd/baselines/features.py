"""Feature spaces for the classic detectors: raw pixels, or PCA fitted on the normal training data.

Distances between raw 784-d pixel vectors are dominated by noise dimensions; a PCA fitted on the
normal training images only (never on test data) keeps the directions the normal classes vary in.

A fitted space becomes plain state (``state()``: tensors and values, its part of model.pt) and back
(``features_from_state``): the PCA's fitted arrays are put back into a scikit-learn PCA, whose own
``transform`` then computes exactly what the fitted one did.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from sklearn.decomposition import PCA

from msvdd.errors import ConfigError


class PixelFeatures:
    """The flattened preprocessed image."""

    name = "pixels"

    def validate(self, input_shape) -> None:
        pass

    def fit(self, X: np.ndarray) -> PixelFeatures:
        self.n_features_ = X.shape[1]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return X

    def describe(self) -> dict:
        return {"name": self.name}

    def params(self) -> dict:
        return {}

    def width(self) -> int:
        """Features per sample after ``transform``."""
        return int(self.n_features_)

    def state(self) -> dict:
        return {"name": self.name, "n_features": int(self.n_features_)}

    @classmethod
    def from_state(cls, state: dict) -> PixelFeatures:
        space = cls()
        space.n_features_ = int(state["n_features"])
        return space


class PCAFeatures:
    """Projection on the first ``n_components`` principal axes of the normal training data.

    Parameters
    ----------
    n_components : int >= 1, at most the number of training images. With as many features as this or
        fewer (a table's few columns), PCA would not reduce them: the features are used as they are.
    whiten : scale each component to unit variance (helps RBF kernels and isotropic distances).
    seed : seeds the randomized solver scikit-learn picks for large inputs.
    """

    name = "pca"

    def __init__(self, n_components: int = 50, whiten: bool = False, seed: int = 0):
        self.n_components, self.whiten, self.seed = n_components, whiten, seed

    def validate(self, input_shape) -> None:
        n = self.n_components
        n_pixels = math.prod(input_shape) if input_shape is not None else None
        allowed = "an int >= 1 (the data has " + (f"{n_pixels} features)" if n_pixels else "its features)")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError("features.n_components", n, allowed)
        if not isinstance(self.whiten, bool):
            raise ConfigError("features.whiten", self.whiten, "true or false")

    def fit(self, X: np.ndarray) -> PCAFeatures:
        self.validate(X.shape[1:])
        self.n_features_ = int(np.prod(X.shape[1:]))
        if self.n_components >= self.n_features_:  # nothing to reduce: the features themselves
            logging.getLogger(__name__).info("features.n_components=%d: the data's %d features are used as they are "
                                             "(PCA would not reduce them)", self.n_components, self.n_features_)
            self.pca_ = None
            return self
        if self.n_components > len(X):
            raise ConfigError("features.n_components", self.n_components,
                              f"at most the number of training images ({len(X)})")
        self.pca_ = PCA(self.n_components, whiten=self.whiten, random_state=self.seed).fit(X)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.pca_ is None:
            return np.asarray(X, dtype=np.float32)
        return self.pca_.transform(X).astype(np.float32)

    def describe(self) -> dict:
        if self.pca_ is None:
            return {"name": self.name, "n_components": self.n_components, "used": f"the {self.n_features_} "
                    f"features themselves (PCA to {self.n_components} would not reduce them)"}
        return {"name": self.name, "n_components": self.n_components, "whiten": self.whiten,
                "explained_variance": round(float(self.pca_.explained_variance_ratio_.sum()), 4)}

    def params(self) -> dict:
        return {"n_components": self.n_components, "whiten": self.whiten, "seed": self.seed}

    def width(self) -> int:
        """Features per sample after ``transform``."""
        return int(self.n_features_ if self.pca_ is None else self.n_components)

    def state(self) -> dict:
        """The settings and the fitted arrays ``transform`` reads (components, mean, variances), as tensors,
        with each array's memory order: the matrix product's rounding depends on it (components_ is
        Fortran-ordered from some solvers), so the rebuilt PCA gets it back."""
        if self.pca_ is None:
            return {"name": self.name, **self.params(), "identity": self.n_features_}
        arrays = {key: getattr(self.pca_, key + "_") for key in PCA_ARRAYS}
        return {"name": self.name, **self.params(),
                **{key: torch.from_numpy(np.array(a, order="C")) for key, a in arrays.items()},
                "fortran": [key for key, a in arrays.items() if a.ndim > 1 and not a.flags.c_contiguous]}

    @classmethod
    def from_state(cls, state: dict) -> PCAFeatures:
        space = cls(int(state["n_components"]), bool(state["whiten"]), int(state["seed"]))
        if "identity" in state:
            space.pca_, space.n_features_ = None, int(state["identity"])
            return space
        arrays = {key: np.array(state[key].numpy(), order="F" if key in state["fortran"] else "C")
                  for key in PCA_ARRAYS}
        k, d = arrays["components"].shape
        if k != space.n_components or arrays["mean"].shape != (d,) or not (
                arrays["explained_variance"].shape == arrays["explained_variance_ratio"].shape == (k,)):
            raise ValueError(f"PCA arrays of shapes {[a.shape for a in arrays.values()]} do not fit "
                             f"{space.n_components} components")
        pca = PCA(space.n_components, whiten=space.whiten, random_state=space.seed)
        for key, value in arrays.items():
            setattr(pca, key + "_", value)
        pca.n_components_, pca.n_features_in_ = k, d
        space.pca_ = pca
        return space


PCA_ARRAYS = ("components", "mean", "explained_variance", "explained_variance_ratio")
SPACES = {space.name: space for space in (PixelFeatures, PCAFeatures)}


def features_from_state(state: dict):
    """The fitted feature space ``state`` (a ``state()``) describes; ValueError when it describes none."""
    if state.get("name") not in SPACES:
        raise ValueError(f"unknown feature space {state.get('name')!r}; known: {', '.join(SPACES)}")
    return SPACES[state["name"]].from_state(state)
