"""DeepSVDD: the estimator, one sphere or one sphere per cluster, in scikit-learn's style.

With ``clustering=NoClustering()`` it is Ruff et al.'s Deep SVDD; with FINCH pseudo-labels it is
multi-radius Deep SVDD. ``__init__`` only stores; ``fit`` validates, learns and sets the fitted
attributes (trailing underscore). Sign convention: ``score_samples`` and ``decision_function``
are higher for more anomalous points, and ``predict`` returns 1 for an anomaly (outside every
sphere), 0 for a normal point.
"""

from __future__ import annotations

import numpy as np
import torch

import msvdd.svdd.checkpoint as checkpoint
import msvdd.svdd.figures as svdd_figures
import msvdd.svdd.fit_steps as fit_steps
from msvdd.errors import ConfigError
from msvdd.model_file import SavedModel
from msvdd.svdd.embedding import as_images, embed
from msvdd.svdd.record import describe_fit
from msvdd.svdd.score_rules import SCORE_RULES, check_neighbors, rule_scores
from msvdd.svdd.scoring import score_items
from msvdd.svdd.spheres import score, sq_distances


class DeepSVDD(SavedModel):
    """Deep SVDD with one hypersphere per cluster of the pretrained embeddings.

    Parameters
    ----------
    network : an ``msvdd.networks.AutoEncoder``; its encoder is phi. Copied in ``fit``, never modified.
    objective : OneClass or SoftBoundary (default OneClass()).
    clustering : NoClustering (default), FinchClustering, KMeansClustering or OracleClustering; its ``assign``
        (msvdd.clustering.assignment) keeps the pseudo-labels or re-assigns them while training.
    score : "min_margin" (outside every sphere), "nearest" (the seed's rule), "relative" (distance over each
        sphere's radius) or "knn" (mean distance to the ``score_neighbors`` nearest training embeddings;
        msvdd.svdd.score_rules).
    pretrain : TrainSettings for the autoencoder, or None to start from random weights.
    train : TrainSettings for Deep SVDD.
    seed : seeds weight initialisation and batch order: same seed on CPU, same model.
    pretrain_cache : folder for cached pretrained weights, or None.

    Attributes
    ----------
    network_ : the trained network (encoder used for scoring).  objective_ : the objective it trained with.
    centers_ : (K, rep_dim) tensor.  radii_ : (K,) radii used by ``predict``.
    cluster_labels_ : (n,) pseudo-label of each training point.  n_clusters_ : K.
    history_ : per-epoch losses and radii.  timings_ : seconds per phase.
    train_embeddings_ : phi of the training points, kept only by the ``knn`` score rule.

    Example
    -------
    >>> model = DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), clustering=FinchClustering())
    >>> model.fit(x_train, y_train).score_samples(x_test)  # doctest: +SKIP
    """

    kind = "deep_svdd"

    def __init__(self, network, objective=None, clustering=None, score="min_margin", pretrain=None,
                 train=None, seed=0, pretrain_cache=None, show_progress=None, score_neighbors=5):
        self.network, self.objective, self.clustering = network, objective, clustering
        self.score, self.pretrain, self.train, self.seed = score, pretrain, train, seed
        self.pretrain_cache, self.show_progress, self.score_neighbors = pretrain_cache, show_progress, score_neighbors

    # ---------------------------------------------------------------- fitting
    def validate(self, input_shape=None) -> None:
        """Check the parameters (and the data's image shape) before any work is done."""
        if self.score not in SCORE_RULES:
            raise ConfigError("model.score", self.score, ", ".join(SCORE_RULES))
        check_neighbors(self.score_neighbors)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError("seed", self.seed, "an int in 0..2**32-1")
        net_shape = tuple(self.network.input_shape)
        if input_shape is not None and tuple(input_shape) != net_shape:
            raise ConfigError("network.input_shape", list(net_shape),
                              f"the dataset's image shape {list(input_shape)}", "does not match the data")

    def fit(self, X, y=None) -> DeepSVDD:
        fit = fit_steps.begin(self, X)  # the phases live in msvdd.svdd.fit_steps (msvdd.stack runs them too)
        fit_steps.pretrain(self, fit)
        fit_steps.cluster(self, fit, y)
        fit_steps.train(self, fit)
        fit_steps.finish(self, fit)
        return self

    # ---------------------------------------------------------------- scoring
    def _embedded(self, X) -> torch.Tensor:
        if not hasattr(self, "network_"):
            raise RuntimeError("this DeepSVDD is not fitted yet: call fit(X) (or DeepSVDD.load(path)) first")
        return embed(self.network_.encoder, as_images(X), self.centers_.device)

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score by the ``score`` rule, higher = more anomalous."""
        return rule_scores(self, self._embedded(X)).cpu().numpy()

    def decision_function(self, X) -> np.ndarray:
        """min_k (||phi(x) - c_k||^2 - R_k^2) with the fitted radii: > 0 means outside every sphere."""
        return score(sq_distances(self._embedded(X), self.centers_), self.radii_, "min_margin").cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """1 for an anomaly (outside every sphere), 0 for a normal point."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def item_columns(self, X, show_progress: bool = False) -> dict[str, np.ndarray]:
        """Per item: score, nearest sphere, outside (1 when outside every fitted sphere): test_scores.csv."""
        return score_items(self, as_images(X), show_progress)

    def describe(self, y=None) -> dict:
        """What results.json records about the fitted model; ``y`` (true classes) adds the partition's ARI."""
        return describe_fit(self, y)

    def figures(self, folder, X_train, y_train, trained: bool = True) -> None:
        """Draw the model's own PNGs into ``folder``: training curves, embeddings, the clustering space."""
        svdd_figures.draw(self, folder, X_train, y_train, trained)

    def embed(self, X) -> np.ndarray:
        return embed(self.network_.encoder, as_images(X), self.centers_.device).cpu().numpy()

    # ---------------------------------------------------------------- model.pt (msvdd.model_file)
    def _state(self) -> dict:
        return checkpoint.state(self)

    @classmethod
    def _from_state(cls, state: dict, device: str = "cpu") -> DeepSVDD:
        return checkpoint.rebuild(cls, state, device)
