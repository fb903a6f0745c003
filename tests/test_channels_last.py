"""``channels_last``: a speed setting (NHWC convolutions) that learns the same model up to rounding."""

import pytest
import torch
from sklearn.metrics import roc_auc_score

from msvdd.errors import ConfigError
from msvdd.run.compose import compose
from msvdd.stack.jobs import stack_key
from msvdd.svdd.pretrain_cache import pretrain_key
from msvdd.svdd.training import TrainSettings


def _fit(make_cfg, tmp_path, layout: bool):
    flag = str(layout).lower()
    job = compose(make_cfg("method=svdd_finch", "seed=0", "dataset.normal_classes=[0,1,3]", "threads=1",
                           f"paths.cache_dir={tmp_path / flag}", f"pretrain.channels_last={flag}",
                           f"train.channels_last={flag}"))
    data = job.dataset.load()
    x_train = data.x_train.clone()
    job.model.fit(data.x_train, data.y_train)
    assert torch.equal(data.x_train, x_train) and data.x_train.is_contiguous()  # the caller's tensor untouched
    return job, roc_auc_score(data.y_test.numpy(), job.model.score_samples(data.x_test))


def test_channels_last_learns_the_same_model_up_to_rounding(make_cfg, tmp_path):
    default, auroc = _fit(make_cfg, tmp_path, False)
    nhwc, auroc_nhwc = _fit(make_cfg, tmp_path, True)
    assert nhwc.model.train.channels_last and nhwc.model.pretrain.channels_last
    # After training the weights are back in the default layout (checkpoints, scoring, stacking see plain tensors).
    assert all(p.is_contiguous() for p in nhwc.model.network_.parameters())
    # Same pretraining losses up to float rounding, and an AUROC within a seed's spread of the default's.
    losses, losses_nhwc = default.model.history_["pretrain_loss"], nhwc.model.history_["pretrain_loss"]
    assert losses_nhwc == pytest.approx(losses, rel=1e-3)
    assert abs(auroc_nhwc - auroc) < 0.02, (auroc, auroc_nhwc)


def test_channels_last_is_a_speed_setting_and_runs_alone_under_the_stacked_launcher(make_cfg):
    settings = TrainSettings("pretrain", epochs=1)
    net = compose(make_cfg("method=svdd_one")).model.network
    x = torch.rand(20, 1, 8, 8)
    # Like device and cuda_graphs it does not change what is learned: one pretraining-cache entry for both.
    assert pretrain_key(net, x, settings, 0) == pretrain_key(net, x, TrainSettings("pretrain", epochs=1,
                                                                                    channels_last=True), 0)
    plain = compose(make_cfg("method=svdd_one")).model
    nhwc = compose(make_cfg("method=svdd_one", "train.channels_last=true")).model
    assert stack_key(plain, (20, 1, 8, 8)) is not None
    assert stack_key(nhwc, (20, 1, 8, 8)) is None  # the stacked step has no NHWC path: the job runs alone


def test_a_non_boolean_channels_last_names_its_field():
    with pytest.raises(ConfigError, match="pretrain.channels_last"):
        TrainSettings("pretrain", channels_last="yes")
