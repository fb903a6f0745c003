"""M networks of one architecture as one: stacked parameters, each layer applied to all M models at once.

The layers that batch exactly (linear layers, LeakyReLU, pooling, upsampling, reshapes) run as one ``vmap``
of their functional form (torch.func) over the stacked parameters: one batched kernel instead of M small
ones, with results bit for bit those of each model alone. The others run model by model, each on its own
slice: the convolutions (vmap batches them as one grouped convolution, which adds in another order:
outputs ~5e-7 off, ~1e-3 of AUROC after training), and ``PER_MODEL``, the exp-based activations and
BatchNorm (the reasons at ``PER_MODEL``; BatchNorm's running statistics are stacked buffers, updated in
place through each model's view as its own forward would). Looping keeps every model's numbers its own.

Adam, its weight decay and the learning-rate schedule are elementwise: one optimiser over the stacked
parameters takes, for each model, the step its own optimiser would. The gradients do not mix: the loss
is the sum of the models' losses and each stacked slice reaches only its own.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

LOOPED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
# Layers run model by model, each on its own tensor, because a batched kernel rounds them differently:
# exp-based activations run vectorised but for a scalar remainder at the end of the tensor, which over M
# models falls on the last model's last elements, not on each model's (a batch of 191 MNIST images: 2
# sigmoid outputs of 150k off by an ulp, grown by training into 1.4e-4 of AUROC); BatchNorm's backward
# under vmap sums in another order (every gradient of Ruff's CIFAR-10 LeNet off). Looping them costs
# nothing measurable on the CPU (a digits or MNIST stacked step: within 4 %).
PER_MODEL = (nn.Sigmoid, nn.Tanh, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Softplus, nn.Mish, nn.LogSigmoid,
             nn.modules.batchnorm._BatchNorm)


class Stacked:
    """``Stacked(modules)``; ``forward(xb)`` with xb (M, B, ...) -> (M, B, ...); ``write_back()`` copies the
    trained parameters and buffers into the modules."""

    def __init__(self, modules: list[nn.Module]):
        self.modules = modules
        params, self.buffers = stack_module_state(modules)  # copies: the modules keep their own tensors
        self.params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        self.base = copy.deepcopy(modules[0]).to("meta")  # the architecture only
        self.layers = list(_leaves(self.base, ""))

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def train(self, mode: bool = True) -> Stacked:
        self.base.train(mode)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for prefix, layer in self.layers:
            p, b = _own(self.params, prefix), _own(self.buffers, prefix)
            if isinstance(layer, LOOPED):
                # unbind, not x[m]: indexing's backward writes each slice into a zeroed full-size tensor (M^2 work)
                xs = x.unbind(0)
                ps = _slices(p, len(xs))
                x = torch.stack([_conv(layer, xs[m], ps[m]) for m in range(len(xs))])
            elif isinstance(layer, PER_MODEL):  # running statistics update in place through the buffers' views
                xs = x.unbind(0)
                ps, bs = _slices(p, len(xs)), _slices(b, len(xs))
                x = torch.stack([functional_call(layer, (ps[m], bs[m]), (xs[m],)) for m in range(len(xs))])
            else:
                x = vmap(lambda p, b, x, layer=layer: functional_call(layer, (p, b), (x,)))(p, b, x)
        return x

    __call__ = forward

    @torch.no_grad()
    def write_back(self) -> None:
        for m, module in enumerate(self.modules):
            for name, tensor in module.named_parameters():
                tensor.copy_(self.params[name][m])
            for name, tensor in module.named_buffers():
                tensor.copy_(self.buffers[name][m])


def _leaves(module: nn.Module, prefix: str):
    """(name prefix, layer) in the order a forward pass applies them: Sequential in order, an autoencoder's
    encoder then decoder; a module with a forward of its own is one layer (run under vmap as a whole)."""
    children = None
    if isinstance(module, nn.Sequential):
        children = list(module.named_children())
    elif hasattr(module, "encoder") and hasattr(module, "decoder") and type(module).forward is _ae_forward():
        children = [("encoder", module.encoder), ("decoder", module.decoder)]
    if children is None:
        yield prefix, module
        return
    for name, child in children:
        yield from _leaves(child, f"{prefix}{name}.")


def _ae_forward():
    from msvdd.networks.base import AutoEncoder

    return AutoEncoder.forward


def _own(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix) and "." not in k[len(prefix):]}


def _slices(tensors: dict, models: int) -> list[dict]:
    """{name: (M, ...)} -> model m's {name: (...)} for each m (unbind: see ``forward``)."""
    unbound = {k: v.unbind(0) for k, v in tensors.items()}
    return [{k: v[m] for k, v in unbound.items()} for m in range(models)]


def _conv(layer, x: torch.Tensor, p: dict) -> torch.Tensor:
    """One model's convolution with the layer's settings and that model's weights (as the layer's forward)."""
    if isinstance(layer, nn.modules.conv._ConvTransposeNd):
        fn = getattr(nn.functional, f"conv_transpose{len(layer.kernel_size)}d")
        return fn(x, p["weight"], p.get("bias"), layer.stride, layer.padding, layer.output_padding, layer.groups,
                  layer.dilation)
    return layer._conv_forward(x, p["weight"], p.get("bias"))


def gather(xs: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """xs (M, n, ...) and index batches idx (M, B): each model's own batch, (M, B, ...)."""
    return xs[torch.arange(len(xs), device=xs.device)[:, None], idx]
