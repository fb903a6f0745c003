"""The Python API's defaults are the command line's (issue 20, item 8): each class of the clustering stage,
built with no arguments, equals what its YAML under conf/model/clustering instantiates to, so that
``FinchClustering()`` in a script is ``method=svdd_finch`` on the command line and the two cannot drift."""

from pathlib import Path

import pytest
from hydra.utils import instantiate

from msvdd.clustering import FinchClustering, KMeansClustering, NoClustering, OracleClustering
from msvdd.clustering.assignment import Assignment
from msvdd.clustering.spaces import EncoderSpace, PCASpace, UMAPSpace, user_numba_cache
from msvdd.svdd.objectives import OneClass, SoftBoundary


def params(obj):
    """An msvdd object as its class and its settings, nested objects likewise (fit results left out)."""
    if type(obj).__module__.startswith("msvdd"):
        return {"class": type(obj).__name__, **{k: params(v) for k, v in vars(obj).items() if k != "info"}}
    return obj


@pytest.mark.parametrize("overrides,python", [
    (["method=svdd_finch"], FinchClustering),                                  # the default method
    (["method=svdd_kmeans"], KMeansClustering),
    (["method=svdd_oracle"], OracleClustering),
    (["method=svdd_one"], NoClustering),
])
def test_each_clustering_defaults_to_its_yaml(make_cfg, overrides, python):
    from_yaml = instantiate(make_cfg(*overrides).model.clustering)
    assert params(from_yaml) == params(python())


@pytest.mark.parametrize("space,python", [("umap", UMAPSpace), ("pca", PCASpace), ("encoder", EncoderSpace)])
def test_each_space_defaults_to_its_yaml(make_cfg, space, python):
    cfg = make_cfg("method=svdd_finch", f"model/clustering/space={space}")
    assert params(instantiate(cfg.model.clustering.space)) == params(python())


def test_umap_input_is_finchs_default_space(make_cfg):
    space = instantiate(make_cfg("method=svdd_finch").model.clustering.space)
    assert params(space) == params(FinchClustering().space) == params(UMAPSpace(source="input", input_pca=50))
    assert FinchClustering(seed=3).space.seed == 3  # the space draws with the clustering's seed, as ${seed} does


@pytest.mark.parametrize("assign,python", [("fixed", Assignment()), ("nearest", Assignment("nearest"))])
def test_each_assignment_defaults_to_its_yaml(make_cfg, assign, python):
    cfg = make_cfg("method=svdd_finch", f"model/clustering/assign={assign}")
    assert params(instantiate(cfg.model.clustering.assign)) == params(python)


@pytest.mark.parametrize("objective,python", [("one_class", OneClass), ("soft_boundary", SoftBoundary)])
def test_each_objective_defaults_to_its_yaml(make_cfg, objective, python):
    assert params(instantiate(make_cfg(f"objective={objective}").objective)) == params(python())


@pytest.mark.parametrize("env", [{}, {"XDG_CACHE_HOME": "/somewhere/cache"}, {"MSVDD_NUMBA_CACHE": "/mine"}])
def test_the_numba_cache_default_is_one_folder_per_user(make_cfg, monkeypatch, env):
    monkeypatch.delenv("MSVDD_NUMBA_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yaml_value = make_cfg("method=svdd_finch").model.clustering.space.cache_dir
    expected = env.get("MSVDD_NUMBA_CACHE") or f"{env.get('XDG_CACHE_HOME', '~/.cache')}/msvdd/numba"
    assert yaml_value == user_numba_cache() == UMAPSpace().cache_dir == expected
    assert "outputs" not in yaml_value  # not under MSVDD_OUTPUTS / paths.root_dir


@pytest.mark.parametrize("phase", ["pretrain", "train"])
def test_each_training_phase_defaults_to_its_yaml(phase):
    """``TrainSettings("pretrain")`` is conf/pretrain/default.yaml (its weight decay was the train phase's)."""
    from omegaconf import OmegaConf

    from msvdd.svdd.training import TrainSettings

    yaml = Path(__file__).resolve().parents[1] / "conf" / phase / "default.yaml"
    assert vars(instantiate(OmegaConf.load(yaml))) == vars(TrainSettings(phase))
