"""Centers, distances and the score rules of multi-sphere Deep SVDD that look at the spheres."""

from __future__ import annotations

import torch

from msvdd.errors import ConfigError

SPHERE_RULES = ("min_margin", "nearest")


def init_centers(z: torch.Tensor, cluster: torch.Tensor, n_clusters: int, eps: float = 0.1) -> torch.Tensor:
    """Mean embedding of each cluster, with near-zero coordinates pushed to +-eps.

    A coordinate of c that is (almost) zero can be matched by zero weights, a trivial solution;
    Ruff et al. move it to eps with its sign (0 counts as positive).
    """
    counts = torch.bincount(cluster, minlength=n_clusters).clamp(min=1).unsqueeze(1).to(z.dtype)
    c = torch.zeros(n_clusters, z.shape[1], dtype=z.dtype, device=z.device).index_add_(0, cluster, z) / counts
    small = c.abs() < eps
    c[small & (c < 0)] = -eps
    c[small & (c >= 0)] = eps
    return c


def sq_distances(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(n, K) squared Euclidean distances, computed exactly (no ||a||^2 + ||b||^2 - 2ab cancellation)."""
    return ((z.unsqueeze(1) - centers.unsqueeze(0)) ** 2).sum(-1)


def score(dist_sq: torch.Tensor, radii: torch.Tensor, rule: str = "min_margin") -> torch.Tensor:
    """Anomaly score, higher = more anomalous; > 0 means outside the sphere(s) the rule looks at.

    ``min_margin``: min_k (d_k - R_k^2): anomalous only when outside every sphere (msvdd's default).
    ``nearest``: d - R^2 of the nearest center (the seed's rule). They differ when a point is nearer
    one center but inside another, larger sphere.
    """
    margin = dist_sq - radii.to(dist_sq.dtype) ** 2
    if rule == "min_margin":
        return margin.min(dim=1).values
    if rule == "nearest":
        return margin.gather(1, dist_sq.argmin(dim=1, keepdim=True)).squeeze(1)
    raise ConfigError("model.score", rule, ", ".join(SPHERE_RULES))


def relative_distance(dist_sq: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """min_k ||phi(x) - c_k|| / R_k: the distance in units of each sphere's own radius (issue 23).

    Many spheres differ in spread; the plain distance to the nearest center favours the loose ones, so a
    point just outside a tight sphere scores as normal as one deep inside a loose one. Dividing by R_k
    (``radii_``: the (1 - nu) quantile of the sphere's own training distances under the one-class objective,
    the trained radius under soft-boundary) puts every sphere on one scale. A sphere
    whose radius is 0 (all its points on its center) counts as radius 1e-12, not as a division by zero.
    """
    return (dist_sq.clamp_min(0).sqrt() / radii.to(dist_sq.dtype).clamp_min(1e-12)).min(dim=1).values
