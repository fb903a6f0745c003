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

from msvdd.clustering import NoClustering
from msvdd.errors import ConfigError
from msvdd.networks import AutoEncoder
from msvdd.svdd import checkpoint as persistence
from msvdd.svdd.assignment import Assignment
from msvdd.svdd.objectives import OneClass, quantile_radii
from msvdd.svdd.pretrain import pretrain_autoencoder
from msvdd.svdd.pretrain_cache import cached_pretrain
from msvdd.svdd.spheres import SCORE_RULES, init_centers, score, sq_distances
from msvdd.svdd.steps import Stepper
from msvdd.svdd.training import TrainSettings, check_finite, log_epoch, minibatches, progress

EVAL_BATCH = 1024


class DeepSVDD:
    """Deep SVDD with one hypersphere per cluster of the pretrained embeddings.

    Parameters
    ----------
    network : an ``msvdd.networks.AutoEncoder``; its encoder is phi. Copied in ``fit``, never modified.
    objective : OneClass or SoftBoundary (default OneClass()).
    clustering : NoClustering (default), FinchClustering, KMeansClustering or OracleClustering.
    assignment : msvdd.svdd.assignment.Assignment: keep the pseudo-labels (default) or re-assign while training.
    score : "min_margin" (outside every sphere) or "nearest" (the seed's rule).
    pretrain : TrainSettings for the autoencoder, or None to start from random weights.
    train : TrainSettings for Deep SVDD.
    seed : seeds weight initialisation and batch order: same seed on CPU, same model.
    pretrain_cache : folder for cached pretrained weights, or None.

    Attributes
    ----------
    network_ : the trained network (encoder used for scoring).
    centers_ : (K, rep_dim) tensor.  radii_ : (K,) radii used by ``predict``.
    cluster_labels_ : (n,) pseudo-label of each training point.  n_clusters_ : K.
    history_ : per-epoch losses and radii.  timings_ : seconds per phase.

    Example
    -------
    >>> model = DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), clustering=FinchClustering())
    >>> model.fit(x_train, y_train).score_samples(x_test)  # doctest: +SKIP
    """

    def __init__(self, network, objective=None, clustering=None, score="min_margin", pretrain=None,
                 train=None, seed=0, pretrain_cache=None, show_progress=None, assignment=None):
        self.network, self.objective, self.clustering, self.assignment = network, objective, clustering, assignment
        self.score, self.pretrain, self.train, self.seed = score, pretrain, train, seed
        self.pretrain_cache, self.show_progress = pretrain_cache, show_progress

    # ---------------------------------------------------------------- fitting
    def validate(self, input_shape=None) -> None:
        """Check the parameters (and the data's image shape) before any work is done."""
        if self.score not in SCORE_RULES:
            raise ConfigError("score", self.score, ", ".join(SCORE_RULES))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError("seed", self.seed, "an int in 0..2**32-1")
        net_shape = tuple(self.network.input_shape)
        if input_shape is not None and tuple(input_shape) != net_shape:
            raise ConfigError("network.input_shape", list(net_shape),
                              f"the dataset's image shape {list(input_shape)}", "does not match the data")

    def fit(self, X, y=None) -> DeepSVDD:
        X = _as_images(X)
        self.validate(X.shape[1:])
        objective = self.objective or OneClass()
        clustering = self.clustering or NoClustering()
        assignment, train = self.assignment or Assignment(), self.train or TrainSettings()
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
        z0 = _embed(net.encoder, X, device)
        labels = clustering.fit_predict(z0.cpu().numpy(), None if y is None else np.asarray(y),
                                        inputs=X.flatten(1).cpu().numpy())
        self.clustering_info_ = clustering.describe()
        labels = torch.as_tensor(labels, dtype=torch.long, device=device)
        self.n_clusters_ = int(labels.max()) + 1
        self.centers_ = init_centers(z0, labels, self.n_clusters_)
        self.timings_["cluster"] = time.perf_counter() - t

        t = time.perf_counter()
        assignment.start(labels, self.n_clusters_)
        radii = self._train(net, X.to(device), labels, objective, train, gen, assignment)
        labels, self.centers_, radii = assignment.finish(labels, self.centers_, radii)  # drops emptied spheres
        self.cluster_labels_, self.n_clusters_, self.assignment_info_ = labels.cpu(), len(radii), assignment.describe()
        self.timings_["train"] = time.perf_counter() - t

        self.network_ = net.eval()
        z = _embed(net.encoder, X, device)
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

    def _train(self, net, X, labels, objective, train: TrainSettings, gen, assignment) -> torch.Tensor:
        enc = net.encoder.train()
        captured = train.captures(X.device)
        opt, sched = train.optimizer_for(enc.parameters(), captured)
        radii = torch.zeros(self.n_clusters_, device=X.device)  # updated in place: a captured step reads it

        def svdd_loss(idx):
            k = labels[idx]
            dist_sq = ((enc(X[idx]) - self.centers_[k]) ** 2).sum(1)
            return objective.loss(dist_sq, k, radii), dist_sq, k

        step = Stepper(svdd_loss, enc, opt, train.batch_size, X.device, captured)
        self.history_.update(loss=[], radii=[], epoch_s=[])
        bar = progress(train.epochs, "deep svdd", self.show_progress)
        for epoch in range(train.epochs):
            t = time.perf_counter()
            total = torch.zeros((), device=X.device)
            update_radii = objective.trains_radius and epoch >= objective.warm_up_epochs
            for idx in minibatches(len(X), train.batch_size, gen, X.device):
                loss, dist_sq, k = step(idx)
                if update_radii:
                    radii.copy_(quantile_radii(dist_sq.detach().sqrt(), k, radii, objective.nu))
                total += loss.detach() * len(idx)
            sched.step()
            assignment.after_epoch(epoch, lambda: _embed(enc, X, X.device), self.centers_, radii, labels)  # in place
            check_finite(total / len(X), "deep svdd", epoch)
            log_epoch(self.history_, "train", epoch, train.epochs, total / len(X), t, radii=radii)
            bar.update()
        bar.close()
        return radii

    # ---------------------------------------------------------------- scoring
    def _distances(self, X) -> torch.Tensor:
        if not hasattr(self, "network_"):
            raise RuntimeError("this DeepSVDD is not fitted yet: call fit(X) (or DeepSVDD.load(path)) first")
        X = _as_images(X)
        device = self.centers_.device
        return sq_distances(_embed(self.network_.encoder, X, device), self.centers_)

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score by the ``score`` rule, higher = more anomalous."""
        return score(self._distances(X), self.score_radii_, self.score).cpu().numpy()

    def decision_function(self, X) -> np.ndarray:
        """min_k (||phi(x) - c_k||^2 - R_k^2) with the fitted radii: > 0 means outside every sphere."""
        return score(self._distances(X), self.radii_, "min_margin").cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """1 for an anomaly (outside every sphere), 0 for a normal point."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def embed(self, X) -> np.ndarray:
        return _embed(self.network_.encoder, _as_images(X), self.centers_.device).cpu().numpy()

    # ---------------------------------------------------------------- persistence (msvdd.svdd.checkpoint)
    def save(self, path, data: dict | None = None) -> None:
        """Write everything scoring needs to ``path``, atomically (see msvdd.svdd.checkpoint).

        ``data``: what scoring new data needs about the training data (preprocessing constants,
        training scores), kept as ``data_`` by ``load``; plain values and tensors only.
        """
        persistence.save(self, path, data=data)

    @classmethod
    def load(cls, path, device: str = "cpu") -> DeepSVDD:
        """A model written by ``save``; a file that is not one raises a one-line ConfigError."""
        return persistence.load(path, device)[0]


def _as_images(X) -> torch.Tensor:
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim < 2:
        raise ValueError(f"X must be a batch (n, ...) of images (n, channels, height, width) or feature rows "
                         f"(n, features); got shape {tuple(X.shape)}")
    if len(X) == 0:
        raise ValueError("X holds no images")
    bad = (~torch.isfinite(X.flatten(1))).any(1).sum().item()
    if bad:
        raise ValueError(f"X has NaN or infinite values in {bad} images")
    return X


@torch.no_grad()
def _embed(encoder, X: torch.Tensor, device) -> torch.Tensor:
    """phi(X) in eval mode (BatchNorm running statistics), in chunks to bound memory."""
    was_training = encoder.training
    encoder.eval()
    out = torch.cat([encoder(X[i:i + EVAL_BATCH].to(device)) for i in range(0, len(X), EVAL_BATCH)])
    encoder.train(was_training)
    return out
