"""A bias-free MLP autoencoder for feature vectors (tables), as PyOD and DeepOD use for tabular Deep SVDD.

As in the LeNets, no layer has a bias and BatchNorm has no affine part, so the encoder cannot map
everything to the center for free (hypersphere collapse). The decoder mirrors the encoder and ends in a
plain linear layer: standardised features are not bounded, so there is no sigmoid.
"""

from __future__ import annotations

import math

from torch import nn

from msvdd.errors import ConfigError
from msvdd.networks.base import BN_EPS, AutoEncoder

ACTIVATIONS = {"leaky_relu": lambda: nn.LeakyReLU(0.01), "relu": nn.ReLU, "elu": nn.ELU}


def _block(n_in: int, n_out: int, activation: str) -> list[nn.Module]:
    return [nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out, eps=BN_EPS, affine=False),
            ACTIVATIONS[activation]()]


class MLPAutoEncoder(AutoEncoder):
    """Encoder ``phi``: input -> hidden layers -> ``rep_dim``; decoder: the mirror image back to the input.

    Parameters
    ----------
    input_shape : shape of one item, e.g. (n_features,); images are flattened and their shape restored.
    hidden : widths of the hidden layers, e.g. (64, 32) as PyOD's DeepSVDD.
    rep_dim : size of the representation phi(x).
    activation : "leaky_relu" (slope 0.01), "relu" or "elu".
    """

    def __init__(self, input_shape, hidden=(64, 32), rep_dim=16, activation="leaky_relu"):
        super().__init__()
        input_shape = tuple(int(v) for v in ([input_shape] if isinstance(input_shape, int) else input_shape))
        hidden = tuple(int(h) for h in hidden)
        _check(input_shape, hidden, rep_dim, activation)
        self.hparams = dict(architecture=type(self).__name__, input_shape=list(input_shape), hidden=list(hidden),
                            rep_dim=int(rep_dim), activation=activation)
        self.input_shape, self.rep_dim = input_shape, int(rep_dim)
        n_in, widths = math.prod(input_shape), [math.prod(input_shape), *hidden]

        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += _block(a, b, activation)
        self.encoder = nn.Sequential(*layers, nn.Linear(widths[-1], rep_dim, bias=False))

        back, prev = [], int(rep_dim)
        for h in reversed(hidden):
            back += _block(prev, h, activation)
            prev = h
        self.decoder = nn.Sequential(*back, nn.Linear(prev, n_in, bias=False), nn.Unflatten(1, input_shape))


def _check(input_shape, hidden, rep_dim, activation) -> None:
    if not input_shape or min(input_shape) < 1:
        raise ConfigError("network.input_shape", list(input_shape), "the shape of one item, all sizes >= 1")
    if min(hidden, default=1) < 1:
        raise ConfigError("network.hidden", list(hidden), "a list of positive layer widths")
    if isinstance(rep_dim, bool) or not isinstance(rep_dim, int) or rep_dim < 1:
        raise ConfigError("network.rep_dim", rep_dim, "a positive int")
    if activation not in ACTIVATIONS:
        raise ConfigError("network.activation", activation, ", ".join(ACTIVATIONS))
