"""What every msvdd autoencoder shares: ``encoder`` is the Deep SVDD network phi, ``decoder`` is used
only for pretraining, and ``reset_parameters`` re-draws the weights under the current torch seed.

``DeepSVDD.fit`` re-initialises a copy of the network under its own seed (the seed, not the moment of
construction, decides the weights). A network with its own initialisation scheme (Ruff's CIFAR-10
autoencoders use Xavier-uniform) overrides ``init_weights``, which runs after every layer's reset, so
the scheme survives that re-initialisation.
"""

from __future__ import annotations

import torch
from torch import nn

BN_EPS = 1e-4  # Ruff et al.'s BatchNorm eps (PyTorch's default is 1e-5)


class AutoEncoder(nn.Module):
    """Subclasses build ``self.encoder`` and ``self.decoder`` and set ``input_shape``, ``rep_dim`` and
    ``hparams`` (the keyword arguments that rebuild them, see ``msvdd.networks.build_network``)."""

    encoder: nn.Module
    decoder: nn.Module
    input_shape: tuple[int, int, int]
    rep_dim: int
    hparams: dict

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of x (pretraining); Deep SVDD calls ``self.encoder`` directly."""
        return self.decoder(self.encoder(x))

    def init_weights(self) -> None:
        """The network's own initialisation on top of PyTorch's per-layer defaults; none by default."""

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()
        self.init_weights()
