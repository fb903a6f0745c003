"""Optimisation steps over index batches of in-memory tensors, eager or replayed from a CUDA graph.

msvdd's LeNets are tiny: on a GPU one step of batch 200 is a few dozen kernels of microseconds each,
so Python and kernel-launch overhead, not arithmetic, set the pace. Capturing the whole step
(gather, forward, loss, backward, Adam) once as a CUDA graph and replaying it launches all those
kernels with one call (what ``torch.compile(mode="reduce-overhead")`` does, without its compile time).

Only full batches are replayed (a graph has fixed shapes); an epoch's last, shorter batch runs eagerly
through the same code. Capturing needs warm-up steps on a side stream; they would train the model on a
dummy batch, so the weights, BatchNorm statistics and optimiser state are restored after them: a
captured run follows the same trajectory as an eager one, up to floating-point reassociation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

LossFn = Callable[[torch.Tensor], tuple[torch.Tensor, ...]]  # index batch -> (loss, *extras)
WARM_UP_STEPS = 3


class Stepper:
    """``step(idx)`` runs one optimisation step on the batch ``idx`` and returns ``loss_fn``'s outputs.

    Outputs of a replayed step live in the graph's static buffers: read them before the next step.
    """

    def __init__(self, loss_fn: LossFn, module: nn.Module, opt: torch.optim.Optimizer, batch_size: int,
                 device: torch.device, captured: bool):
        self.loss_fn, self.module, self.opt, self.batch_size = loss_fn, module, opt, batch_size
        self.graph = self._capture(device) if captured else None

    def __call__(self, idx: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.graph is not None and len(idx) == self.batch_size:
            self.static_idx.copy_(idx, non_blocking=True)
            self.graph.replay()
            return self.static_out
        out = self.loss_fn(idx)
        self.opt.zero_grad(set_to_none=False)  # after a capture: zero the graph's gradient buffers in place
        out[0].backward()
        self.opt.step()
        return tuple(t.detach() for t in out)

    def _capture(self, device: torch.device) -> torch.cuda.CUDAGraph:
        saved = copy.deepcopy(self.module.state_dict())
        self.static_idx = torch.zeros(self.batch_size, dtype=torch.long, device=device)
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(WARM_UP_STEPS):
                self.opt.zero_grad(set_to_none=True)
                self.loss_fn(self.static_idx)[0].backward()
                self.opt.step()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # Gradients must not exist when the graph is captured: backward then *writes* fresh gradients on
        # every replay. Captured on top of existing (zeroed) ones it would add to them, replay after replay.
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            self.static_out = self.loss_fn(self.static_idx)
            self.static_out[0].backward()
            self.opt.step()
        # Undo the warm-up: same weights, BN statistics and a fresh optimiser, in place (the graph keeps
        # the addresses of these tensors).
        self.module.load_state_dict(saved)
        for state in self.opt.state.values():
            for value in state.values():
                if torch.is_tensor(value):
                    value.zero_()
        return graph

