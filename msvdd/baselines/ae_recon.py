"""Reconstruction error of the pretrained autoencoder: the baseline Deep SVDD gets for free.

Deep SVDD starts from an autoencoder pretrained on the normal data; scoring a test image by how
badly that autoencoder reconstructs it is the obvious baseline. It uses the same network, settings,
seed and pretraining cache as Deep SVDD (``msvdd.svdd.pretrain_cache.cached_pretrain``), so in a sweep over
methods it reuses the cached weights and costs one pass over the test set.

In model.pt (``msvdd.model_file``) it is the network's hparams and weights (as Deep SVDD's, rebuilt by
``msvdd.networks.build_network``), the threshold, the training scores and the pretraining history: the
loaded network computes the same reconstruction errors bit for bit on the same machine and device.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from msvdd.baselines.base import Baseline, as_matrix, check_contamination
from msvdd.errors import ConfigError
from msvdd.networks import build_network
from msvdd.svdd.pretrain import pretrain_autoencoder
from msvdd.svdd.pretrain_cache import cached_pretrain
from msvdd.svdd.training import TrainSettings

EVAL_BATCH = 1024


class AEReconstruction(Baseline):
    """Score = per-image sum of squared reconstruction errors (the pretraining loss), higher = more anomalous.

    Parameters
    ----------
    network : LeNetAutoEncoder (copied and re-initialised from ``seed`` in ``fit``).
    pretrain : TrainSettings of the autoencoder, as Deep SVDD's ``pretrain``; required.
    seed, pretrain_cache, show_progress : as in DeepSVDD.
    contamination : share of the training data ``predict`` calls anomalous.

    Attributes: ``network_``, ``threshold_``, ``train_scores_``, ``history_`` (pretraining losses),
    ``pretrain_cached_``, ``timings_``.
    """

    kind = name = "ae_recon"

    def __init__(self, network, pretrain=None, seed: int = 0, pretrain_cache=None, contamination: float = 0.1,
                 show_progress=None):
        self.network, self.pretrain, self.seed, self.pretrain_cache = network, pretrain, seed, pretrain_cache
        self.contamination, self.show_progress = contamination, show_progress

    def validate(self, input_shape=None) -> None:
        self._check_scoring_params()
        if not isinstance(self.pretrain, TrainSettings):
            raise ConfigError("model.pretrain", self.pretrain, "pretraining settings",
                              "ae_recon scores with the pretrained autoencoder")
        net_shape = tuple(self.network.input_shape)
        if input_shape is not None and tuple(input_shape) != net_shape:
            raise ConfigError("network.input_shape", list(net_shape),
                              f"the dataset's image shape {list(input_shape)}", "does not match the data")

    def _check_scoring_params(self) -> None:
        check_contamination(self.contamination)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError("seed", self.seed, "an int")

    def fit(self, X, y=None) -> AEReconstruction:
        X = _inputs(X)
        self.validate(X.shape[1:])
        t = time.perf_counter()
        gen = torch.Generator().manual_seed(self.seed)  # as DeepSVDD.fit: same weights, same cache entry
        torch.manual_seed(self.seed)
        net = copy.deepcopy(self.network)
        net.reset_parameters()
        self.pretrain_cached_ = False
        if self.pretrain_cache:
            losses, self.pretrain_cached_ = cached_pretrain(net, X, self.pretrain, gen, self.seed,
                                                            self.pretrain_cache, self.show_progress)
        else:
            losses = pretrain_autoencoder(net, X, self.pretrain, gen, self.show_progress)
        self.history_ = {"pretrain_loss": losses}
        self.network_ = net.eval()
        self.timings_ = {"pretrain": time.perf_counter() - t}
        self.train_scores_ = self.score_samples(X)
        self.threshold_ = float(np.quantile(self.train_scores_, 1 - self.contamination))
        return self

    @torch.no_grad()
    def score_samples(self, X) -> np.ndarray:
        if not hasattr(self, "network_"):
            raise RuntimeError("this AEReconstruction is not fitted yet: call fit(X) (or load(path)) first")
        X = _inputs(X)
        device = next(self.network_.parameters()).device
        errors = [((self.network_(xb.to(device)) - xb.to(device)) ** 2).flatten(1).sum(1).cpu()
                  for xb in X.split(EVAL_BATCH)]
        return torch.cat(errors).double().numpy()

    def describe(self, y=None) -> dict:
        return {"baseline": self._describe(), "pretrain_cached": bool(getattr(self, "pretrain_cached_", False))}

    def _describe(self) -> dict:
        return {"threshold": self.threshold_, "final_pretrain_loss": (self.history_["pretrain_loss"] or [None])[-1]}

    # ---------------------------------------------------------------- model.pt (msvdd.model_file)
    def _state(self) -> dict:
        """Everything scoring needs, the weights on the CPU so that the file loads anywhere."""
        return {"network": self.network_.hparams,
                "weights": {k: v.cpu() for k, v in self.network_.state_dict().items()},
                "threshold": float(self.threshold_), "train_scores": torch.from_numpy(np.array(self.train_scores_)),
                "history": self.history_, "seed": self.seed, "contamination": self.contamination}

    @classmethod
    def _from_state(cls, state: dict, device: str = "cpu") -> AEReconstruction:
        net = build_network(state["network"])
        net.load_state_dict(state["weights"])
        model = cls(net, seed=state["seed"], contamination=state["contamination"])
        model._check_scoring_params()
        model.network_ = net.to(device).eval()
        model.threshold_, model.train_scores_ = float(state["threshold"]), state["train_scores"].numpy()
        model.history_ = state["history"]
        return model


def _inputs(X) -> torch.Tensor:
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim < 2:  # images (n, C, H, W) for a LeNet, rows (n, d) for the MLP of tables: validate() checks the fit
        raise ValueError(f"X must be a batch of images (n, channels, height, width) or of rows (n, features); "
                         f"got shape {tuple(X.shape)}")
    as_matrix(X[:1])  # shape and emptiness checks of the other baselines
    bad = (~torch.isfinite(X.flatten(1))).any(1).sum().item()
    if bad:
        raise ValueError(f"X has NaN or infinite values in {bad} samples")
    return X
