"""Networks, objectives, scores and the estimator, on hand-made tensors and the real 8x8 digits."""

import numpy as np
import pytest
import torch

from msvdd.clustering import (
    FinchClustering,
    KMeansClustering,
    NoClustering,
    OracleClustering,
    merge_small_clusters,
)
from msvdd.errors import ConfigError, TrainingDivergedError
from msvdd.networks import LeNetAutoEncoder
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.objectives import OneClass, SoftBoundary, quantile_radii
from msvdd.svdd.spheres import init_centers, score, sq_distances
from msvdd.svdd.training import TrainSettings


@pytest.mark.parametrize("shape,channels,kernel,rep", [((1, 28, 28), (8, 4), 5, 32),
                                                       ((3, 32, 32), (32, 64, 128), 5, 128),
                                                       ((1, 8, 8), (8, 4), 3, 16)])
def test_network_shapes_and_no_bias(shape, channels, kernel, rep):
    net = LeNetAutoEncoder(shape, channels, kernel, rep)
    x = torch.rand(3, *shape)
    assert net.encoder(x).shape == (3, rep)
    assert net(x).shape == (3, *shape)
    assert all(getattr(m, "bias", None) is None for m in net.modules())
    assert not any(isinstance(m, (torch.nn.Sigmoid, torch.nn.Tanh)) for m in net.encoder.modules())


@pytest.mark.parametrize("kwargs,field", [(dict(channels=(8, 4, 2, 2)), "network.channels"),
                                          (dict(kernel_size=4), "network.kernel_size"),
                                          (dict(rep_dim=0), "network.rep_dim"),
                                          (dict(activation="relu6"), "network.activation")])
def test_network_config_errors(kwargs, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        LeNetAutoEncoder((1, 8, 8), **{**dict(channels=(8, 4), kernel_size=3, rep_dim=16), **kwargs})


def test_centers_eps_rule():
    z = torch.tensor([[0.05, -0.05, 1.0], [0.05, -0.05, 3.0], [0.0, 0.0, -2.0]])
    c = init_centers(z, torch.tensor([0, 0, 1]), 2)
    assert torch.allclose(c, torch.tensor([[0.1, -0.1, 2.0], [0.1, 0.1, -2.0]]))


def test_soft_boundary_loss_by_hand_and_missing_cluster():
    d = torch.tensor([1.0, 4.0, 0.25, 9.0])
    k = torch.tensor([0, 0, 1, 1])
    r = torch.tensor([1.0, 2.0, 5.0])  # cluster 2 has no point in this batch: no term, no NaN
    loss = SoftBoundary(nu=0.5).loss(d, k, r)
    # cluster 0: 1 + 2 * mean(0, 3) = 4; cluster 1: 4 + 2 * mean(0, 5) = 9
    assert loss.item() == pytest.approx((4 + 9) / 2)
    one = SoftBoundary(nu=0.1).loss(d, torch.zeros(4, dtype=torch.long), torch.tensor([1.0]))
    assert one.item() == pytest.approx(1 + 10 * np.mean([0, 3, 0, 8]))  # Ruff et al.'s formula
    assert OneClass().loss(d, k, r).item() == pytest.approx(d.mean().item())


def test_radius_update_quantile_per_cluster_keeps_absent():
    dist = torch.arange(1.0, 11.0)
    k = torch.tensor([0] * 5 + [1] * 5)
    r = quantile_radii(dist, k, torch.tensor([0.0, 0.0, 7.0]), nu=0.25)
    assert r.tolist() == pytest.approx([np.quantile([1, 2, 3, 4, 5], 0.75), np.quantile([6, 7, 8, 9, 10], 0.75), 7.0])


def test_score_rules_differ_as_documented():
    # nearer to center 0 (d=1, R=0.5) but inside the big sphere 1 (d=4, R=3)
    d = torch.tensor([[1.0, 4.0]])
    r = torch.tensor([0.5, 3.0])
    assert score(d, r, "min_margin").item() == pytest.approx(-5.0)  # inside sphere 1: normal
    assert score(d, r, "nearest").item() == pytest.approx(0.75)  # seed's rule: outside its nearest sphere
    with pytest.raises(ConfigError, match="score"):
        score(d, r, "max")
    assert torch.allclose(sq_distances(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0], [1.0, 0.0]])),
                          torch.tensor([[5.0, 4.0]]))


def test_merge_small_clusters_into_nearest():
    z = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2], [4.0]])
    labels, merged = merge_small_clusters(np.array([0, 0, 0, 1, 1, 1, 2]), z, min_size=2)
    assert merged == 1 and labels.tolist() == [0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("make,field", [(lambda: OneClass(nu=0), "objective.nu"),
                                        (lambda: SoftBoundary(nu=1.5), "objective.nu"),
                                        (lambda: TrainSettings(epochs=0), "train.epochs"),
                                        (lambda: TrainSettings(name="pretrain", lr=-1), "pretrain.lr"),
                                        (lambda: TrainSettings(batch_size=0), "train.batch_size"),
                                        (lambda: TrainSettings(optimizer="sgd"), "train.optimizer"),
                                        (lambda: FinchClustering(metric="manhattan"), "model.clustering.metric"),
                                        (lambda: FinchClustering(req_clusters=0), "model.clustering.req_clusters")])
def test_component_config_errors(make, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        make()


QUICK = dict(lr=1e-3, epochs=12, milestones=[8], batch_size=64)


def _model(clustering=None, objective=None, **kw):
    return DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), objective or OneClass(), clustering or NoClustering(),
                    pretrain=TrainSettings("pretrain", **QUICK), train=TrainSettings(**QUICK), **kw)


def test_fit_sets_attributes_and_save_load_scores_bit_identically(digits, tmp_path):
    model = _model(OracleClustering(), SoftBoundary(warm_up_epochs=3)).fit(digits.x_train, digits.y_train)
    assert model.centers_.shape == (3, 16) and model.radii_.shape == (3,) and model.n_clusters_ == 3
    assert (model.radii_ > 0).all() and len(model.history_["loss"]) == 12
    assert not hasattr(model, "train_embeddings_")  # only the knn score rule keeps the training embeddings
    assert sorted(model.cluster_sizes_) == sorted(np.bincount(digits.y_train.numpy())[[0, 1, 3]].tolist())
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = DeepSVDD.load(path)
    assert np.array_equal(model.score_samples(digits.x_test), loaded.score_samples(digits.x_test))
    assert np.array_equal(model.predict(digits.x_test), loaded.predict(digits.x_test))
    # predict: 1 = outside every sphere; about nu of the training points lie outside their own sphere
    assert 0.0 < model.predict(digits.x_train).mean() < 0.3


def test_one_class_radii_are_training_quantiles(digits):
    model = _model(KMeansClustering(), OneClass(nu=0.2)).fit(digits.x_train, digits.y_train)
    outside = model.predict(digits.x_train).mean()
    assert outside == pytest.approx(0.2, abs=0.05)
    assert torch.equal(model.score_radii_, torch.zeros_like(model.radii_))  # the seed scores plain distances


def test_unfitted_and_bad_input_errors(digits):
    with pytest.raises(RuntimeError, match="call fit"):
        _model().score_samples(digits.x_test)
    with pytest.raises(ValueError, match="must be a batch"):
        _model().fit(digits.x_train[:, 0, 0, 0])
    with pytest.raises(ConfigError, match=r"network.input_shape=\[1, 8, 8\].*shape \[64\]"):
        _model().fit(digits.x_train.flatten(1))  # feature rows for an image network
    bad = digits.x_train.clone()
    bad[:2, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite values in 2 images"):
        _model().fit(bad)
    with pytest.raises(ConfigError, match="network.input_shape"):
        _model().fit(torch.rand(10, 1, 16, 16))


def test_diverging_loss_stops_training(digits):
    model = DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), train=TrainSettings(lr=1e12, epochs=5))
    with pytest.raises(TrainingDivergedError, match="loss became"):
        model.fit(digits.x_train)
