"""Who belongs to which sphere: pseudo-labels for the training embeddings.

Each option of the ``clustering`` config group is one class here with ``fit_predict(z, y)`` and a
``describe()`` record for results.json. FINCH and k-means look for the clusters in a ``space``
(msvdd.clustering.spaces: the encoder output, UMAP or whitened PCA of it); the labels they return
index the same points as ``z``. ``inputs`` (the model's inputs for the same points) reach only a
space whose ``source`` is ``input``. ``y`` (the true classes of the normal training data) is
used by ``oracle`` for its labels and by ``group_size`` counts for the *number* of classes only,
which the protocol knows; it is never used otherwise.
"""

from __future__ import annotations

import logging

import numpy as np

from msvdd import threads
from msvdd.clustering.assignment import Assignment
from msvdd.errors import ConfigError

log = logging.getLogger(__name__)


class _Clustering:
    name = "?"
    field = "model.clustering"  # where the options sit in the config, for error messages

    def __init__(self, min_cluster_size: float = 0.05, space=None, assign=None):
        if not isinstance(min_cluster_size, (int, float)) or min_cluster_size < 0:
            raise ConfigError(f"{self.field}.min_cluster_size", min_cluster_size,
                              "an int >= 0 (points) or a fraction in (0, 1) of the training set")
        self.min_cluster_size, self.space = min_cluster_size, space
        self.assign = assign or Assignment()  # which sphere each point trains towards while Deep SVDD trains
        self.info: dict = {}

    def fit_predict(self, z: np.ndarray, y: np.ndarray | None = None, inputs: np.ndarray | None = None) -> np.ndarray:
        self.info = {}
        if self.name != "none" and self._requested(y) == 1:
            return self._one_sphere(len(z))
        points = np.asarray(z, dtype=np.float32)
        with threads.kept():  # a space's libraries (umap, numba) reset the run's thread count: held after them
            if self.space is not None:
                if getattr(self.space, "source", "encoder") == "input":
                    if inputs is None or len(inputs) != len(points):
                        raise ValueError("model.clustering.space.source=input needs the inputs of the embedded points")
                    points = self.space.fit_transform(inputs)
                else:
                    points = self.space.fit_transform(points)
            raw = self._labels(points, y)
        labels, merged = merge_small_clusters(raw, points, self._min_size(len(z)))
        self.info = {"method": self.name, "n_raw_clusters": int(raw.max() + 1),
                     "n_merged": merged, "min_cluster_size": self._min_size(len(z)), **self.info}
        if self.space is not None:
            self.info["space"] = self.space.describe()
        if labels.max() == 0 and self.name != "none":
            log.warning("%s clustering gave one cluster: running as one sphere (classic Deep SVDD)", self.name)
            self.info["single_cluster_fallback"] = True
        return labels

    def describe(self) -> dict:
        return dict(self.info)

    def _requested(self, y) -> int | None:
        """How many clusters the options ask for on this data (None: the clustering decides)."""
        return None

    def _one_sphere(self, n: int) -> np.ndarray:
        """Asked for one cluster (one normal class, k = group size): one sphere, without computing the space
        or the partition, which could only say the same (and UMAP's first use costs 20-40 s)."""
        log.info("%s clustering skipped: one normal class, one sphere (classic Deep SVDD)", self.name)
        self.info = {"method": self.name, "n_raw_clusters": 1, "n_merged": 0, "min_cluster_size": self._min_size(n),
                     "skipped": "one normal class: one sphere, no clustering"}
        return np.zeros(n, dtype=np.int64)

    def _min_size(self, n: int) -> int:
        m = self.min_cluster_size
        return int(np.ceil(m * n)) if 0 < m < 1 else int(m)

    def _labels(self, z, y):  # pragma: no cover - abstract
        raise NotImplementedError


def _group_size(value, y, field: str) -> int:
    """``group_size`` means the number of normal classes, which the protocol tells us."""
    if value == "group_size":
        if y is None:
            raise ConfigError(field, value, "an int when no class labels are given to fit")
        return int(len(np.unique(y)))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(field, value, "group_size or a positive int")
    return value


class NoClustering(_Clustering):
    """One sphere for all normal data: classic Deep SVDD."""

    name = "none"

    def __init__(self):
        super().__init__(0)

    def _labels(self, z, y):
        return np.zeros(len(z), dtype=np.int64)


def _default_space(space, seed: int):
    """The command line's space (conf/model/clustering/space/umap_input.yaml) when none is given."""
    from msvdd.clustering.spaces import UMAPSpace

    return UMAPSpace(seed=seed, source="input", input_pca=50) if space is None else space


class OracleClustering(_Clustering):
    """One sphere per true normal class: what the seed's code did (it needs the labels)."""

    name = "oracle"

    def __init__(self, min_cluster_size: float = 0, assign=None):
        super().__init__(min_cluster_size, None, assign)

    def _requested(self, y):
        return None if y is None else int(len(np.unique(np.asarray(y))))

    def _labels(self, z, y):
        if y is None:
            raise ValueError("oracle clustering needs the true classes: call fit(X, y)")
        return np.unique(np.asarray(y), return_inverse=True)[1].astype(np.int64)


class KMeansClustering(_Clustering):
    """k-means on the embeddings, k = the group size by default (a baseline for FINCH)."""

    name = "kmeans"

    def __init__(self, n_clusters="group_size", min_cluster_size: float = 0.05, seed: int = 0, space=None,
                 assign=None):
        super().__init__(min_cluster_size, _default_space(space, seed), assign)
        self.n_clusters, self.seed = n_clusters, seed

    def _requested(self, y):
        return _group_size(self.n_clusters, y, "model.clustering.n_clusters")

    def _labels(self, z, y):
        from sklearn.cluster import KMeans

        k = min(_group_size(self.n_clusters, y, "model.clustering.n_clusters"), len(z))
        return KMeans(n_clusters=k, n_init=10, random_state=self.seed).fit_predict(z).astype(np.int64)


class FinchClustering(_Clustering):
    """FINCH pseudo-labels (the unsupervised multi-radius method).

    ``req_clusters``: ``group_size`` (the number of normal classes: uses the protocol's knowledge),
    an int, or null for a label-free choice: the finest FINCH partition in which every cluster
    holds at least ``min_cluster_size`` points (else the coarsest one with two or more clusters).
    The defaults are the command line's (conf/model/clustering/finch.yaml): euclidean, in a seeded
    UMAP of the input (``space=None``); ``space=EncoderSpace(), metric="cosine"`` is FINCH's own.
    """

    name = "finch"
    PARTITION_RULE = "finest partition whose clusters all hold >= min_cluster_size points"

    def __init__(self, metric: str = "euclidean", req_clusters="group_size", min_cluster_size: float = 0.05,
                 seed: int = 0, space=None, assign=None):
        super().__init__(min_cluster_size, _default_space(space, seed), assign)
        if metric not in ("cosine", "euclidean"):
            raise ConfigError(f"{self.field}.metric", metric, "cosine, euclidean")
        if req_clusters is not None:
            _group_size(req_clusters, [0], f"{self.field}.req_clusters")  # validate the form early
        self.metric, self.req_clusters, self.seed = metric, req_clusters, seed

    def _requested(self, y):
        return None if self.req_clusters is None else _group_size(self.req_clusters, y, f"{self.field}.req_clusters")

    def _labels(self, z, y):
        from msvdd.clustering.finch import finch

        req = None if self.req_clusters is None else _group_size(self.req_clusters, y, f"{self.field}.req_clusters")
        result = finch(z, metric=self.metric, req_clusters=min(req, len(z)) if req else None, seed=self.seed)
        self.info = {"metric": self.metric, "req_clusters": req, "partition_counts": list(result.n_clusters)}
        if result.labels is not None:
            self.info["partition_rule"] = f"req_clusters={req}"
            return np.asarray(result.labels, dtype=np.int64)
        min_size = self._min_size(len(z))
        parts = np.asarray(result.partitions)
        for p in range(parts.shape[1]):
            if np.bincount(parts[:, p]).min() >= min_size:
                self.info["partition_rule"] = self.PARTITION_RULE
                self.info["partition_index"] = p
                return parts[:, p].astype(np.int64)
        multi = [p for p in range(parts.shape[1]) if parts[:, p].max() > 0]
        p = multi[-1] if multi else parts.shape[1] - 1
        self.info["partition_rule"] = "coarsest partition with >= 2 clusters (none had all clusters big enough)"
        self.info["partition_index"] = p
        return parts[:, p].astype(np.int64)


def merge_small_clusters(labels: np.ndarray, z: np.ndarray, min_size: int) -> tuple[np.ndarray, int]:
    """Merge clusters under ``min_size`` points, smallest first, into the one with the nearest mean.

    Tiny clusters give unstable radii (the seed's report says so). Returns contiguous labels
    0..K-1 and the number of clusters merged away.
    """
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    z = np.asarray(z, dtype=np.float64)
    merged = 0
    while labels.max() > 0:
        counts = np.bincount(labels)
        small = int(counts.argmin())
        if counts[small] >= min_size:
            break
        means = np.stack([z[labels == k].mean(0) for k in range(len(counts))])
        d = ((means - means[small]) ** 2).sum(1)
        d[small] = np.inf
        labels[labels == small] = int(d.argmin())
        labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
        merged += 1
    return labels, merged
