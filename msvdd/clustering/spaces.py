"""Clustering spaces: where the pseudo-labels are found (the ``model/clustering/space`` config group).

The raw encoder output of a briefly pretrained autoencoder separates the classes poorly for
FINCH and k-means; a 10-d UMAP projection of the same embeddings separates them far better (the
classes lie on curved manifolds that a k-NN graph follows and a straight distance does not).
Only the *labels* come from the space: the sphere centers are still the means of the encoder
outputs, since Deep SVDD trains in that space.

Each option is one class with ``fit_transform(z) -> points`` and ``describe()`` (its settings and
seconds, for results.json); ``embedding_`` keeps the points for the plots.

``source``: what the space is computed from. ``encoder`` (the default) is the pretrained
embedding; ``input`` is the model's input itself (pixels, or a table's standardised columns),
first reduced to ``input_pca`` principal components as is usual before UMAP. A 20-epoch LeNet
autoencoder separates similar digits (3/5/8, 4/9) less well than the pixels do: on MNIST dev
groups UMAP of the input found the classes where UMAP of the encoder output did not.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings

import numpy as np

from msvdd.errors import ConfigError

log = logging.getLogger(__name__)
UMAP_METRICS = ("euclidean", "cosine")
SOURCES = ("encoder", "input")
EXACT_KNN_MAX = 200_000  # up to this many points the k-NN graph is computed exactly (see exact_knn)


def _positive_int(field: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(field, value, f"an int >= {minimum}")
    return value


class EncoderSpace:
    """The encoder output itself (what FINCH used before the spaces existed)."""

    name = "encoder"

    def __init__(self, source: str = "encoder", input_pca: int | None = 50):
        if source not in SOURCES:
            raise ConfigError("model.clustering.space.source", source, ", ".join(SOURCES))
        if input_pca is not None:
            _positive_int("model.clustering.space.input_pca", input_pca)
        self.source, self.input_pca = source, input_pca
        self.info: dict = {}

    def fit_transform(self, z: np.ndarray) -> np.ndarray:
        """Points of the space for ``z``: the encoder outputs, or the flattened inputs when source=input."""
        t = time.perf_counter()
        self.info = {}
        z = np.asarray(z, dtype=np.float32).reshape(len(z), -1)
        if self.source == "input" and self.input_pca is not None and self.input_pca < min(z.shape):
            from sklearn.decomposition import PCA

            z = PCA(n_components=self.input_pca, random_state=0).fit_transform(z).astype(np.float32)
        self.embedding_ = self._fit(z)
        self.info = {"name": self.name, "source": self.source, **self.settings(), "dim": int(self.embedding_.shape[1]),
                     "seconds": round(time.perf_counter() - t, 3), **self.info}
        if self.source == "input":
            self.info["input_pca"] = self.input_pca
        return self.embedding_

    @property
    def label(self) -> str:
        """How plots name the space: 'umap', or 'umap of the input'."""
        return self.name if self.source == "encoder" else f"{self.name} of the input"

    def settings(self) -> dict:
        return {}

    def describe(self) -> dict:
        return dict(self.info)

    def _fit(self, z: np.ndarray) -> np.ndarray:
        return z


class PCASpace(EncoderSpace):
    """Whitened PCA: decorrelated components of unit variance, so no direction dominates the distances."""

    name = "pca"

    def __init__(self, n_components: int = 10, whiten: bool = True, seed: int = 0, source: str = "encoder",
                 input_pca: int | None = 50):
        super().__init__(source, input_pca)
        self.n_components = _positive_int("model.clustering.space.n_components", n_components)
        self.whiten, self.seed = bool(whiten), seed

    def settings(self) -> dict:
        return {"n_components": self.n_components, "whiten": self.whiten, "seed": self.seed}

    def _fit(self, z):
        from sklearn.decomposition import PCA

        k = min(self.n_components, z.shape[1], len(z))
        return PCA(n_components=k, whiten=self.whiten, random_state=self.seed).fit_transform(z).astype(np.float32)


MIN_UMAP_POINTS = 3
USER_CACHE = "user"  # UMAPSpace(cache_dir=...): the per-user numba cache folder (user_numba_cache)


class UMAPSpace(EncoderSpace):
    """UMAP (umap-learn) of the embeddings, seeded: same seed, same points (single-threaded then).

    ``cache_dir``: where numba keeps the compiled UMAP and pynndescent functions between
    processes (null: numba's default, compiling them again in every process: 20-40 s). The default,
    ``"user"``, is one folder per user (:func:`user_numba_cache`), shared by every run whatever its
    output folder, as conf/model/clustering/space/umap.yaml spells it.
    From 4,096 points (where umap itself stops computing all distances) to ``EXACT_KNN_MAX`` the
    k-NN graph is handed to UMAP from :func:`exact_knn`, not from pynndescent's NN-descent, whose
    numba code cannot be cached (it uses dynamic globals) and recompiled in every run.
    """

    name = "umap"

    def __init__(self, n_components: int = 10, n_neighbors: int = 30, min_dist: float = 0.0,
                 metric: str = "euclidean", n_epochs: int | None = None, seed: int = 0,
                 cache_dir: str | None = USER_CACHE, source: str = "encoder", input_pca: int | None = 50):
        super().__init__(source, input_pca)
        self.n_components = _positive_int("model.clustering.space.n_components", n_components)
        self.n_neighbors = _positive_int("model.clustering.space.n_neighbors", n_neighbors, 2)
        if isinstance(min_dist, bool) or not isinstance(min_dist, (int, float)) or min_dist < 0:
            raise ConfigError("model.clustering.space.min_dist", min_dist, "a number >= 0")
        if metric not in UMAP_METRICS:
            raise ConfigError("model.clustering.space.metric", metric, ", ".join(UMAP_METRICS))
        if n_epochs is not None:
            _positive_int("model.clustering.space.n_epochs", n_epochs)
        self.min_dist, self.metric, self.n_epochs = float(min_dist), metric, n_epochs
        self.seed, self.cache_dir = seed, user_numba_cache() if cache_dir == USER_CACHE else cache_dir

    def settings(self) -> dict:
        return {"n_components": self.n_components, "n_neighbors": self.n_neighbors, "min_dist": self.min_dist,
                "metric": self.metric, "n_epochs": self.n_epochs, "seed": self.seed}

    def _fit(self, z):
        if len(z) < MIN_UMAP_POINTS:  # umap's neighbour graph needs 2 neighbours besides the point itself
            raise ConfigError("model.clustering.space", self.label,
                              f"for fewer than {MIN_UMAP_POINTS} training items, a space other than umap "
                              "(method=svdd_finch_encoder) or method=svdd_one", f"only {len(z)} training items")
        t = time.perf_counter()
        cached = enable_numba_cache(self.cache_dir)
        import umap

        from msvdd import threads

        threads.pin(threads.torch.get_num_threads())  # numba's pool too (imported just now) runs the run's threads
        self.info = {"import_seconds": round(time.perf_counter() - t, 3), "numba_cache": cached}
        n_neighbors = min(self.n_neighbors, len(z) - 1)
        # umap needs n_components < n points - 1 for its spectral start; tiny inputs keep their dimension
        k = min(self.n_components, max(len(z) - 2, 1))
        with warnings.catch_warnings():  # "n_jobs overridden to 1 by setting random_state": intended
            warnings.simplefilter("ignore", UserWarning)
            knn = {}
            if 4096 <= len(z) <= EXACT_KNN_MAX:
                t = time.perf_counter()
                knn["precomputed_knn"] = exact_knn(z, n_neighbors, self.metric)
                self.info["knn_seconds"] = round(time.perf_counter() - t, 3)
            reducer = umap.UMAP(n_components=k, n_neighbors=n_neighbors, min_dist=self.min_dist,
                                metric=self.metric, n_epochs=self.n_epochs, random_state=self.seed, **knn)
            return np.asarray(reducer.fit_transform(z), dtype=np.float32)


def exact_knn(z: np.ndarray, k: int, metric: str = "euclidean", block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) of each point's k nearest neighbours, itself first, in blocks of rows.

    The form umap's ``precomputed_knn`` takes. Blocks of ``block`` x n distances keep memory at
    O(block * n); 24,000 points in 32 dimensions take about a second.
    """
    import torch

    x = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if metric == "cosine":
        x = torch.nn.functional.normalize(x, dim=1)
    sq = (x * x).sum(1)
    n = len(x)
    indices, dists = np.empty((n, k), dtype=np.int64), np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        rows = torch.arange(start, min(start + block, n))
        d2 = (sq[rows, None] + sq[None, :] - 2 * x[rows] @ x.T).clamp_(min=0)
        d2[torch.arange(len(rows)), rows] = -1.0  # each point is its own first neighbour, as in umap
        d2, idx = torch.topk(d2, k, dim=1, largest=False)
        d2.clamp_(min=0)
        indices[rows.numpy()] = idx.numpy()
        dists[rows.numpy()] = (d2 / 2 if metric == "cosine" else d2.sqrt()).numpy()  # cosine: 1 - cos = |a-b|^2/2
    return indices, dists


def user_numba_cache() -> str:
    """The per-user numba cache: ``$MSVDD_NUMBA_CACHE``, else ``$XDG_CACHE_HOME/msvdd/numba``, else
    ``~/.cache/msvdd/numba``; the very string umap.yaml's ``cache_dir`` resolves to (tests/test_api_defaults.py).

    Not under the output folder: numba keys its files by source and CPU, not by run, so a fresh
    ``MSVDD_OUTPUTS`` (every sweep in its own folder, a table on a new machine) would compile the same
    functions again, 20-40 s per process on a 2-core machine. An empty ``MSVDD_NUMBA_CACHE`` turns it off.
    """
    return os.environ.get("MSVDD_NUMBA_CACHE", f"{os.environ.get('XDG_CACHE_HOME', '~/.cache')}/msvdd/numba")


def enable_numba_cache(folder: str | None) -> str | None:
    """Cache the numba functions of umap and pynndescent on disk under ``folder``.

    Most of them are compiled without ``cache=True``, so every process compiled them again: the
    first UMAP of a run cost 10-20 s more than the second. ``enable_caching`` on each dispatcher
    (numba's own on-disk cache, keyed by source and CPU) makes later processes load them instead.
    Safe for parallel jobs: numba writes cache files atomically. Returns the folder used, or None.
    """
    if not folder:
        return None
    folder = os.path.abspath(os.path.expanduser(folder))  # "~/.cache/...": the config's spelling
    os.makedirs(folder, exist_ok=True)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(folder))  # for functions compiled at import
    import numba
    from numba.core.registry import CPUDispatcher

    numba.config.CACHE_DIR = str(folder)
    import pynndescent  # noqa: F401  (load the modules whose functions are cached below)
    import umap  # noqa: F401

    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("umap", "pynndescent")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher) and type(value._cache).__name__ == "NullCache":
                try:
                    value.enable_caching()
                except Exception as err:  # a function numba cannot cache (dynamic globals): compile it
                    log.debug("numba cache: %s stays uncached (%s)", value, err)
    return str(folder)
