"""First neighbours and point-to-point distances for FINCH, without any n x n matrix.

Distances are cosine distance (1 - cosine similarity) and Euclidean distance. The exact search
ranks candidates with float32 matrix products (fast) in tiles of a bounded size, then settles
every row whose best two candidates are too close for float32 to tell apart in float64, so that
ties go to the lowest index as they would with exact arithmetic (pixel data has many exact ties).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from threadpoolctl import threadpool_limits

METRICS = ("cosine", "euclidean")
BLOCK_ELEMS = 3 << 19  # float32 scores per thread in the exact search (6 MiB: stays in cache)
TIE_TOL = 1e-6  # relative float32 error allowed per sqrt(dimension) before a row is rechecked
PAIR_ELEMS = 1 << 20  # float64 values per temporary in the float64 paths (8 MiB)


def sq_norms(x64: np.ndarray) -> np.ndarray:
    """Squared row norms: exact for integer data such as pixels, so exact ties stay ties below."""
    return np.einsum("ij,ij->i", x64, x64)


def _distance(dot, sq_a, sq_b, metric):
    """Distance from dot products and squared norms, by the formulas a dense float64 reference uses."""
    if metric == "cosine":  # the floor gives a zero cluster mean distance 1 to all, not NaN
        return 1.0 - dot / np.maximum(np.sqrt(sq_a) * np.sqrt(sq_b), np.finfo(np.float64).tiny)
    return np.sqrt(np.maximum(sq_a + sq_b - 2.0 * dot, 0.0))


def pair_distances(x64: np.ndarray, sq: np.ndarray, i: np.ndarray, j: np.ndarray, metric: str) -> np.ndarray:
    """d(x_i, x_j) for paired index arrays, in float64."""
    out = np.empty(len(i))
    for blk in row_blocks(len(i), x64.shape[1]):
        a, b = i[blk], j[blk]
        out[blk] = _distance(np.einsum("ij,ij->i", x64[a], x64[b]), sq[a], sq[b], metric)
    return out


def distances_from(x64: np.ndarray, sq: np.ndarray, rows: np.ndarray, metric: str) -> np.ndarray:
    """The len(rows) x n float64 distances from x[rows] to every point (callers keep len(rows) small)."""
    return _distance(x64[rows] @ x64.T, sq[rows, None], sq[None, :], metric)


def row_blocks(n_rows: int, n_cols: int):
    """Slices of rows so that a block of rows x n_cols float64 stays within PAIR_ELEMS."""
    step = max(1, PAIR_ELEMS // max(1, n_cols))
    return (slice(s, s + step) for s in range(0, n_rows, step))


def _exact_rows(x64: np.ndarray, sq: np.ndarray, rows: np.ndarray, metric: str) -> np.ndarray:
    """First neighbours of `rows` in float64; the slow path for the few rows float32 cannot settle."""
    out = np.empty(len(rows), dtype=np.int64)
    for blk in row_blocks(len(rows), len(x64)):
        r = rows[blk]
        d = distances_from(x64, sq, r, metric)
        d[np.arange(len(r)), r] = np.inf
        out[blk] = d.argmin(1)  # first minimum: lowest index wins a tie
    return out


def exact_first_neighbours(x64: np.ndarray, metric: str, block_elems: int = BLOCK_ELEMS) -> np.ndarray:
    """Exact first neighbour of every row (never itself), lowest index on ties."""
    n, dim = x64.shape
    sq = sq_norms(x64)
    if metric == "cosine":  # maximise x_i.x_j on unit vectors
        xs = (x64 / np.sqrt(sq)[:, None]).astype(np.float32)
        left, right = xs, xs.T.copy()
    else:  # maximise 2 x_i.x_j - |x_j|^2 = [2 x_i, 1].[x_j, -|x_j|^2]; centring limits cancellation
        xs = x64 - x64.mean(0)
        xs = (xs / max(np.abs(xs).max(), np.finfo(np.float64).tiny)).astype(np.float32)  # no overflow
        ones = np.ones((n, 1), dtype=np.float32)
        left, right = np.hstack([2 * xs, ones]), np.vstack([xs.T, -np.einsum("ij,ij->i", xs, xs)])
    rows = max(1, min(n, block_elems // n))
    kappa = np.empty(n, dtype=np.int64)
    best, second = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    local = threading.local()

    def block(r0):
        if not hasattr(local, "buf"):
            local.buf = np.empty(rows * n, dtype=np.float32)
        at, done = np.arange(min(rows, n - r0)), slice(r0, r0 + rows)
        s = np.matmul(left[done], right, out=local.buf[: len(at) * n].reshape(len(at), n))
        s[at, r0 + at] = -np.inf  # a point is not its own neighbour
        kappa[done] = j = s.argmax(1)  # vectorised, and keeps the first maximum
        best[done] = s[at, j]
        s[at, j] = -np.inf
        second[done] = s.max(1)

    # One single-threaded BLAS call per thread, on blocks that stay in cache: the threads keep the
    # cores busy through the argmax passes too, and numpy releases the GIL in both.
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(torch.get_num_threads()) as pool:
        list(pool.map(block, range(0, n, rows)))
    # A float32 score is off by about TIE_TOL * sqrt(dim) * (|x_i| + |x_j|)^2 at most, so rows whose
    # best two scores are closer than that are ranked again in float64.
    norm = np.sqrt(np.einsum("ij,ij->i", xs, xs, dtype=np.float64))
    unsure = np.flatnonzero(best - second <= TIE_TOL * np.sqrt(dim) * (norm + norm[kappa]) ** 2)
    if len(unsure):
        kappa[unsure] = _exact_rows(x64, sq, unsure, metric)
    return kappa


def ann_first_neighbours(x64: np.ndarray, metric: str, seed: int) -> np.ndarray:
    """Approximate first neighbours from pynndescent (self + 1 neighbour), for large n."""
    from pynndescent import NNDescent

    index = NNDescent(x64.astype(np.float32), n_neighbors=2, metric=metric, random_state=seed)
    ind = index.neighbor_graph[0]
    own = np.arange(len(x64))
    # With duplicates the point itself may sit in column 1 (or be missing): take the other one.
    kappa = np.where(ind[:, 0] == own, ind[:, 1], ind[:, 0]).astype(np.int64)
    lost = np.flatnonzero((kappa < 0) | (kappa == own))
    if len(lost):
        kappa[lost] = _exact_rows(x64, sq_norms(x64), lost, metric)
    return kappa
