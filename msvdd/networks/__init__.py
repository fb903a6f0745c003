"""Bias-free LeNet-type autoencoders; the encoder is the Deep SVDD network."""

from msvdd.networks.lenet import LeNetAutoEncoder, architecture_version

__all__ = ["LeNetAutoEncoder", "architecture_version"]
