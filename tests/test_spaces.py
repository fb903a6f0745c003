"""Clustering spaces on the embedded digits: UMAP finds the classes better than the raw encoder output."""

import numpy as np
import pytest
import torch
from conftest import NUMBA_CACHE
from sklearn.metrics import adjusted_rand_score

from msvdd.clustering import FinchClustering, KMeansClustering
from msvdd.clustering.spaces import EncoderSpace, PCASpace, UMAPSpace
from msvdd.errors import ConfigError
from msvdd.networks import LeNetAutoEncoder
from msvdd.svdd.embedding import embed as _embed
from msvdd.svdd.pretrain import pretrain_autoencoder
from msvdd.svdd.training import TrainSettings


def _embedding(classes, with_inputs=False):
    """Pretrained (seed 0, 30 epochs, one thread as in a run) 32-d embeddings of digits and their classes."""
    from msvdd.data import Digits

    data = Digits(classes).load()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        net = LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 32)
        settings = TrainSettings("pretrain", epochs=30, lr=1e-3, milestones=[20], batch_size=32, device="cpu")
        pretrain_autoencoder(net, data.x_train, settings, torch.Generator().manual_seed(0), False)
        z = _embed(net.encoder, data.x_train, "cpu").numpy()
        return (z, data.y_train.numpy()) + ((data.x_train.flatten(1).numpy(),) if with_inputs else ())
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def embedded():
    return _embedding([3, 5, 8])


def test_umap_space_finds_the_classes_better_than_the_encoder(embedded):
    # Three groups where FINCH on the encoder output confuses the classes; one group's ARI moves
    # with the last bits of the pretraining, their mean does not.
    ari = {"encoder": [], "umap": []}
    for z, y in (embedded, _embedding([2, 3, 5, 8]), _embedding([1, 2, 3])):
        for space in (EncoderSpace(), UMAPSpace(seed=0, cache_dir=NUMBA_CACHE)):
            finch = FinchClustering(metric="cosine", space=space)  # as written before euclidean was the default
            ari[space.name].append(adjusted_rand_score(y, finch.fit_predict(z, y)))
            assert finch.describe()["space"]["name"] == space.name
    assert np.mean(ari["umap"]) > np.mean(ari["encoder"]) + 0.1, ari
    info = finch.describe()["space"]
    assert info["dim"] == 10 and info["n_neighbors"] == 30 and info["seconds"] > 0


def test_umap_of_the_input_finds_the_classes_the_encoder_space_confuses():
    # [3, 5, 8]: FINCH on the UMAP of the encoder output mixes the classes (ARI 0.33 in a run); the
    # UMAP of the pixels (after a PCA) separates them. Only the labels change: z stays the encoder's.
    z, y, x = _embedding([3, 5, 8], with_inputs=True)
    ari = {}
    for source in ("encoder", "input"):
        finch = FinchClustering(metric="euclidean", space=UMAPSpace(seed=0, cache_dir=NUMBA_CACHE, source=source,
                                                                     input_pca=20))
        labels = finch.fit_predict(z, y, inputs=x)
        ari[source] = adjusted_rand_score(y, labels)
        info = finch.describe()["space"]
        assert info["source"] == source and info["dim"] == 10 and len(labels) == len(z)
    assert info["input_pca"] == 20
    assert ari["input"] > 0.9 and ari["input"] > ari["encoder"] + 0.2, ari
    again = FinchClustering(metric="euclidean", space=UMAPSpace(seed=0, cache_dir=NUMBA_CACHE, source="input",
                                                                input_pca=20))
    assert np.array_equal(again.fit_predict(z, y, inputs=x), labels)  # same seed, same labels


def test_an_input_space_needs_the_inputs(embedded):
    z, y = embedded
    finch = FinchClustering(space=PCASpace(n_components=5, source="input"))
    with pytest.raises(ValueError, match="source=input needs the inputs"):
        finch.fit_predict(z, y)
    with pytest.raises(ValueError, match="source=input needs the inputs"):
        finch.fit_predict(z, y, inputs=z[:10])
    # fewer input columns than input_pca: the columns go to the space as they are
    space = PCASpace(n_components=5, whiten=False, source="input", input_pca=50)
    assert space.fit_transform(z).shape == (len(z), 5) and space.describe()["dim"] == 5
    assert space.label == "pca of the input" and PCASpace().label == "pca"  # what the space plot is titled


def test_umap_same_seed_same_points(embedded):
    z, _ = embedded
    a = UMAPSpace(n_components=3, seed=1, cache_dir=NUMBA_CACHE).fit_transform(z)
    b = UMAPSpace(n_components=3, seed=1, cache_dir=NUMBA_CACHE).fit_transform(z)
    assert a.shape == (len(z), 3) and np.array_equal(a, b)


def test_pca_space_is_whitened_and_used_by_kmeans(embedded):
    z, y = embedded
    space = PCASpace(n_components=5)
    points = space.fit_transform(z)
    assert points.shape == (len(z), 5)
    np.testing.assert_allclose(points.std(0, ddof=1), 1, rtol=1e-3)
    labels = KMeansClustering(space=PCASpace(n_components=5)).fit_predict(z, y)
    assert labels.max() == 2 and len(labels) == len(z)


def test_encoder_space_is_the_identity(embedded):
    z, _ = embedded
    assert np.array_equal(EncoderSpace().fit_transform(z), z.astype(np.float32))


@pytest.mark.parametrize("make,field", [(lambda: UMAPSpace(n_components=0), "model.clustering.space.n_components"),
                                        (lambda: UMAPSpace(metric="manhattan"), "model.clustering.space.metric"),
                                        (lambda: UMAPSpace(min_dist=-1), "model.clustering.space.min_dist"),
                                        (lambda: UMAPSpace(n_neighbors=1), "model.clustering.space.n_neighbors"),
                                        (lambda: PCASpace(n_components=2.5), "model.clustering.space.n_components"),
                                        (lambda: UMAPSpace(source="pixels"), "model.clustering.space.source"),
                                        (lambda: PCASpace(input_pca=0), "model.clustering.space.input_pca")])
def test_space_config_errors(make, field):
    with pytest.raises(ConfigError, match=field):
        make()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_knn_matches_brute_force(embedded, metric):
    from sklearn.metrics import pairwise_distances

    from msvdd.clustering.spaces import exact_knn

    z, _ = embedded
    indices, dists = exact_knn(z, 7, metric, block=100)
    full = pairwise_distances(z.astype(np.float64), metric=metric)
    np.fill_diagonal(full, -1)
    assert (indices[:, 0] == np.arange(len(z))).all() and np.allclose(dists[:, 0], 0)
    expected = np.sort(full, axis=1)[:, 1:7]
    np.testing.assert_allclose(dists[:, 1:], expected, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np.take_along_axis(full, indices[:, 1:], 1), expected, rtol=1e-3, atol=1e-4)


def test_umap_of_two_points_is_one_line_naming_the_way_out():
    with pytest.raises(ConfigError, match=r"only 2 training items; allowed: .*method=svdd_one"):
        UMAPSpace(cache_dir=None).fit_transform(np.random.default_rng(0).random((2, 5)).astype(np.float32))
