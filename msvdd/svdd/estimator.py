"""DeepSVDD: the estimator, one sphere or one sphere per cluster, in scikit-learn's style.

With ``clustering=NoClustering()`` it is Ruff et al.'s Deep SVDD; with FINCH pseudo-labels it is
multi-radius Deep SVDD. ``__init__`` only stores; ``fit`` validates, learns and sets the fitted
attributes (trailing underscore). Sign convention: ``score_samples`` and ``decision_function``
are higher for more anomalous points, and ``predict`` returns 1 for an anomaly (outside every
sphere), 0 for a normal point.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

import msvdd.svdd.checkpoint as checkpoint
import msvdd.svdd.figures as svdd_figures
from msvdd.clustering import NoClustering
from msvdd.errors import ConfigError
from msvdd.model_file import SavedModel
from msvdd.networks import AutoEncoder
from msvdd.svdd.embedding import as_images, embed
from msvdd.svdd.objectives import OneClass, quantile_radii
from msvdd.svdd.pretrain import pretrain_autoencoder
from msvdd.svdd.pretrain_cache import cached_pretrain
from msvdd.svdd.record import describe_fit
from msvdd.svdd.scoring import score_items
from msvdd.svdd.spheres import SCORE_RULES, init_centers, score, sq_distances
from msvdd.svdd.train_loop import train_deep_svdd
from msvdd.svdd.training import TrainSettings


class DeepSVDD(SavedModel):
    """Deep SVDD with one hypersphere per cluster of the pretrained embeddings.

    Parameters
    ----------
    network : an ``msvdd.networks.AutoEncoder``; its encoder is phi. Copied in ``fit``, never modified.
    objective : OneClass or SoftBoundary (default OneClass()).
    clustering : NoClustering (default), FinchClustering, KMeansClustering or OracleClustering; its ``assign``
        (msvdd.clustering.assignment) keeps the pseudo-labels or re-assigns them while training.
    score : "min_margin" (outside every sphere) or "nearest" (the seed's rule).
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

    Example
    -------
    >>> model = DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), clustering=FinchClustering())
    >>> model.fit(x_train, y_train).score_samples(x_test)  # doctest: +SKIP
    """

    kind = "deep_svdd"

    def __init__(self, network, objective=None, clustering=None, score="min_margin", pretrain=None,
                 train=None, seed=0, pretrain_cache=None, show_progress=None):
        self.network, self.objective, self.clustering = network, objective, clustering
        self.score, self.pretrain, self.train, self.seed = score, pretrain, train, seed
        self.pretrain_cache, self.show_progress = pretrain_cache, show_progress

    # ---------------------------------------------------------------- fitting
    def validate(self, input_shape=None) -> None:
        """Check the parameters (and the data's image shape) before any work is done."""
        if self.score not in SCORE_RULES:
            raise ConfigError("model.score", self.score, ", ".join(SCORE_RULES))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError("seed", self.seed, "an int in 0..2**32-1")
        net_shape = tuple(self.network.input_shape)
        if input_shape is not None and tuple(input_shape) != net_shape:
            raise ConfigError("network.input_shape", list(net_shape),
                              f"the dataset's image shape {list(input_shape)}", "does not match the data")

    def fit(self, X, y=None) -> DeepSVDD:
        X = as_images(X)
        self.validate(X.shape[1:])
        objective = self.objective_ = self.objective or OneClass()
        clustering = self.clustering or NoClustering()
        assignment, train = clustering.assign, self.train or TrainSettings()  # the clustering's re-assignment rule
        self.timings_ = {}
        gen = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        net = copy.deepcopy(self.network)
        net.reset_parameters()  # the seed, not the moment of construction, decides the weights

        t = time.perf_counter()
        self.history_ = {"pretrain_loss": self._pretrain(net, X, gen)}
        self.timings_["pretrain"] = time.perf_counter() - t

        t = time.perf_counter()
        device = train.torch_device()
        net.to(device)
        z0 = embed(net.encoder, X, device)
        labels = clustering.fit_predict(z0.cpu().numpy(), None if y is None else np.asarray(y),
                                        inputs=X.flatten(1).cpu().numpy())
        self.clustering_info_ = clustering.describe()
        labels = torch.as_tensor(labels, dtype=torch.long, device=device)
        self.n_clusters_ = int(labels.max()) + 1
        self.centers_ = init_centers(z0, labels, self.n_clusters_)
        self.timings_["cluster"] = time.perf_counter() - t

        t = time.perf_counter()
        assignment.start(labels, self.n_clusters_)
        radii = train_deep_svdd(net, X.to(device), labels, self.centers_, objective, train, gen, assignment,
                                self.history_, self.show_progress)
        labels, self.centers_, radii = assignment.finish(labels, self.centers_, radii)  # drops emptied spheres
        self.cluster_labels_, self.n_clusters_, self.assignment_info_ = labels.cpu(), len(radii), assignment.describe()
        self.timings_["train"] = time.perf_counter() - t

        self.network_ = net.eval()
        z = embed(net.encoder, X, device)
        own = sq_distances(z, self.centers_).gather(1, self.cluster_labels_.to(device)[:, None]).squeeze(1)
        self.train_scores_ = own.cpu()
        if objective.trains_radius:
            self.radii_ = radii
        else:  # no trained radius: fit each sphere to hold (1 - nu) of its training points, for predict
            self.radii_ = quantile_radii(own.sqrt(), self.cluster_labels_.to(device), radii, objective.nu)
        # Under the one-class objective the seed scores plain distances (R = 0); predict uses radii_.
        self.score_radii_ = self.radii_ if objective.trains_radius else torch.zeros_like(self.radii_)
        self.cluster_sizes_ = torch.bincount(self.cluster_labels_, minlength=self.n_clusters_).tolist()
        return self

    def _pretrain(self, net: AutoEncoder, X: torch.Tensor, gen: torch.Generator) -> list[float]:
        self.pretrain_cached_ = False
        if self.pretrain is None:
            return []
        if not self.pretrain_cache:
            return pretrain_autoencoder(net, X, self.pretrain, gen, self.show_progress)
        losses, self.pretrain_cached_ = cached_pretrain(net, X, self.pretrain, gen, self.seed, self.pretrain_cache,
                                                        self.show_progress)
        return losses

    # ---------------------------------------------------------------- scoring
    def _distances(self, X) -> torch.Tensor:
        if not hasattr(self, "network_"):
            raise RuntimeError("this DeepSVDD is not fitted yet: call fit(X) (or DeepSVDD.load(path)) first")
        X = as_images(X)
        device = self.centers_.device
        return sq_distances(embed(self.network_.encoder, X, device), self.centers_)

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score by the ``score`` rule, higher = more anomalous."""
        return score(self._distances(X), self.score_radii_, self.score).cpu().numpy()

    def decision_function(self, X) -> np.ndarray:
        """min_k (||phi(x) - c_k||^2 - R_k^2) with the fitted radii: > 0 means outside every sphere."""
        return score(self._distances(X), self.radii_, "min_margin").cpu().numpy()

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
