"""Bias-free LeNet-type autoencoders; the encoder is the Deep SVDD network.

``ruff_lenet`` reproduces Ruff et al.'s reference networks (MNIST, CIFAR-10, CIFAR-10 ELU);
``lenet`` is msvdd's own parametric LeNet (the 8x8 digits, the mirrored-decoder variant, and the user's
own images, sized from the data); ``mlp`` the MLP for feature vectors (tables).
"""

from __future__ import annotations

from msvdd.networks.base import AutoEncoder
from msvdd.networks.lenet import LeNetAutoEncoder
from msvdd.networks.mlp import MLPAutoEncoder
from msvdd.networks.ruff_lenet import CIFAR10LeNetAutoEncoder, MNISTLeNetAutoEncoder

ARCHITECTURES = {cls.__name__: cls for cls in (LeNetAutoEncoder, MNISTLeNetAutoEncoder, CIFAR10LeNetAutoEncoder,
                                               MLPAutoEncoder)}

__all__ = ["AutoEncoder", "CIFAR10LeNetAutoEncoder", "LeNetAutoEncoder", "MLPAutoEncoder", "MNISTLeNetAutoEncoder",
           "build_network"]


def build_network(hparams: dict) -> AutoEncoder:
    """The network a saved ``hparams`` dict describes (its ``architecture`` names the class)."""
    kwargs = dict(hparams)
    name = kwargs.pop("architecture", None)
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown network architecture {name!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name](**kwargs)
