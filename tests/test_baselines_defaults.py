"""Every baseline's shipped default (conf/model/<name>.yaml, conf/features/pca.yaml) detects on a hard group.

The defaults were chosen on dev groups (docs/baselines.md#defaults-chosen-on-dev-groups); this checks the
shipped config itself, built exactly as ``python -m msvdd method=<name>`` builds it, on an MNIST-like group
of four digit classes of the embedded 8x8 digits (the table's group [0, 1, 2, 9]), where a wide OC-SVM
kernel (scikit-learn's gamma=scale, the former default) scored 83.0 %. The margins measured at the chosen
defaults are in the comment above the bounds. The Python API defaults to the same values as the YAML.
"""

import pytest
import torch
from conftest import CONF, HAS_DATA
from sklearn.metrics import roc_auc_score

from msvdd.run.compose import compose

# AUROC at the shipped defaults on [0, 1, 2, 9], seed 0 (2026-12-01): knn 0.983, lof 0.961, iforest 0.946,
# ocsvm 0.987 (0.830 with the former gamma=scale), ae_recon 0.885: each bound is 3-8 points under its
# measured value, far above chance (0.5); OC-SVM's is one that the former straw-man default misses.
BOUNDS = {"knn": 0.95, "lof": 0.93, "iforest": 0.90, "ocsvm": 0.95, "ae_recon": 0.80}


@pytest.mark.parametrize("method", BOUNDS)
def test_shipped_default_beats_chance_clearly(make_cfg, tmp_path, method):
    torch.set_num_threads(1)
    cfg = make_cfg(f"method={method}", "dataset=digits", "group.size=4", "group.index=0", "threads=1",
                   f"paths.cache_dir={tmp_path / 'cache'}")
    job = compose(cfg)
    assert list(job.classes) == [0, 1, 2, 9]
    data = job.dataset.load()
    scores = job.model.fit(data.x_train).score_samples(data.x_test)
    assert roc_auc_score(data.y_test.numpy(), scores) > BOUNDS[method]


@pytest.mark.parametrize("method", ["knn", "lof", "iforest", "ocsvm"])
def test_python_defaults_are_the_yaml_defaults(make_cfg, method):
    """``OCSVMDetector()`` in a script is ``method=ocsvm`` on the command line (but the feature space, which
    the run passes in from conf/features)."""
    from hydra.utils import instantiate

    from msvdd.baselines import IForestDetector, KNNDetector, LOFDetector, OCSVMDetector

    python = {"knn": KNNDetector, "lof": LOFDetector, "iforest": IForestDetector, "ocsvm": OCSVMDetector}[method]()
    from_yaml = instantiate(make_cfg(f"method={method}").model, _convert_="all")
    assert {k: v for k, v in vars(from_yaml).items() if k != "features"} == {
        k: v for k, v in vars(python).items() if k != "features"}


def test_ocsvm_median_rule_reads_the_data_scale(digits):
    """gamma=median is gamma_factor / the median squared distance: scaling the features by 10 divides the
    width by 100 and leaves the scores' ranking unchanged (a fixed gamma would not)."""
    from msvdd.baselines import OCSVMDetector, PixelFeatures

    x = digits.x_train.flatten(1).numpy()
    a = OCSVMDetector(gamma="median", gamma_factor=20, features=PixelFeatures()).fit(x)
    b = OCSVMDetector(gamma="median", gamma_factor=20, features=PixelFeatures()).fit(10 * x)
    assert a.gamma_ == pytest.approx(100 * b.gamma_, rel=1e-6)
    xt = digits.x_test.flatten(1).numpy()
    y = digits.y_test.numpy()
    assert roc_auc_score(y, a.score_samples(xt)) == pytest.approx(roc_auc_score(y, b.score_samples(10 * xt)), abs=1e-3)


SEARCHES = sorted(p.stem for p in (CONF / "hparams_search").glob("*_optuna.yaml")
                  if p.stem.split("_")[-2] in BOUNDS)  # the baselines' own searches


@pytest.mark.parametrize("search", SEARCHES)
def test_every_baseline_search_composes_on_dev_groups(make_cfg, search):
    """The searches the defaults came from still compose, on dev groups, with the method they tune."""
    if not search.startswith("digits") and not HAS_DATA:
        pytest.skip("MSVDD_DATA is not set: MNIST and Fashion-MNIST are not here")
    cfg = make_cfg(f"hparams_search={search}")
    assert cfg.group.split == "dev" and cfg.method == search.split("_")[-2]
    compose(cfg)


def test_an_ocsvm_saved_before_the_median_rule_loads_as_saved(digits):
    """model.pt of an OC-SVM from before gamma=median holds no gamma_factor: it loads and scores bit for bit."""
    import numpy as np

    from msvdd.baselines import OCSVMDetector, PCAFeatures

    old = OCSVMDetector(gamma="scale", features=PCAFeatures(32)).fit(digits.x_train)
    state = old._state()
    del state["params"]["gamma_factor"]
    loaded = OCSVMDetector._from_state(state)
    assert loaded.gamma == "scale" and np.array_equal(loaded.score_samples(digits.x_test),
                                                     old.score_samples(digits.x_test))
