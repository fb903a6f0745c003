"""FINCH against a brute-force reference (dense float64 distances, the authors' adjacency), plus
hand-made geometry, the approximate path, bad inputs and the scikit-learn wrapper."""

from __future__ import annotations

import logging
from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score

from msvdd.clustering.finch import FINCH, FinchResult, finch
from msvdd.clustering.neighbours import ann_first_neighbours, exact_first_neighbours

# ---------------------------------------------------------------- brute-force reference


def ref_distances(x, metric):
    """Dense float64 distances: cosine = 1 - cos similarity, euclidean = ||x_i - x_j||."""
    x = np.asarray(x, dtype=np.float64)
    sq = np.einsum("ij,ij->i", x, x)
    dot = x @ x.T
    if metric == "cosine":
        nrm = np.sqrt(sq)
        return 1.0 - dot / np.outer(nrm, nrm)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * dot, 0.0))


def ref_finch(x, metric, early_exit):
    """The reference FINCH loop on full n x n matrices: adjacency (A + I)(A + I)^T without its
    diagonal, weights d * that count, early-exit cap = the largest weight of the first round."""
    x = np.asarray(x, dtype=np.float64)
    labels, points, parts, counts, cap = np.arange(len(x)), x, [], [], None
    while True:
        m = len(points)
        d = ref_distances(points, metric)
        np.fill_diagonal(d, np.inf)
        kappa = d.argmin(1)
        link = sp.csr_matrix((np.ones(m), (np.arange(m), kappa)), shape=(m, m)) + sp.eye(m)
        adj = (link @ link.T).toarray()
        np.fill_diagonal(adj, 0)
        weight = np.where(adj > 0, np.where(np.isfinite(d), d, 0.0) * adj, 0.0)
        if cap is not None:
            adj[weight > cap] = 0
        n_comp, comp = connected_components(adj, directed=False)
        if counts and (n_comp == 1 or n_comp >= counts[-1]):
            break
        labels = comp[labels]
        parts.append(labels)
        counts.append(n_comp)
        if len(counts) == 1 and early_exit:
            cap = weight.max()
        if n_comp == 1:
            break
        points = np.stack([x[labels == c].mean(0) for c in range(n_comp)])
    return np.column_stack(parts), counts


def ref_merge(x, labels, k, metric):
    """Merge the two nearest cluster means, one pair at a time, until k clusters remain."""
    x, labels = np.asarray(x, dtype=np.float64), labels.copy()
    while len(ids := np.unique(labels)) > k:
        d = ref_distances(np.stack([x[labels == c].mean(0) for c in ids]), metric)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        labels[labels == ids[j]] = ids[i]
    return labels


def canonical(labels):
    """Relabel by order of first appearance, so equal partitions give equal arrays."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


def assert_same_partitions(a, b):
    assert a.shape == b.shape
    for col in range(a.shape[1]):
        np.testing.assert_array_equal(canonical(a[:, col]), canonical(b[:, col]))


# ---------------------------------------------------------------- data

DIGITS = load_digits().data.astype(np.float32)  # 1797 x 64 raw pixels 0..16


def random_data():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(8, 12)) * 2.0
    return (centres[rng.integers(0, 8, 900)] + rng.normal(size=(900, 12))).astype(np.float32)


DATA = {"digits": DIGITS, "random": random_data()}


def blobs(n_per=60, dim=5, spread=0.2, seed=0):
    """Well separated blobs, apart both in direction (cosine) and in position (euclidean)."""
    rng = np.random.default_rng(seed)
    centres = 10.0 * np.eye(dim)[:4] + 1.0
    truth = np.repeat(np.arange(4), n_per)
    return (centres[truth] + spread * rng.normal(size=(len(truth), dim))).astype(np.float32), truth


@cache
def reference(name, metric, early_exit):
    return ref_finch(DATA[name], metric, early_exit)


@cache
def computed(name, metric, early_exit):
    return finch(DATA[name], metric=metric, ensure_early_exit=early_exit)


# ---------------------------------------------------------------- against the reference


@pytest.mark.parametrize("early_exit", [True, False])
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("name", ["digits", "random"])
def test_partitions_equal_reference(name, metric, early_exit):
    parts, counts = reference(name, metric, early_exit)
    res = computed(name, metric, early_exit)
    assert isinstance(res, FinchResult) and res.labels is None
    assert res.n_clusters == counts
    assert_same_partitions(res.partitions, parts)
    for col, k in enumerate(counts):
        assert len(np.unique(res.partitions[:, col])) == k


@pytest.mark.parametrize("metric, counts", [("cosine", [372, 84, 21, 8, 3]), ("euclidean", [397, 89, 21, 8, 3])])
def test_digits_cluster_counts(metric, counts):
    assert reference("digits", metric, True)[1] == counts
    assert computed("digits", metric, True).n_clusters == counts


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_exact_first_neighbours_break_ties_by_lowest_index(metric):
    d = ref_distances(DIGITS, metric)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(exact_first_neighbours(DIGITS.astype(np.float64), metric), d.argmin(1))
    line = np.array([[0.0], [1.0], [2.0], [3.0]]) + 1000.0  # inner points: two neighbours at 1
    np.testing.assert_array_equal(exact_first_neighbours(line, "euclidean"), [1, 0, 1, 2])


def test_small_chunks_and_folded_edges_change_nothing(monkeypatch):
    import msvdd.clustering.finch as module

    monkeypatch.setattr(module, "PAIRS_PER_CHUNK", 7)  # many chunks of shared-neighbour pairs
    monkeypatch.setattr(module, "EDGES_HELD", 50)  # folds the kept edges into components often
    parts, counts = reference("random", "cosine", True)
    res = finch(DATA["random"], metric="cosine")
    assert res.n_clusters == counts
    assert_same_partitions(res.partitions, parts)
    d = ref_distances(DATA["random"], "euclidean")
    np.fill_diagonal(d, np.inf)
    kappa = exact_first_neighbours(DATA["random"].astype(np.float64), "euclidean", block_elems=7 * 900 + 5)
    np.testing.assert_array_equal(kappa, d.argmin(1))  # blocks of 7 rows, the last one short


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("k", [10, 84])
def test_req_clusters_merges_nearest_means(metric, k):
    parts, counts = reference("digits", metric, True)
    res = finch(DIGITS, metric=metric, req_clusters=k)
    start = max(i for i, c in enumerate(counts) if c >= k)
    np.testing.assert_array_equal(canonical(res.labels), canonical(ref_merge(DIGITS, parts[:, start], k, metric)))
    np.testing.assert_array_equal(np.unique(res.labels), np.arange(k))


# ---------------------------------------------------------------- hand-made geometry


def test_pairs_of_pairs_on_a_line():
    x = np.array([[0.0], [1.0], [4.0], [5.0], [100.0], [101.0], [104.0], [105.0]])
    res = finch(x, metric="euclidean", ensure_early_exit=False)
    assert res.n_clusters == [4, 2]  # the next round (one cluster) is dropped, as in the reference
    np.testing.assert_array_equal(canonical(res.partitions[:, 0]), [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(canonical(res.partitions[:, 1]), [0, 0, 0, 0, 1, 1, 1, 1])
    # Early exit: the cap is 2 * 1 (mutual pairs at distance 1); means 4 apart weigh 2 * 4 and are cut.
    assert finch(x, metric="euclidean").n_clusters == [4]


@pytest.mark.parametrize("early_exit", [True, False])
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_blobs_give_blob_labels(metric, early_exit):
    x, truth = blobs()
    res = finch(x, metric=metric, ensure_early_exit=early_exit, req_clusters=4)
    np.testing.assert_array_equal(canonical(res.labels), canonical(truth))
    for labels in res.partitions.T:  # every level with >= 4 clusters nests inside the blobs
        if len(np.unique(labels)) >= 4:
            assert all(len(np.unique(truth[labels == c])) == 1 for c in np.unique(labels))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 30])
def test_req_clusters_gives_exactly_that_many(k):
    x, _ = blobs()
    labels = finch(x, req_clusters=k).labels
    np.testing.assert_array_equal(np.unique(labels), np.arange(k))


def test_req_clusters_above_finest_warns_and_returns_finest(caplog):
    with caplog.at_level(logging.WARNING, logger="msvdd.clustering.finch"):
        res = finch(DIGITS, req_clusters=1000)
    assert any(r.name == "msvdd.clustering.finch" and "1000" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(res.labels, res.partitions[:, 0])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_identical_points_form_one_cluster(metric):
    x = np.full((40, 6), 3.0)
    res = finch(x, metric=metric, req_clusters=1)
    assert res.n_clusters == [1]
    assert (res.partitions == 0).all() and (res.labels == 0).all()


def test_torch_input_matches_numpy():
    x, _ = blobs()
    a, b = finch(x), finch(torch.from_numpy(x).double().requires_grad_())
    np.testing.assert_array_equal(a.partitions, b.partitions)
    assert a.n_clusters == b.n_clusters


# ---------------------------------------------------------------- approximate path


class ExactGraph:
    """Stands in for pynndescent.NNDescent (whose numba kernels take ~40 s to compile per process)."""

    def __init__(self, data, n_neighbors, metric, random_state):
        assert n_neighbors == 2 and data.dtype == np.float32
        d = ref_distances(data, metric)
        np.fill_diagonal(d, -1.0)  # the point itself first, then its first neighbour
        self.neighbor_graph = (np.argsort(d, axis=1, kind="stable")[:, :2], np.sort(d, axis=1)[:, :2])


def test_ann_path_wiring(monkeypatch):
    import pynndescent

    monkeypatch.setattr(pynndescent, "NNDescent", ExactGraph)
    x = DATA["random"]
    parts, counts = reference("random", "euclidean", False)  # no early exit on the approximate path
    res = finch(x, metric="euclidean", ann_above=1, ensure_early_exit=True)
    assert res.n_clusters == counts
    assert_same_partitions(res.partitions, parts)

    graph = np.array([[1, 0], [0, 1], [2, 0], [-1, -1], [4, 3]])  # self in column 1, nothing found
    monkeypatch.setattr(pynndescent, "NNDescent", lambda *a, **k: type("G", (), {"neighbor_graph": (graph, None)}))
    line = np.array([[0.0], [0.0], [1.0], [5.0], [5.5]])
    np.testing.assert_array_equal(ann_first_neighbours(line, "euclidean", seed=0), [1, 0, 0, 4, 3])


@pytest.mark.slow  # pynndescent compiles its numba kernels on first use in each process (~40 s)
def test_ann_path_agrees_with_exact_on_blobs():
    x, truth = blobs(n_per=150, spread=0.5, seed=1)
    exact = finch(x, metric="euclidean", req_clusters=4)
    approx = finch(x, metric="euclidean", req_clusters=4, ann_above=100)
    assert adjusted_rand_score(exact.labels, approx.labels) >= 0.99
    assert adjusted_rand_score(truth, approx.labels) >= 0.99
    twice = np.vstack([x, x])  # duplicates: the point itself need not come first among its neighbours
    kappa = ann_first_neighbours(twice.astype(np.float64), "euclidean", seed=0)
    assert (kappa != np.arange(len(twice))).all()
    np.testing.assert_allclose(np.linalg.norm(twice - twice[kappa], axis=1), 0.0)


# ---------------------------------------------------------------- bad input


def with_rows(rows, value):
    x = np.random.default_rng(0).normal(size=(10, 3))
    x[rows] = value
    return x


@pytest.mark.parametrize(
    "x, kwargs, match",
    [
        (np.ones(5), {}, r"2-D array"),
        (np.ones((3, 2, 2)), {}, r"2-D array"),
        (np.ones((4, 0)), {}, r"2-D array"),
        (np.ones((1, 3)), {}, r"at least 2 points, got 1"),
        (with_rows([2, 5], np.nan), {}, r"NaN or inf values in 2 of 10 rows"),
        (with_rows([7], np.inf), {"metric": "euclidean"}, r"NaN or inf values in 1 of 10 rows"),
        (with_rows([0, 3, 4], 0.0), {}, r"3 zero vectors"),
        (with_rows([1], 0.0), {"metric": "cosine"}, r"1 zero vectors"),
        (np.ones((5, 2)), {"req_clusters": 0}, r"req_clusters .* from 1 to the number of points \(5\)"),
        (np.ones((5, 2)), {"req_clusters": 6}, r"req_clusters .* got 6"),
        (np.ones((5, 2)), {"req_clusters": 2.5}, r"req_clusters"),
        (np.ones((5, 2)), {"metric": "manhattan"}, r"metric='manhattan'.*allowed: 'cosine', 'euclidean'"),
    ],
)
def test_bad_input_raises(x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        finch(x, **kwargs)


def test_zero_vectors_are_fine_for_euclidean():
    assert finch(with_rows([0, 3], 0.0), metric="euclidean").n_clusters[0] >= 1


# ---------------------------------------------------------------- scikit-learn wrapper


def test_wrapper_fitted_attributes():
    x, truth = blobs()
    model = FINCH(metric="euclidean", seed=3)
    assert model.get_params()["seed"] == 3 and not hasattr(model, "labels_")
    assert model.fit(x) is model
    res = finch(x, metric="euclidean")
    np.testing.assert_array_equal(model.partitions_, res.partitions)
    assert model.n_clusters_ == res.n_clusters
    np.testing.assert_array_equal(model.labels_, res.partitions[:, -1])
    asked = FINCH(req_clusters=3).fit(x)
    np.testing.assert_array_equal(np.unique(asked.labels_), np.arange(3))
    np.testing.assert_array_equal(FINCH().fit_predict(x), FINCH().fit(x).labels_)
