"""msvdd's own LeNet-type autoencoder, for inputs Ruff et al.'s networks do not cover (the 8x8 digits).

Not a reference network: ``msvdd.networks.ruff_lenet`` holds those. Like them, every layer is
bias-free, BatchNorm has no affine part (a bias or learnable shift lets the encoder map everything to
the center: hypersphere collapse) and the encoder has no bounded activation. Unlike them, the shapes
and the leaky-ReLU slope are parameters (any depth, kernel and ``rep_dim``; the digits use slope 0.1,
chosen when msvdd still believed it was Ruff's; PyTorch's and Ruff's is 0.01), and the
decoder mirrors the encoder exactly, dense layer included: dense back to the last feature map, BN,
activation, then per block upsample by 2, transposed convolution, BN, activation, and a sigmoid at the
end. With MNIST's shapes and slope 0.1 (``network=mnist_lenet_mirrored``) it is the network msvdd used
for MNIST before it followed the reference: kept to compare against the reference's decoder.
"""

from __future__ import annotations

from torch import nn

from msvdd.errors import ConfigError
from msvdd.networks.base import BN_EPS, AutoEncoder

ACTIVATIONS = ("leaky_relu", "elu")


def _block(conv: nn.Module, channels: int, act) -> list[nn.Module]:
    return [conv, nn.BatchNorm2d(channels, eps=BN_EPS, affine=False), act()]


class LeNetAutoEncoder(AutoEncoder):
    """An encoder ``phi`` (the Deep SVDD network) plus the decoder used only for pretraining.

    Parameters
    ----------
    input_shape : (C, H, W) of the images; H and W must be divisible by 2**len(channels).
    channels : output channels of each convolution, e.g. (8, 4) for MNIST.
    kernel_size : odd kernel size of every (transposed) convolution; padding keeps sizes.
    rep_dim : size of the representation phi(x).
    activation : "leaky_relu" or "elu".
    negative_slope : leaky ReLU's slope for x < 0 (PyTorch's default 0.01).
    """

    def __init__(self, input_shape, channels=(8, 4), kernel_size=5, rep_dim=32, activation="leaky_relu",
                 negative_slope=0.01):
        super().__init__()
        input_shape, channels = tuple(int(v) for v in input_shape), tuple(int(c) for c in channels)
        _check(input_shape, channels, kernel_size, rep_dim, activation)
        self.hparams = dict(architecture=type(self).__name__, input_shape=list(input_shape), channels=list(channels),
                            kernel_size=int(kernel_size), rep_dim=int(rep_dim), activation=activation,
                            negative_slope=float(negative_slope))
        act = nn.ELU if activation == "elu" else lambda: nn.LeakyReLU(float(negative_slope))
        self.input_shape, self.rep_dim = input_shape, int(rep_dim)
        c_in, h, w = input_shape
        pad = kernel_size // 2
        self.feature_shape = (channels[-1], h >> len(channels), w >> len(channels))
        n_features = channels[-1] * self.feature_shape[1] * self.feature_shape[2]

        layers, prev = [], c_in
        for c in channels:
            layers += _block(nn.Conv2d(prev, c, kernel_size, padding=pad, bias=False), c, act)
            layers.append(nn.MaxPool2d(2))
            prev = c
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(n_features, rep_dim, bias=False))

        back = [nn.Linear(rep_dim, n_features, bias=False), nn.Unflatten(1, self.feature_shape),
                nn.BatchNorm2d(channels[-1], eps=BN_EPS, affine=False), act()]
        outs = list(reversed(channels))[1:] + [c_in]
        for i, c in enumerate(outs):
            back.append(nn.Upsample(scale_factor=2))
            deconv = nn.ConvTranspose2d(prev, c, kernel_size, padding=pad, bias=False)
            back += [deconv, nn.Sigmoid()] if i == len(outs) - 1 else _block(deconv, c, act)
            prev = c
        self.decoder = nn.Sequential(*back)


def _check(input_shape, channels, kernel_size, rep_dim, activation) -> None:
    if len(input_shape) == 1:
        raise ConfigError("network.input_shape", list(input_shape), "network=mlp for feature rows; a LeNet takes "
                          "images [channels, height, width]", f"feature rows of {input_shape[0]} values, not images")
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

