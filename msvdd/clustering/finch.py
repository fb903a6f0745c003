"""FINCH clustering (Sarfraz, Sharma & Stiefelhagen, CVPR 2019): parameter-free and hierarchical.

Each point is linked to its first (nearest) neighbour; i and j fall in one cluster when j is i's
first neighbour, i is j's, or both share one. The clusters' means (of the original points) are
clustered the same way, round after round, which gives ever coarser partitions without a single
parameter. Partitions and cluster counts match the authors' reference code, including its early
exit: the largest weighted link of the first partition caps the links of every later round. As in
that code, the links are all pairs of its adjacency (A + I)(A + I)^T (A: i -> first neighbour),
pairs that merely share a first neighbour included, each weighing d(i, j) times the entry (2 for
mutual first neighbours, else 1). Capping only the i -> first-neighbour links instead would give
[372, 84, 21, 10, 7, 6] clusters on the digits, not the reference's [372, 84, 21, 8, 3].

Distances: cosine distance = 1 - cosine similarity, Euclidean distance = ||x_i - x_j||.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClusterMixin

from .neighbours import (
    METRICS,
    ann_first_neighbours,
    distances_from,
    exact_first_neighbours,
    pair_distances,
    row_blocks,
    sq_norms,
)

log = logging.getLogger(__name__)
PAIRS_PER_CHUNK = 1 << 20  # shared-neighbour pairs weighed at once in the early exit
EDGES_HELD = 1 << 24  # edges kept before they are folded into components (bounds memory)


@dataclass(frozen=True)
class FinchResult:
    """partitions: n x P labels, finest first; n_clusters: clusters per partition;
    labels: the partition with exactly req_clusters clusters, or None when none was asked."""

    partitions: np.ndarray
    n_clusters: list[int]
    labels: np.ndarray | None = None


def finch(x, *, metric="cosine", req_clusters=None, ann_above=70_000, ensure_early_exit=True, seed=0):
    """Cluster the rows of x (n x d, numpy or torch) into a hierarchy of partitions -> FinchResult.

    Above `ann_above` points the first neighbours come from pynndescent (approximate, seeded by
    `seed`) and there is no early exit, as in the reference code; otherwise they are exact.
    """
    x64 = _checked(x, metric, req_clusters)
    partitions, counts = [], []
    labels, points, cap = np.arange(len(x64)), x64, None
    while True:
        exact = len(points) <= ann_above
        kappa = exact_first_neighbours(points, metric) if exact else ann_first_neighbours(points, metric, seed)
        n_comp, comp = _components(points, kappa, metric, cap)
        if counts and (n_comp == 1 or n_comp >= counts[-1]):  # the reference drops that round
            break
        labels = comp[labels]
        partitions.append(labels)
        counts.append(n_comp)
        if n_comp == 1:
            break
        if len(counts) == 1 and ensure_early_exit and exact:
            cap = max(w.max() for _, _, w in _weighted_pairs(points, kappa, metric))
        points = _means(x64, labels, n_comp)
    return FinchResult(np.column_stack(partitions), counts, _required(x64, partitions, counts, req_clusters, metric))


class FINCH(ClusterMixin, BaseEstimator):
    """scikit-learn wrapper of `finch`: labels_ is the req_clusters partition if asked, else the coarsest."""

    def __init__(self, metric="cosine", req_clusters=None, ann_above=70_000, ensure_early_exit=True, seed=0):
        self.metric = metric
        self.req_clusters = req_clusters
        self.ann_above = ann_above
        self.ensure_early_exit = ensure_early_exit
        self.seed = seed

    def fit(self, X, y=None):
        res = finch(X, metric=self.metric, req_clusters=self.req_clusters, ann_above=self.ann_above,
                    ensure_early_exit=self.ensure_early_exit, seed=self.seed)
        self.partitions_, self.n_clusters_ = res.partitions, res.n_clusters
        self.labels_ = res.labels if res.labels is not None else res.partitions[:, -1]
        return self


def _checked(x, metric, req_clusters) -> np.ndarray:
    """float64 copy of the float32 data, or a ValueError that says what to fix."""
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is not supported; allowed: {', '.join(map(repr, METRICS))}")
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float32).numpy()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"x must be a 2-D array of n points x d >= 1 features, got shape {x.shape}")
    n = len(x)
    if n < 2:
        raise ValueError(f"FINCH needs at least 2 points, got {n}")
    bad = int((~np.isfinite(x).all(1)).sum())
    if bad:
        raise ValueError(f"x has NaN or inf values in {bad} of {n} rows")
    if metric == "cosine" and (zero := int((~x.any(1)).sum())):
        raise ValueError(f"x has {zero} zero vectors (of {n} rows), which have no cosine distance; "
                         "drop them or use metric='euclidean'")
    if req_clusters is not None and (not isinstance(req_clusters, numbers.Integral) or not 1 <= req_clusters <= n):
        raise ValueError(f"req_clusters must be an integer from 1 to the number of points ({n}), got {req_clusters!r}")
    return x.astype(np.float64)


def _sibling_pairs(kappa: np.ndarray):
    """Chunks of all pairs (i, j), i != j, that share a first neighbour, without a loop over points."""
    order = np.argsort(kappa, kind="stable")
    grouped = kappa[order]
    pos = np.arange(len(kappa))
    later = np.searchsorted(grouped, grouped, side="right") - pos - 1  # partners after pos in its group
    ends = np.cumsum(later)
    s = 0
    while s < len(pos):
        e = max(s + 1, int(np.searchsorted(ends, ends[s] - later[s] + PAIRS_PER_CHUNK, side="right")))
        cnt = later[s:e]
        if cnt.sum():
            left = np.repeat(pos[s:e], cnt)
            offset = np.arange(len(left)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            yield order[left], order[left + 1 + offset]
        s = e


def _weighted_pairs(points, kappa, metric):
    """The reference's links as (i, j, d(i, j) * m(i, j)) chunks, m = |{i, k_i} & {j, k_j}|:
    each link to a first neighbour (m = 2 when mutual), then each pair sharing a first neighbour."""
    sq = sq_norms(points)
    own = np.arange(len(kappa))
    mutual = kappa[kappa] == own
    yield own, kappa, pair_distances(points, sq, own, kappa, metric) * np.where(mutual, 2.0, 1.0)
    for a, b in _sibling_pairs(kappa):
        yield a, b, pair_distances(points, sq, a, b, metric)


def _components(points, kappa, metric, cap):
    """Weak components of i -> kappa_i, or, under an early-exit cap, of the links weighing <= cap."""
    m = len(kappa)
    own = np.arange(m)
    if cap is None:
        return _weak_components(m, own, kappa)
    src, dst, held = [], [], 0
    for a, b, w in _weighted_pairs(points, kappa, metric):
        ok = w <= cap
        src.append(a[ok])
        dst.append(b[ok])
        held += int(ok.sum())
        if held > EDGES_HELD:  # fold the edges so far into one edge per point, to its component's first point
            lab = _weak_components(m, np.concatenate(src), np.concatenate(dst))[1]
            src, dst, held = [own], [np.unique(lab, return_index=True)[1][lab]], m
    return _weak_components(m, np.concatenate(src), np.concatenate(dst))


def _weak_components(m, src, dst):
    graph = sp.csr_matrix((np.ones(len(src), dtype=np.float32), (src, dst)), shape=(m, m))
    return connected_components(graph, directed=True, connection="weak")


def _sums(x64, labels, k):
    """Sums and sizes of the clusters' original points, in float64."""
    member = sp.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels)))
    return member @ x64, np.bincount(labels, minlength=k)


def _means(x64, labels, k):
    sums, sizes = _sums(x64, labels, k)
    return sums / sizes[:, None]


def _required(x64, partitions, counts, req, metric):
    """The partition with exactly `req` clusters: merge the two nearest means of the coarsest partition
    with at least `req` clusters until `req` remain."""
    if req is None:
        return None
    if req > counts[0]:
        log.warning("req_clusters=%d exceeds the %d clusters of the finest FINCH partition; returning that "
                    "partition", req, counts[0])
        return partitions[0].copy()
    start = max(i for i, c in enumerate(counts) if c >= req)
    labels, k = partitions[start], counts[start]
    sums, sizes = _sums(x64, labels, k)
    means = sums / sizes[:, None]
    sq = sq_norms(means)
    alive, parent = np.ones(k, bool), np.arange(k)
    first, first_d = np.zeros(k, dtype=np.int64), np.full(k, np.inf)

    def refresh(rows):  # exact first neighbour among the live means, lowest index on ties
        for blk in row_blocks(len(rows), k):
            r = rows[blk]
            d = distances_from(means, sq, r, metric)
            d[:, ~alive] = np.inf
            d[np.arange(len(r)), r] = np.inf
            first[r] = d.argmin(1)
            first_d[r] = d[np.arange(len(r)), first[r]]

    refresh(np.arange(k))
    for _ in range(k - req):
        a = int(np.argmin(first_d))
        a, b = sorted((a, int(first[a])))
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        means[a] = sums[a] / sizes[a]
        sq[a] = means[a] @ means[a]
        alive[b], parent[b], first_d[b] = False, a, np.inf
        refresh(np.flatnonzero((alive & np.isin(first, (a, b))) | (np.arange(k) == a)))
        d_a = distances_from(means, sq, np.array([a]), metric)[0]
        closer = alive & ((d_a < first_d) | ((d_a == first_d) & (a < first)))
        closer[a] = False
        first[closer], first_d[closer] = a, d_a[closer]
    while not np.array_equal(parent, parent[parent]):
        parent = parent[parent]
    return np.unique(parent[labels], return_inverse=True)[1]
