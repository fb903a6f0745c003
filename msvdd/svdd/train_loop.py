"""The Deep SVDD training loop: minibatches of in-memory tensors towards each point's own center.

Kept apart from the estimator (msvdd.svdd.estimator), which decides what to train; this module only
trains. The radii tensor is updated in place, because a captured CUDA step (msvdd.svdd.steps) reads it.
"""

from __future__ import annotations

import time

import torch

from msvdd.svdd.embedding import embed
from msvdd.svdd.objectives import quantile_radii
from msvdd.svdd.steps import Stepper
from msvdd.svdd.training import TrainSettings, check_finite, log_epoch, minibatches, progress


def train_deep_svdd(net, X: torch.Tensor, labels: torch.Tensor, centers: torch.Tensor, objective,
                    train: TrainSettings, gen: torch.Generator, assignment, history: dict,
                    show_progress: bool | None = None) -> torch.Tensor:
    """Train ``net.encoder`` in place; ``labels`` and ``centers`` may move (re-assignment); returns the radii.

    Per-epoch losses, radii and times are appended to ``history``.
    """
    enc = net.encoder.train()
    captured = train.captures(X.device)
    opt, sched = train.optimizer_for(enc.parameters(), captured)
    radii = torch.zeros(len(centers), device=X.device)  # updated in place: a captured step reads it

    with train.layout(enc, X) as X:
        def svdd_loss(idx):
            k = labels[idx]
            dist_sq = ((enc(X[idx]) - centers[k]) ** 2).sum(1)
            return objective.loss(dist_sq, k, radii), dist_sq, k

        step = Stepper(svdd_loss, enc, opt, train.batch_size, X.device, captured)
        history.update(loss=[], radii=[], epoch_s=[])
        bar = progress(train.epochs, "deep svdd", show_progress)
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
            assignment.after_epoch(epoch, lambda: embed(enc, X, X.device), centers, radii, labels)  # in place
            check_finite(total / len(X), "deep svdd", epoch)
            log_epoch(history, "train", epoch, train.epochs, total / len(X), t, radii=radii)
            bar.update()
        bar.close()
    return radii
