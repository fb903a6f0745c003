"""Feature spaces for the classic detectors: raw pixels, or PCA fitted on the normal training data.

Distances between raw 784-d pixel vectors are dominated by noise dimensions; a PCA fitted on the
normal training images only (never on test data) keeps the directions the normal classes vary in.
"""

from __future__ import annotations

import math

import numpy as np
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


class PCAFeatures:
    """Projection on the first ``n_components`` principal axes of the normal training data.

    Parameters
    ----------
    n_components : int >= 1, at most the number of pixels (and of training images).
    whiten : scale each component to unit variance (helps RBF kernels and isotropic distances).
    seed : seeds the randomized solver scikit-learn picks for large inputs.
    """

    name = "pca"

    def __init__(self, n_components: int = 50, whiten: bool = False, seed: int = 0):
        self.n_components, self.whiten, self.seed = n_components, whiten, seed

    def validate(self, input_shape) -> None:
        n = self.n_components
        n_pixels = math.prod(input_shape) if input_shape is not None else None
        allowed = "an int from 1 to the number of features" + (f" ({n_pixels})" if n_pixels else "")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError("features.n_components", n, allowed)
        if n_pixels is not None and n > n_pixels:
            raise ConfigError("features.n_components", n, allowed, f"more than the data's {n_pixels} features")
        if not isinstance(self.whiten, bool):
            raise ConfigError("features.whiten", self.whiten, "true or false")

    def fit(self, X: np.ndarray) -> PCAFeatures:
        self.validate(X.shape[1:])
        if self.n_components > len(X):
            raise ConfigError("features.n_components", self.n_components,
                              f"at most the number of training images ({len(X)})")
        self.pca_ = PCA(self.n_components, whiten=self.whiten, random_state=self.seed).fit(X)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.pca_.transform(X).astype(np.float32)

    def describe(self) -> dict:
        return {"name": self.name, "n_components": self.n_components, "whiten": self.whiten,
                "explained_variance": round(float(self.pca_.explained_variance_ratio_.sum()), 4)}
