"""The knn and relative score rules (issue 23): neighbours of the trained network's embedding, and distances
in units of each sphere's radius, on the embedded digits."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from msvdd.clustering import OracleClustering
from msvdd.errors import ConfigError
from msvdd.networks import LeNetAutoEncoder
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.objectives import OneClass
from msvdd.svdd.score_rules import knn_distance
from msvdd.svdd.spheres import relative_distance, score, sq_distances
from msvdd.svdd.training import TrainSettings

QUICK = dict(lr=1e-3, epochs=5, milestones=[], batch_size=64)


def _model(**kw):
    return DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), OneClass(), OracleClustering(),
                    pretrain=TrainSettings("pretrain", **QUICK), train=TrainSettings(**QUICK), **kw)


def _brute(q, bank, k, leave_self_out=False):
    d = torch.cdist(q.double(), bank.double(), compute_mode="donot_use_mm_for_euclid_dist")
    if leave_self_out:
        d.fill_diagonal_(float("inf"))
    return d.topk(k, dim=1, largest=False).values.mean(1)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_knn_distance_equals_brute_force(k):
    gen = torch.Generator().manual_seed(0)
    bank = torch.randn(3000, 32, generator=gen) * 20 + 100  # far from 0: where ||a||^2 - 2ab cancels digits
    queries = torch.cat([torch.randn(700, 32, generator=gen) * 20 + 100, bank[:5] + 1e-3])
    got = knn_distance(queries, bank, k)
    assert torch.allclose(got.double(), _brute(queries, bank, k), rtol=1e-6, atol=0)
    own = knn_distance(bank[:600], bank[:600], k, leave_self_out=True)
    assert torch.allclose(own.double(), _brute(bank[:600], bank[:600], k, True), rtol=1e-6, atol=0)


def test_knn_distance_small_banks_and_duplicates():
    bank = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert knn_distance(torch.tensor([[0.0, 0.0]]), bank, 10).item() == pytest.approx(2.5)  # k > bank: all of it
    twice = torch.cat([bank, bank])
    assert knn_distance(twice, twice, 1, leave_self_out=True).tolist() == [0.0, 0.0, 0.0, 0.0]  # the twin, not itself
    with pytest.raises(ValueError, match="at least one training embedding"):
        knn_distance(bank[:1], bank[:1], 1, leave_self_out=True)


def test_knn_rule_scores_by_training_embeddings_and_saves_them(digits, tmp_path):
    model = _model(score="knn", score_neighbors=3).fit(digits.x_train, digits.y_train)
    z_train, z_test = torch.from_numpy(model.embed(digits.x_train)), torch.from_numpy(model.embed(digits.x_test))
    scores = model.score_samples(digits.x_test)
    assert np.allclose(scores, _brute(z_test, z_train, 3).numpy(), rtol=1e-5)
    assert roc_auc_score(digits.y_test.numpy(), scores) > 0.8
    assert np.array_equal(model.item_columns(digits.x_test)["score"], scores)
    # the training scores leave each point out of its own neighbours, so they sit where new normal data does
    assert np.allclose(model.train_scores_.numpy(), _brute(z_train, z_train, 3, True).numpy(), rtol=1e-5)
    normal = scores[digits.y_test.numpy() == 0]
    assert (normal > np.quantile(model.train_scores_.numpy(), 0.8)).mean() == pytest.approx(0.2, abs=0.1)
    # the spheres still decide predict: the rule changes the score, not the verdict
    margin = (sq_distances(z_test, model.centers_) - model.radii_ ** 2).min(1).values
    assert np.array_equal(model.predict(digits.x_test), (margin > 0).numpy().astype(np.int64))
    model.save(tmp_path / "model.pt")
    loaded = DeepSVDD.load(tmp_path / "model.pt")
    assert loaded.score_neighbors == 3 and np.array_equal(loaded.score_samples(digits.x_test), scores)


def test_sphere_rules_training_scores_are_their_scores_as_new_data(digits):
    model = _model(score="nearest").fit(digits.x_train, digits.y_train)
    assert np.array_equal(model.train_scores_.numpy(), model.score_samples(digits.x_train))


@pytest.mark.parametrize("value", [0, 2.5, True, "5"])
def test_knn_rule_neighbours_must_be_a_positive_int(digits, value):
    with pytest.raises(ConfigError, match="model.score_neighbors"):
        _model(score="knn", score_neighbors=value).fit(digits.x_train, digits.y_train)


def test_relative_distance_puts_every_sphere_on_its_own_scale():
    centers, radii = torch.tensor([[0.0], [10.0]]), torch.tensor([1.0, 4.0])  # a tight sphere and a loose one
    points = torch.tensor([[2.0], [7.0], [10.0]])
    d = sq_distances(points, centers)
    assert relative_distance(d, radii).tolist() == pytest.approx([2.0, 0.75, 0.0])
    # the plain distance (min_margin with R = 0, the one-class objective's scores) orders the first two the
    # other way round: 2 from the tight sphere looks more normal than 3 from the loose one
    assert score(d, torch.zeros(2)).tolist() == pytest.approx([4.0, 9.0, 0.0])
    assert torch.isfinite(relative_distance(d, torch.zeros(2))).all()  # a zero radius divides by 1e-12


def test_relative_rule_divides_by_each_spheres_radius_and_survives_saving(digits, tmp_path):
    model = _model(score="relative").fit(digits.x_train, digits.y_train)
    z_test = torch.from_numpy(model.embed(digits.x_test)).double()
    want = (sq_distances(z_test, model.centers_.double()).sqrt() / model.radii_.double()).min(1).values
    scores = model.score_samples(digits.x_test)
    assert model.n_clusters_ > 1 and model.radii_.min() > 0
    assert np.allclose(scores, want.numpy(), rtol=1e-5)
    assert roc_auc_score(digits.y_test.numpy(), scores) > 0.55  # 5 epochs: 0.63 here (min_margin 0.70)
    assert np.array_equal(model.train_scores_.numpy(), model.score_samples(digits.x_train))
    model.save(tmp_path / "model.pt")
    assert np.array_equal(DeepSVDD.load(tmp_path / "model.pt").score_samples(digits.x_test), scores)
