"""Deep SVDD objectives with one sphere per cluster; with one cluster they are Ruff et al.'s.

Losses take squared distances to each point's own center, so the same code serves one sphere
and many. A cluster absent from a mini-batch contributes no loss term and keeps its radius: the
seed's code averaged an empty tensor there and got NaN.
"""

from __future__ import annotations

import torch

from msvdd.errors import ConfigError


def _check_nu(nu) -> float:
    if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not 0 < nu <= 1:  # NaN fails 0 < nu
        raise ConfigError("objective.nu", nu, "a number in (0, 1]")
    return float(nu)


class OneClass:
    """Pull every point to its own cluster's center: mean_i ||phi(x_i) - c_k(i)||^2.

    There is no trained radius; ``nu`` only sets the radii fitted after training for ``predict``
    (each cluster's (1 - nu) quantile of training distances).
    """

    name = "one_class"
    trains_radius = False

    def __init__(self, nu: float = 0.1):
        self.nu = _check_nu(nu)

    def loss(self, dist_sq: torch.Tensor, cluster: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
        return dist_sq.mean()


class SoftBoundary:
    """(1/K) sum_k [R_k^2 + 1/nu * mean_{i in k} max(0, ||phi(x_i) - c_k||^2 - R_k^2)].

    R_k is not learned by gradient: after ``warm_up_epochs`` it is set every mini-batch to the
    (1 - nu) quantile of cluster k's distances in the batch, as in Ruff et al.
    """

    name = "soft_boundary"
    trains_radius = True

    def __init__(self, nu: float = 0.1, warm_up_epochs: int = 10):
        self.nu = _check_nu(nu)
        if isinstance(warm_up_epochs, bool) or not isinstance(warm_up_epochs, int) or warm_up_epochs < 0:
            raise ConfigError("objective.warm_up_epochs", warm_up_epochs, "an int >= 0")
        self.warm_up_epochs = warm_up_epochs

    def loss(self, dist_sq: torch.Tensor, cluster: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
        k = radii.numel()
        r_sq = radii.detach() ** 2
        slack = torch.relu(dist_sq - r_sq[cluster])
        counts = torch.bincount(cluster, minlength=k)
        sums = torch.zeros(k, dtype=dist_sq.dtype, device=dist_sq.device).index_add_(0, cluster, slack)
        # Masks rather than boolean indexing: no data-dependent shapes, so the step can be a CUDA graph.
        present = (counts > 0).to(dist_sq.dtype)
        per_cluster = (r_sq + sums / counts.clamp(min=1) / self.nu) * present
        return per_cluster.sum() / present.sum()


def quantile_radii(dist: torch.Tensor, cluster: torch.Tensor, radii: torch.Tensor, nu: float) -> torch.Tensor:
    """Per-cluster (1 - nu) quantile of the distances (not squared); absent clusters keep theirs."""
    new = radii.clone()
    for k in torch.unique(cluster).tolist():  # K is small (a few clusters): a loop over clusters, not points
        new[k] = torch.quantile(dist[cluster == k], 1 - nu)
    return new


OBJECTIVES = {cls.name: cls for cls in (OneClass, SoftBoundary)}  # a saved model names its objective
