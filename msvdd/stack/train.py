"""Deep SVDD training for a stack: ``msvdd.svdd.train_loop.train_deep_svdd`` for M models at once.

The same loop, step for step: each model's batches from its own generator, its points pulled towards
their own cluster's center, its objective (one-class or soft-boundary, with its own radii and warm-up),
its re-assignment rule after each epoch. Only the encoders' forward and backward passes are stacked;
the objectives, a few small tensors per model, are evaluated model by model. A model whose loss
turns NaN or infinite is reported, not raised (see msvdd.stack.pretrain).
"""

from __future__ import annotations

import time

import torch

from msvdd.stack.stacked import Stacked, gather
from msvdd.svdd.embedding import embed
from msvdd.svdd.objectives import quantile_radii
from msvdd.svdd.training import TrainSettings, log_epoch, minibatches


def train_stack(models: list, fits: list, settings: TrainSettings) -> dict[int, str]:
    """Train the encoders of ``fits`` (msvdd.svdd.fit_steps.Fit) in place, set each ``fit.radii``, append
    to each ``model.history_``; returns {model: why it diverged}."""
    encs = [fit.net.encoder.train() for fit in fits]
    device = fits[0].X.device
    x = torch.stack([fit.X for fit in fits])
    n = x.shape[1]
    stack = Stacked(encs).train()
    opt, sched = settings.optimizer_for(stack.parameters())
    for fit, model in zip(fits, models):
        fit.radii = torch.zeros(len(model.centers_), device=device)
        model.history_.update(loss=[], radii=[], epoch_s=[])
    diverged: dict[int, str] = {}
    for epoch in range(settings.epochs):
        t = time.perf_counter()
        total = torch.zeros(len(fits), device=device)
        labels = torch.stack([fit.labels for fit in fits])  # re-assignment may have moved them
        batches = zip(*(minibatches(n, settings.batch_size, fit.gen, device) for fit in fits))
        for idx in batches:
            idx = torch.stack(idx)
            k = gather(labels, idx)  # (M, B): each point's own sphere
            z = stack(gather(x, idx))  # (M, B, rep_dim)
            losses, dists = [], []
            for m, model in enumerate(models):
                dist_sq = ((z[m] - model.centers_[k[m]]) ** 2).sum(1)
                losses.append(model.objective_.loss(dist_sq, k[m], fits[m].radii))
                dists.append(dist_sq)
            opt.zero_grad(set_to_none=False)
            torch.stack(losses).sum().backward()
            opt.step()
            for m, (model, fit) in enumerate(zip(models, fits)):
                objective = model.objective_
                if objective.trains_radius and epoch >= objective.warm_up_epochs:
                    fit.radii.copy_(quantile_radii(dists[m].detach().sqrt(), k[m], fit.radii, objective.nu))
                total[m] += losses[m].detach() * idx.shape[1]
        sched.step()
        for m, (model, fit) in enumerate(zip(models, fits)):
            if fit.clustering.assign.due(epoch):
                stack.write_back()  # the re-assignment embeds with this model's current weights
            fit.clustering.assign.after_epoch(epoch, lambda enc=encs[m], fit=fit: embed(enc, fit.X, device),
                                              model.centers_, fit.radii, fit.labels)
            loss = total[m] / n
            if m not in diverged and not torch.isfinite(loss):
                diverged[m] = f"deep svdd: loss became {loss.item()} in epoch {epoch + 1}"
            log_epoch(model.history_, f"train (stacked {m + 1}/{len(fits)})", epoch, settings.epochs, loss, t,
                      radii=fit.radii)
    stack.write_back()
    return diverged
