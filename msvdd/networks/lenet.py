"""LeNet-type autoencoders whose encoder is the Deep SVDD network phi.

Every layer is bias-free and BatchNorm has no affine part: with a bias (or a learnable BN shift)
the network could map every input to the center c and reach zero loss without learning anything
(hypersphere collapse, Ruff et al. 2018). The encoder uses no bounded activation for the same reason;
only the decoder's output goes through a sigmoid, since it reconstructs images scaled to [0, 1].

The encoder follows Ruff et al.'s LeNets layer for layer (conv -> BN -> activation -> 2x2 max-pool,
then one dense layer to ``rep_dim``). The decoder mirrors it exactly, dense layer included: upsample by
2, transposed convolution, BN, activation, and a sigmoid at the end.
"""

from __future__ import annotations

import hashlib
import inspect

import torch
from torch import nn

from msvdd.errors import ConfigError

ACTIVATIONS = {"leaky_relu": lambda: nn.LeakyReLU(0.1), "elu": nn.ELU}
BN_EPS = 1e-4


def _block(conv: nn.Module, channels: int, activation: str) -> list[nn.Module]:
    return [conv, nn.BatchNorm2d(channels, eps=BN_EPS, affine=False), ACTIVATIONS[activation]()]


class LeNetAutoEncoder(nn.Module):
    """An encoder ``phi`` (the Deep SVDD network) plus the decoder used only for pretraining.

    Parameters
    ----------
    input_shape : (C, H, W) of the images; H and W must be divisible by 2**len(channels).
    channels : output channels of each convolution, e.g. (8, 4) for MNIST.
    kernel_size : odd kernel size of every (transposed) convolution; padding keeps sizes.
    rep_dim : size of the representation phi(x).
    activation : "leaky_relu" (slope 0.1, as Ruff et al.) or "elu".
    """

    def __init__(self, input_shape, channels=(8, 4), kernel_size=5, rep_dim=32, activation="leaky_relu"):
        super().__init__()
        input_shape, channels = tuple(int(v) for v in input_shape), tuple(int(c) for c in channels)
        _check(input_shape, channels, kernel_size, rep_dim, activation)
        self.hparams = dict(input_shape=list(input_shape), channels=list(channels),
                            kernel_size=int(kernel_size), rep_dim=int(rep_dim), activation=activation)
        self.input_shape, self.rep_dim = input_shape, int(rep_dim)
        c_in, h, w = input_shape
        pad = kernel_size // 2
        self.feature_shape = (channels[-1], h >> len(channels), w >> len(channels))
        n_features = channels[-1] * self.feature_shape[1] * self.feature_shape[2]

        layers, prev = [], c_in
        for c in channels:
            layers += _block(nn.Conv2d(prev, c, kernel_size, padding=pad, bias=False), c, activation)
            layers.append(nn.MaxPool2d(2))
            prev = c
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(n_features, rep_dim, bias=False))

        back = [nn.Linear(rep_dim, n_features, bias=False), nn.Unflatten(1, self.feature_shape),
                nn.BatchNorm2d(channels[-1], eps=BN_EPS, affine=False), ACTIVATIONS[activation]()]
        outs = list(reversed(channels))[1:] + [c_in]
        for i, c in enumerate(outs):
            back.append(nn.Upsample(scale_factor=2))
            deconv = nn.ConvTranspose2d(prev, c, kernel_size, padding=pad, bias=False)
            back += [deconv, nn.Sigmoid()] if i == len(outs) - 1 else _block(deconv, c, activation)
            prev = c
        self.decoder = nn.Sequential(*back)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of x (pretraining); Deep SVDD calls ``self.encoder`` directly."""
        return self.decoder(self.encoder(x))


def _check(input_shape, channels, kernel_size, rep_dim, activation) -> None:
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ConfigError("network.input_shape", list(input_shape), "[channels, height, width], all >= 1")
    if not channels or min(channels) < 1:
        raise ConfigError("network.channels", list(channels), "a non-empty list of positive ints")
    step = 2 ** len(channels)
    if input_shape[1] % step or input_shape[2] % step:
        raise ConfigError("network.channels", list(channels), f"a depth whose 2x2 pools divide "
                          f"{input_shape[1]}x{input_shape[2]} (height and width divisible by {step})")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ConfigError("network.kernel_size", kernel_size, "a positive odd int")
    if int(rep_dim) < 1:
        raise ConfigError("network.rep_dim", rep_dim, "a positive int")
    if activation not in ACTIVATIONS:
        raise ConfigError("network.activation", activation, ", ".join(ACTIVATIONS))


def architecture_version() -> str:
    """A hash of this file's source: cached pretrained weights are invalid once the code changes."""
    return hashlib.sha1(inspect.getsource(inspect.getmodule(LeNetAutoEncoder)).encode()).hexdigest()[:12]

