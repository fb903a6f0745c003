"""Hard-EM re-assignment (assign=nearest): points move, small or empty spheres are dropped, loss stays finite."""

import json

import numpy as np
import pytest
import torch

from msvdd.clustering import OracleClustering
from msvdd.clustering.assignment import Assignment
from msvdd.errors import ConfigError
from msvdd.networks import LeNetAutoEncoder
from msvdd.run.job import run
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.objectives import OneClass, SoftBoundary
from msvdd.svdd.training import TrainSettings

QUICK = dict(epochs=6, lr=1e-3, milestones=[], batch_size=32, device="cpu")


def test_reassign_moves_to_smallest_margin_and_drops_an_emptied_sphere():
    z = torch.tensor([[0.0, 0], [0.1, 0], [0.2, 0], [1.9, 0], [2.0, 0], [2.1, 0], [0.9, 0]])
    centers = torch.tensor([[0.0, 0], [2.0, 0], [50.0, 0]])
    labels = torch.tensor([0, 0, 2, 1, 1, 2, 2])  # sphere 2 sits far from every point: it empties
    a = Assignment("nearest", every=1, nu=0.1)
    a.start(labels, 3)
    new = a.reassign(z, centers, torch.zeros(3), labels, epoch=0)
    assert new.tolist() == [0, 0, 0, 1, 1, 1, 0]
    assert a.info["moves"] == [3] and a.info["dropped"] == [{"sphere": 2, "epoch": 1, "points": 0}]
    # the margin, not the distance, decides: a radius of 1.2 around sphere 1 takes the point at 0.9
    new = a.reassign(z, centers, torch.tensor([0.0, 1.2, 0.0]), new, epoch=1)
    assert new[-1] == 1 and a.info["moves"] == [3, 1]
    labels, kept_centers, radii = a.finish(new, centers, torch.tensor([0.5, 0.6, 0.7]))
    assert kept_centers.tolist() == centers[:2].tolist() and radii.tolist() == pytest.approx([0.5, 0.6])
    assert labels.max() == 1 and a.describe()["kept"] == [0, 1] and a.describe()["total_moves"] == 4


def test_sphere_under_nu_of_the_largest_is_dropped_and_its_points_move():
    z = torch.cat([torch.zeros(20, 2), torch.full((20, 2), 5.0), torch.full((1, 2), 9.0)])
    centers = torch.tensor([[0.0, 0], [5.0, 5], [9.0, 9]])
    labels = torch.tensor([0] * 20 + [1] * 20 + [2])
    a = Assignment("nearest", nu=0.1)
    a.start(labels, 3)
    new = a.reassign(z, centers, torch.zeros(3), labels, epoch=4)
    assert a.info["dropped"] == [{"sphere": 2, "epoch": 5, "points": 1}] and new[-1] == 1


def test_fixed_never_moves_and_every_sets_the_epochs():
    fixed, every3 = Assignment("fixed"), Assignment("nearest", every=3)
    assert not any(fixed.due(e) for e in range(10))
    assert [e for e in range(10) if every3.due(e)] == [2, 5, 8]


@pytest.mark.parametrize("kwargs,field", [({"rule": "soft"}, "model.clustering.assign.rule"),
                                          ({"every": 0}, "model.clustering.assign.every"),
                                          ({"nu": 1.5}, "model.clustering.assign.nu")])
def test_assignment_config_errors(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        Assignment(**kwargs)


class _WithStraySphere(OracleClustering):
    """The true classes plus a fourth sphere, the outermost class-0 point: it gathers a few neighbours at most."""

    def __init__(self, assign=None):
        super().__init__(min_cluster_size=0, assign=assign)  # keep the stray sphere through the clustering stage

    def _labels(self, z, y):
        labels = super()._labels(z, y)
        zero = np.flatnonzero(labels == 0)
        labels[zero[((z[zero] - z[zero].mean(0)) ** 2).sum(1).argmax()]] = 3
        return labels


@pytest.mark.parametrize("objective", [OneClass(), SoftBoundary(warm_up_epochs=2)])
def test_fit_with_reassignment_drops_the_stray_sphere_and_stays_finite(digits, objective):
    assignment = Assignment("nearest", every=2, nu=0.2)
    model = DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), objective, _WithStraySphere(assignment),
                     pretrain=TrainSettings("pretrain", **QUICK), train=TrainSettings(**QUICK))
    model.fit(digits.x_train, digits.y_train)
    info = model.assignment_info_
    assert all(np.isfinite(model.history_["loss"]))
    assert info["moved_epochs"] == [2, 4, 6] and info["total_moves"] >= 2
    assert [d["sphere"] for d in info["dropped"]] == [3] and info["kept"] == [0, 1, 2]
    assert model.n_clusters_ == 3 and model.centers_.shape == (3, 16) and model.radii_.shape == (3,)
    assert sum(model.cluster_sizes_) == len(digits.x_train) and model.cluster_labels_.max() == 2
    assert np.isfinite(model.score_samples(digits.x_test)).all()


@pytest.mark.slow
def test_same_seed_same_labels_and_auroc_with_umap_and_reassignment(make_cfg, tmp_path):
    cfg = make_cfg("method=svdd_finch_umap_nearest", "pretrain.epochs=5",
                   "train.epochs=5", "paths.cache_dir=null")
    first, second = run(cfg, tmp_path / "a"), run(cfg, tmp_path / "b")
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in "ab")
    assert first == second and a["cluster_sizes"] == b["cluster_sizes"] and a["ari"] == b["ari"]
    labels = [torch.load(tmp_path / d / "model.pt", weights_only=True)["state"]["cluster_labels"] for d in "ab"]
    assert torch.equal(*labels)
    assert a["assignment"]["rule"] == "nearest" and len(a["assignment"]["moves"]) == 5
    assert a["clustering"]["space"]["name"] == "umap"
    assert a["settings"]["model"]["clustering"]["space"]["n_components"] == 10
