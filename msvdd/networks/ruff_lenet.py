"""Ruff et al.'s LeNet autoencoders (Deep-SVDD-PyTorch, ``src/networks/mnist_LeNet.py``,
``cifar10_LeNet.py``, ``cifar10_LeNet_elu.py``), reproduced layer for layer so that msvdd's one-radius
Deep SVDD is the reference's and not a weaker look-alike.

What is faithful, and why it matters:

- Every layer is bias-free and BatchNorm has no affine part (eps 1e-4): with a bias or a learnable
  shift the encoder could map every input to the center and reach zero loss (hypersphere collapse).
- The activation is leaky ReLU with PyTorch's default slope 0.01 (the reference calls ``F.leaky_relu``
  without a slope), or ELU for the CIFAR-10 variant. The encoder has no bounded activation.
- The decoders have no dense layer: the code itself is reshaped to (rep_dim/16, 4, 4) and grown back
  by transposed convolutions, so ``rep_dim`` must be a multiple of 16. The MNIST decoder upsamples
  *before* each transposed convolution and gets from 16x16 to 14x14 with padding 3; the CIFAR-10
  decoder convolves first and upsamples after.
- Only the CIFAR-10 autoencoder puts a BatchNorm1d on the code (it is the decoder's first layer here,
  so phi, the encoder, has none, as in the reference's Deep SVDD network) and draws its (transposed)
  convolutions Xavier-uniform, with the leaky-ReLU gain (gain 1 in the ELU file). Dense layers and
  all MNIST layers keep PyTorch's default initialisation.

One deliberate difference: the reference builds a separate Deep SVDD network and copies the encoder's
pretrained weights into it; here phi *is* ``encoder``. After pretraining that is the same thing; with
pretraining switched off (``model.pretrain=null``) phi starts from this module's initialisation
(Xavier for CIFAR-10), where the reference's untrained Deep SVDD network would use PyTorch's defaults.
"""

from __future__ import annotations

from torch import nn

from msvdd.errors import ConfigError
from msvdd.networks.base import BN_EPS, AutoEncoder

ACTIVATIONS = {"leaky_relu": nn.LeakyReLU, "elu": nn.ELU}  # PyTorch defaults: slope 0.01, alpha 1


def _bn_act(channels: int, activation: str) -> list[nn.Module]:
    return [nn.BatchNorm2d(channels, eps=BN_EPS, affine=False), ACTIVATIONS[activation]()]


def _conv(c_in: int, c_out: int, padding: int = 2) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 5, padding=padding, bias=False)


def _deconv(c_in: int, c_out: int, padding: int = 2) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, 5, padding=padding, bias=False)


def _check_rep_dim(rep_dim) -> int:
    if int(rep_dim) < 16 or int(rep_dim) % 16:
        raise ConfigError("network.rep_dim", rep_dim,
                          "a positive multiple of 16 (the decoder reshapes the code to (rep_dim/16, 4, 4))")
    return int(rep_dim)


class MNISTLeNetAutoEncoder(AutoEncoder):
    """``mnist_LeNet.py``: 1x28x28 -> conv 8 -> pool -> conv 4 -> pool -> dense to ``rep_dim`` (32);
    decoder (rep_dim/16)x4x4 -> 4 -> 8 -> 1 channels with upsampling before each transposed conv."""

    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.rep_dim = _check_rep_dim(rep_dim)
        self.input_shape = (1, 28, 28)
        self.hparams = dict(architecture=type(self).__name__, rep_dim=self.rep_dim)
        act = "leaky_relu"
        self.encoder = nn.Sequential(
            _conv(1, 8), *_bn_act(8, act), nn.MaxPool2d(2),
            _conv(8, 4), *_bn_act(4, act), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(4 * 7 * 7, self.rep_dim, bias=False))
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (self.rep_dim // 16, 4, 4)), ACTIVATIONS[act](),
            nn.Upsample(scale_factor=2), _deconv(self.rep_dim // 16, 4), *_bn_act(4, act),
            nn.Upsample(scale_factor=2), _deconv(4, 8, padding=3), *_bn_act(8, act),  # 16x16 -> 14x14
            nn.Upsample(scale_factor=2), _deconv(8, 1), nn.Sigmoid())


class CIFAR10LeNetAutoEncoder(AutoEncoder):
    """``cifar10_LeNet.py`` (activation ``leaky_relu``) or ``cifar10_LeNet_elu.py`` (``elu``):
    3x32x32 -> conv 32, 64, 128, each pooled -> dense to ``rep_dim`` (128); decoder BatchNorm1d on the
    code -> (rep_dim/16)x4x4 -> 128 -> 64 -> 32 -> 3 channels, upsampling after each transposed conv."""

    def __init__(self, rep_dim: int = 128, activation: str = "leaky_relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError("network.activation", activation, ", ".join(ACTIVATIONS))
        self.rep_dim = _check_rep_dim(rep_dim)
        self.input_shape = (3, 32, 32)
        self.activation = activation
        self.hparams = dict(architecture=type(self).__name__, rep_dim=self.rep_dim, activation=activation)
        act = activation
        self.encoder = nn.Sequential(
            _conv(3, 32), *_bn_act(32, act), nn.MaxPool2d(2),
            _conv(32, 64), *_bn_act(64, act), nn.MaxPool2d(2),
            _conv(64, 128), *_bn_act(128, act), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128 * 4 * 4, self.rep_dim, bias=False))
        self.decoder = nn.Sequential(
            nn.BatchNorm1d(self.rep_dim, eps=BN_EPS, affine=False),
            nn.Unflatten(1, (self.rep_dim // 16, 4, 4)), ACTIVATIONS[act](),
            _deconv(self.rep_dim // 16, 128), *_bn_act(128, act), nn.Upsample(scale_factor=2),
            _deconv(128, 64), *_bn_act(64, act), nn.Upsample(scale_factor=2),
            _deconv(64, 32), *_bn_act(32, act), nn.Upsample(scale_factor=2),
            _deconv(32, 3), nn.Sigmoid())
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform (transposed) convolutions, as the reference; its ELU file uses gain 1."""
        gain = nn.init.calculate_gain("leaky_relu") if self.activation == "leaky_relu" else 1.0
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(module.weight, gain=gain)
