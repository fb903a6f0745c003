"""The score rules of a fitted DeepSVDD, all on the trained network's embedding phi(x).

``min_margin``, ``nearest`` and ``relative`` look at the spheres (msvdd.svdd.spheres); ``relative``
divides each sphere's distance by that sphere's radius ``radii_``, whatever the objective. ``knn`` looks
at the training embeddings themselves: the mean distance to the k nearest of them. With one sphere per training point,
min-margin scoring *is* nearest-neighbour scoring, so ``knn`` is the far end of "more spheres than
classes": it keeps the learned space and drops the spheres' shape (issue 23). It needs the training
embeddings at scoring time, so only a model fitted with this rule keeps them (``train_embeddings_``).
"""

from __future__ import annotations

import torch

from msvdd.errors import ConfigError
from msvdd.svdd.spheres import relative_distance, sq_distances
from msvdd.svdd.spheres import score as sphere_score

SCORE_RULES = ("min_margin", "nearest", "relative", "knn")
NEEDS_TRAINING_EMBEDDINGS = ("knn",)
BLOCK_ELEMS = 1 << 22  # float32 distances per block of queries x training points (16 MiB)
CANDIDATE_SPARE = 16  # candidates ranked by the fast distances beyond k, then measured exactly


def check_neighbors(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("model.score_neighbors", value, "an int >= 1")
    return value


def rule_scores(model, z: torch.Tensor) -> torch.Tensor:
    """Anomaly score of embeddings ``z`` by ``model.score``, higher = more anomalous."""
    if model.score == "knn":
        return knn_distance(z, model.train_embeddings_.to(z.device), model.score_neighbors)
    if model.score == "relative":
        return relative_distance(sq_distances(z, model.centers_), model.radii_.to(z.device))
    return sphere_score(sq_distances(z, model.centers_), model.score_radii_.to(z.device), model.score)


def training_scores(model, z: torch.Tensor) -> torch.Tensor:
    """The training points' own scores, as a new normal point would get them (``train_scores_``).

    Under ``knn`` each point leaves itself out of its neighbours: counting its zero distance to itself
    would put the training scores below any new data's, so a threshold at their q-quantile would flag
    far more than 1 - q of new normal data, and standardising by them would be off (issue 23).
    """
    if model.score == "knn":
        return knn_distance(z, z, model.score_neighbors, leave_self_out=True)
    return rule_scores(model, z)


def knn_distance(queries: torch.Tensor, bank: torch.Tensor, k: int, leave_self_out: bool = False) -> torch.Tensor:
    """Mean Euclidean distance from each query to its k nearest rows of ``bank`` (exact, in blocks).

    ``leave_self_out``: the queries are the bank itself and row i does not count as its own neighbour
    (a training point's score, as kNN baselines compute it). ``k`` larger than the bank uses all of it.
    A matrix product ranks the bank fast (||a||^2 + ||b||^2 - 2ab, which loses digits to cancellation);
    the k + CANDIDATE_SPARE best are then measured as exact differences, so the distances that count
    are exact to float32. Blocks of queries keep memory at BLOCK_ELEMS floats.
    """
    k = min(k, len(bank) - int(leave_self_out))
    if k < 1:
        raise ValueError("knn scoring needs at least one training embedding besides the point itself")
    spare = min(len(bank), k + CANDIDATE_SPARE + int(leave_self_out))
    step = max(1, BLOCK_ELEMS // max(1, len(bank)))
    bank_sq = (bank * bank).sum(1)
    out = []
    for start in range(0, len(queries), step):
        q = queries[start:start + step]
        rough = (q * q).sum(1, keepdim=True) + bank_sq - 2 * q @ bank.T  # fast, loses digits to cancellation
        if leave_self_out:
            rows = torch.arange(len(q), device=q.device)
            rough[rows, start + rows] = float("inf")
        candidates = rough.topk(spare, dim=1, largest=False).indices
        exact = (q.unsqueeze(1) - bank[candidates]).norm(dim=2)  # the candidates' distances, without it
        if leave_self_out:
            exact[candidates == (start + rows).unsqueeze(1)] = float("inf")
        out.append(exact.topk(k, dim=1, largest=False).values.mean(1))
    return torch.cat(out)
