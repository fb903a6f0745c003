"""Autoencoder pretraining for a stack: ``msvdd.svdd.pretrain.pretrain_autoencoder`` for M models at once.

Step for step the same loop: each model's batches come from its own generator over its own training set
(the sets have one size: the stack's key says so), the loss is each image's summed squared error averaged
over its model's batch. A model whose loss turns NaN or infinite is reported, not raised: its slice of
the stack cannot reach the others', so they train on, and its job runs alone afterwards (where it stops
with the run's own error).
"""

from __future__ import annotations

import logging

import torch

from msvdd.stack.stacked import Stacked, gather
from msvdd.svdd.training import TrainSettings, minibatches

log = logging.getLogger(__name__)


def pretrain_stack(aes: list, xs: list[torch.Tensor], settings: TrainSettings,
                   gens: list[torch.Generator]) -> tuple[list[list[float]], dict[int, str]]:
    """Train the autoencoders ``aes`` in place; (each model's per-epoch losses, {model: why it diverged})."""
    device = settings.torch_device()
    for ae in aes:
        ae.to(device).train()
    x = torch.stack([v.to(device) for v in xs])
    n, m_all = x.shape[1], range(len(aes))
    stack = Stacked(aes).train()
    opt, sched = settings.optimizer_for(stack.parameters())
    losses: list[list[float]] = [[] for _ in aes]
    diverged: dict[int, str] = {}
    for epoch in range(settings.epochs):
        total = torch.zeros(len(aes), device=device)
        batches = zip(*(minibatches(n, settings.batch_size, g, device) for g in gens))
        for idx in batches:
            idx = torch.stack(idx)
            xb = gather(x, idx)
            loss = ((stack(xb) - xb) ** 2).flatten(2).sum(2).mean(1)  # (M,): each model's batch loss
            opt.zero_grad(set_to_none=False)
            loss.sum().backward()
            opt.step()
            total += loss.detach() * idx.shape[1]
        sched.step()
        for m in m_all:
            losses[m].append((total[m] / n).item())
            if m not in diverged and not torch.isfinite(total[m]):
                diverged[m] = f"pretrain: loss became {losses[m][-1]} in epoch {epoch + 1}"
        log.info("pretrain epoch %d/%d (stack of %d)  reconstruction losses %s", epoch + 1, settings.epochs,
                 len(aes), [round(v[-1], 5) for v in losses])
    stack.write_back()
    return losses, diverged
