"""Autoencoder pretraining: its encoder weights initialise the Deep SVDD network.

A good initialisation matters twice for multi-radius SVDD: Deep SVDD starts from it, and the
clusters (the pseudo-labels) are found in its embedding space.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from msvdd.svdd.steps import Stepper
from msvdd.svdd.training import TrainSettings, check_finite, minibatches, progress

log = logging.getLogger(__name__)


def pretrain_autoencoder(ae: nn.Module, x: torch.Tensor, settings: TrainSettings, generator: torch.Generator,
                         show_progress: bool | None = None) -> list[float]:
    """Train ``ae`` in place on reconstruction error; returns the mean loss of each epoch.

    The loss is the per-image sum of squared errors averaged over the batch, as Ruff et al.
    """
    device = settings.torch_device()
    ae.to(device).train()
    x = x.to(device)
    captured = settings.captures(device)
    opt, sched = settings.optimizer_for(ae.parameters(), captured)

    with settings.layout(ae, x) as x:
        def reconstruction_loss(idx):
            xb = x[idx]
            return (((ae(xb) - xb) ** 2).flatten(1).sum(1).mean(),)

        step = Stepper(reconstruction_loss, ae, opt, settings.batch_size, device, captured)
        losses = []
        bar = progress(settings.epochs, "pretrain", show_progress)
        for epoch in range(settings.epochs):
            total = torch.zeros((), device=device)
            for idx in minibatches(len(x), settings.batch_size, generator, device):
                total += step(idx)[0].detach() * len(idx)
            sched.step()
            losses.append((total / len(x)).item())
            check_finite(torch.tensor(losses[-1]), "pretrain", epoch)
            log.info("pretrain epoch %d/%d  reconstruction loss %.5f", epoch + 1, settings.epochs, losses[-1])
            bar.update()
        bar.close()
    return losses
