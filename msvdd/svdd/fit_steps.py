"""The phases of ``DeepSVDD.fit``, one function each, so that another trainer can run some of them for many
models at once (msvdd.stack trains the two training phases of a stack of jobs together) and the rest exactly
as one model's fit does.

begin (checks, seeds, a fresh copy of the network) -> pretrain -> cluster (pseudo-labels, centers) -> train
(Deep SVDD) -> finish (fitted attributes). What passes between them is one ``Fit``; each phase records its
seconds in ``model.timings_``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch

from msvdd.clustering import NoClustering
from msvdd.svdd.embedding import as_images, embed
from msvdd.svdd.objectives import OneClass, quantile_radii
from msvdd.svdd.pretrain import pretrain_autoencoder
from msvdd.svdd.pretrain_cache import cached_pretrain
from msvdd.svdd.score_rules import NEEDS_TRAINING_EMBEDDINGS, training_scores
from msvdd.svdd.spheres import init_centers, sq_distances
from msvdd.svdd.train_loop import train_deep_svdd
from msvdd.svdd.training import TrainSettings


@dataclass
class Fit:
    """One model's fit in progress: its inputs, network, batch-order generator and what the phases found."""

    X: torch.Tensor
    net: torch.nn.Module
    gen: torch.Generator
    clustering: object
    train: TrainSettings
    labels: torch.Tensor | None = None
    radii: torch.Tensor | None = None


def begin(model, X) -> Fit:
    """Checks and a fresh network: the seed, not the moment of construction, decides weights and batches."""
    X = as_images(X)
    model.validate(X.shape[1:])
    model.objective_ = model.objective or OneClass()
    model.timings_, model.pretrain_cached_ = {}, False
    gen = torch.Generator().manual_seed(model.seed)
    torch.manual_seed(model.seed)
    net = copy.deepcopy(model.network)
    net.reset_parameters()
    return Fit(X, net, gen, model.clustering or NoClustering(), model.train or TrainSettings())


def pretrain(model, fit: Fit) -> None:
    """Pretrain the autoencoder in place (through the cache when the model has one)."""
    t = time.perf_counter()
    losses = []
    if model.pretrain is not None and not model.pretrain_cache:
        losses = pretrain_autoencoder(fit.net, fit.X, model.pretrain, fit.gen, model.show_progress)
    elif model.pretrain is not None:
        losses, model.pretrain_cached_ = cached_pretrain(fit.net, fit.X, model.pretrain, fit.gen, model.seed,
                                                         model.pretrain_cache, model.show_progress)
    model.history_ = {"pretrain_loss": losses}
    model.timings_["pretrain"] = time.perf_counter() - t


def cluster(model, fit: Fit, y=None) -> None:
    """Pseudo-labels of the pretrained embeddings (on the training device) and the centers of their spheres."""
    t = time.perf_counter()
    device = fit.train.torch_device()
    fit.net.to(device)
    z0 = embed(fit.net.encoder, fit.X, device)
    labels = fit.clustering.fit_predict(z0.cpu().numpy(), None if y is None else np.asarray(y),
                                        inputs=fit.X.flatten(1).cpu().numpy())
    model.clustering_info_ = fit.clustering.describe()
    fit.labels = torch.as_tensor(labels, dtype=torch.long, device=device)
    model.n_clusters_ = int(fit.labels.max()) + 1
    model.centers_ = init_centers(z0, fit.labels, model.n_clusters_)
    fit.clustering.assign.start(fit.labels, model.n_clusters_)
    fit.X = fit.X.to(device)
    model.timings_["cluster"] = time.perf_counter() - t


def train(model, fit: Fit) -> None:
    """Deep SVDD on this one model."""
    t = time.perf_counter()
    fit.radii = train_deep_svdd(fit.net, fit.X, fit.labels, model.centers_, model.objective_, fit.train, fit.gen,
                                fit.clustering.assign, model.history_, model.show_progress)
    model.timings_["train"] = time.perf_counter() - t


def finish(model, fit: Fit) -> None:
    """The fitted attributes: spheres left after re-assignment, scoring network, training scores, radii."""
    assignment, objective = fit.clustering.assign, model.objective_
    labels, model.centers_, radii = assignment.finish(fit.labels, model.centers_, fit.radii)  # drops emptied spheres
    model.cluster_labels_, model.n_clusters_, model.assignment_info_ = labels.cpu(), len(radii), assignment.describe()
    device = model.centers_.device
    model.network_ = fit.net.eval()
    z = embed(fit.net.encoder, fit.X, device)
    own = sq_distances(z, model.centers_).gather(1, model.cluster_labels_.to(device)[:, None]).squeeze(1)
    if model.score in NEEDS_TRAINING_EMBEDDINGS:  # a score rule that compares with the training points
        model.train_embeddings_ = z
    if objective.trains_radius:
        model.radii_ = radii
    else:  # no trained radius: fit each sphere to hold (1 - nu) of its training points, for predict
        model.radii_ = quantile_radii(own.sqrt(), model.cluster_labels_.to(device), radii, objective.nu)
    # Under the one-class objective the seed scores plain distances (R = 0); predict uses radii_.
    model.score_radii_ = model.radii_ if objective.trains_radius else torch.zeros_like(model.radii_)
    model.train_scores_ = training_scores(model, z).cpu()
    model.cluster_sizes_ = torch.bincount(model.cluster_labels_, minlength=model.n_clusters_).tolist()
