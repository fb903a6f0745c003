"""Config mistakes stop at composition, before any data is read or any epoch runs, with one line naming the
field: unknown keys at every depth (with the close existing key), NaN and infinities in any group, a
``plots`` that is not a bool, milestones that are not epochs. Too many threads is a warning, not an error."""

import logging

import pytest

from msvdd.errors import ConfigError
from msvdd.run.compose import compose


@pytest.mark.parametrize("override,line", [
    ("+group.x=1", "group.x=1: unknown key; allowed: the fields of group: size, index,"),
    ("+group.indx=3", "group.indx=3: unknown key (did you mean group.index?)"),
    ("+paths.cachedir=x", "paths.cachedir='x': unknown key (did you mean paths.cache_dir?)"),
    ("+model.clustering.min_clustersize=0.3",
     "model.clustering.min_clustersize=0.3: unknown key (did you mean model.clustering.min_cluster_size?)"),
    ("+model.clustering.space.n_component=5", "model.clustering.space.n_component=5: unknown key (did you mean "
                                              "model.clustering.space.n_components?)"),
    ("+features.n_component=5", "features.n_component=5: unknown key (did you mean features.n_components?)"),
    ("+network.rep_dims=8", "network.rep_dims=8: unknown key (did you mean network.rep_dim?)"),
    ("+objective.warmup=3", "objective.warmup=3: unknown key"),
    ("+accel.tf=1", "accel.tf=1: unknown key (did you mean accel.tf32?)"),
    ("+train.foo=1", "train.foo=1: unknown key"),
    ("plots=maybe", "plots='maybe': not a bool"),
    ("plots=1", "plots=1: not a bool"),
    ("train.lr=nan", "train.lr=nan: not a finite number"),
    ("pretrain.weight_decay=nan", "pretrain.weight_decay=nan: not a finite number"),
    ("objective.nu=inf", "objective.nu=inf: not a finite number"),
    ("model.clustering.min_cluster_size=-inf", "model.clustering.min_cluster_size=-inf: not a finite number"),
    ("features.n_components=nan", "features.n_components=nan: not a finite number"),
    ("train.milestones=[abc]", "train.milestones=['abc']: not a list of epoch numbers"),
    ("pretrain.milestones=[true]", "pretrain.milestones=[True]: not a list of epoch numbers"),
])
def test_mistakes_stop_at_composition_with_one_line(make_cfg, override, line):
    with pytest.raises(ConfigError) as err:
        compose(make_cfg(override))
    assert str(err.value).startswith(line), str(err.value)
    assert "\n" not in str(err.value) and "allowed" in str(err.value)


@pytest.mark.parametrize("override,line", [
    ("+model.n_neighbor=3", "model.n_neighbors"),   # a baseline's own options
    ("+features.whiten2=1", "features.whiten"),
])
def test_a_baselines_nodes_are_checked_too(make_cfg, override, line):
    with pytest.raises(ConfigError, match=rf"did you mean {line}\?"):
        compose(make_cfg("method=knn", override))


def test_nan_in_training_settings_is_refused_without_a_config(make_cfg):
    from msvdd.svdd.training import TrainSettings

    for field in ("lr", "weight_decay"):
        with pytest.raises(ConfigError, match=rf"^train\.{field}=nan"):
            TrainSettings(**{field: float("nan")})
        with pytest.raises(ConfigError, match=rf"^train\.{field}=inf"):
            TrainSettings(**{field: float("inf")})
    assert TrainSettings(milestones=None).milestones == [] and TrainSettings(milestones=[3, 9]).milestones == [3, 9]


def test_too_many_threads_is_a_warning(make_cfg, caplog):
    with caplog.at_level(logging.WARNING, logger="msvdd"):
        compose(make_cfg("threads=1000"))
    warned = [r.message for r in caplog.records if "threads=1000" in r.message]
    assert len(warned) == 1 and "\n" not in warned[0] and "CPU cores" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="msvdd"):
        compose(make_cfg("threads=1"))
    assert not [r for r in caplog.records if "threads" in r.message]


@pytest.mark.parametrize("extra", [
    [], ["method=knn"], ["method=svdd_one"], ["method=svdd_oracle"], ["method=svdd_kmeans"], ["method=ae_recon"],
    ["method=ocsvm"], ["method=lof"], ["method=iforest"], ["method=svdd_finch_encoder"], ["method=svdd_finch_pca"],
    ["method=svdd_finch_umap_nearest"], ["features=pixels", "method=knn"], ["objective=soft_boundary"],
    ["group.size=2", "group.index=1"], ["experiment=table_digits"], ["experiment=dev_clustering_digits"],
    ["hparams_search=digits_optuna"], ["hparams_search=digits_knn_optuna"],
])
def test_every_shipped_config_passes_the_checks(make_cfg, extra):
    compose(make_cfg(*extra))
