"""The Hydra app end to end on the embedded digits: real runs, files written, errors a user makes."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from sklearn.metrics import roc_auc_score

from msvdd.errors import ConfigError
from msvdd.run.job import run


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One pretraining cache for the module: the methods of one (classes, seed) share the autoencoder."""
    return tmp_path_factory.mktemp("cache")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["svdd_one", "svdd_finch", "svdd_oracle", "svdd_kmeans"])
def test_full_run_beats_chance_and_writes_everything(make_cfg, tmp_path, shared_cache, method):
    cfg = make_cfg(f"method={method}", f"paths.cache_dir={shared_cache}", "plots=true")
    auroc = run(cfg, tmp_path / "run")
    assert auroc > 0.8
    record = json.loads((tmp_path / "run" / "results.json").read_text())
    assert record["status"] == "complete" and record["method"] == method
    assert record["auroc"] == pytest.approx(auroc) and 0 < record["average_precision"] <= 1
    assert record["normal_classes"] == [0, 1, 3] and record["dataset"] == "digits"
    assert sum(record["cluster_sizes"]) == record["n_train"] and len(record["radii"]) == record["n_clusters"]
    assert (record["ari"] is None) == (method == "svdd_one")
    if method == "svdd_oracle":
        assert record["ari"] == 1.0 and record["n_clusters"] == 3
    for name in ("model.pt", "roc.png", "training.png", "embeddings_pca.png", "extremes.png"):
        assert (tmp_path / "run" / name).stat().st_size > 1000, name
    # scores.npz: what the table's seed ensembles combine; its test scores give the recorded AUROC
    saved = np.load(tmp_path / "run" / "scores.npz")
    assert roc_auc_score(saved["anomaly"], saved["test_score"]) == pytest.approx(auroc, abs=1e-12)
    assert len(saved["train_score"]) == record["n_train"] and len(saved["test_score"]) == record["n_test"]
    # finch and kmeans cluster in a space (UMAP of the input by default): its plot and its record
    assert (tmp_path / "run" / "embeddings_space.png").exists() == (method in ("svdd_finch", "svdd_kmeans"))
    if method in ("svdd_finch", "svdd_kmeans"):
        space = record["clustering"]["space"]
        assert space["name"] == "umap" and space["source"] == "input" and space["seconds"] > 0


@pytest.mark.slow
def test_same_seed_same_auroc_and_checkpoint_evaluation(make_cfg, tmp_path):
    cfg = make_cfg("method=svdd_oracle", "objective=soft_boundary", "objective.warm_up_epochs=5",
                   "paths.cache_dir=null")
    first, second = run(cfg, tmp_path / "a"), run(cfg, tmp_path / "b")
    assert first == second
    evaluated = run(make_cfg("method=svdd_oracle", f"ckpt_path={tmp_path / 'a' / 'model.pt'}"), tmp_path / "c")
    assert evaluated == first
    assert json.loads((tmp_path / "c" / "results.json").read_text())["mode"] == "evaluate"
    a, c = np.load(tmp_path / "a" / "scores.npz"), np.load(tmp_path / "c" / "scores.npz")
    assert np.array_equal(a["test_score"], c["test_score"]) and "train_score" not in c  # no training: none


def test_group_address_sets_normal_classes(make_cfg, tmp_path):
    from msvdd.run.compose import normal_classes
    from msvdd.run.groups import group_classes

    cfg = make_cfg("group.size=3", "group.index=4")
    assert normal_classes(cfg) == list(group_classes(3, 4))


@pytest.mark.parametrize("override,field", [
    ("dataset.normal_classes=[]", "dataset.normal_classes"),
    ("dataset.normal_classes=[1,1]", "dataset.normal_classes"),
    ("dataset.normal_classes=[0,12]", "dataset.normal_classes"),
    ("dataset.normal_classes=[0,1,2,3,4,5,6,7,8,9]", "dataset.normal_classes"),
    ("objective.nu=0", "objective.nu"),
    ("objective.nu=1.5", "objective.nu"),
    ("train.epochs=0", "train.epochs"),
    ("pretrain.lr=-0.1", "pretrain.lr"),
    ("train.batch_size=0", "train.batch_size"),
    ("network=mnist_lenet", "network.input_shape"),
    ("model.score=farthest", "model.score"),
    ("group.size=10", "group.size"),
    ("model.clustering.metric=manhattan", "model.clustering.metric"),
    ("model.clustering.min_cluster_size=-1", "model.clustering.min_cluster_size"),
])
def test_config_errors_caught_before_training(make_cfg, tmp_path, override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")) as err:
        run(make_cfg(override), tmp_path / "run")
    assert "allowed" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run" / "results.json").exists()


def test_cli_error_is_one_line_with_nonzero_exit(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "msvdd", "dataset.normal_classes=[0,0]",
                           f"paths.root_dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("msvdd: error: dataset.normal_classes=")
    assert not list(tmp_path.rglob("results.json"))


def test_cli_unknown_dataset_names_the_options(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "msvdd", "dataset=svhn", f"paths.root_dir={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "svhn" in proc.stderr and "mnist" in proc.stderr and "cifar10" in proc.stderr


def test_job_folder_names_stay_short_stable_and_distinct():
    from msvdd.app import short_dirname

    long_a, long_b = "x=1," * 100 + "seed=0", "x=1," * 100 + "seed=1"
    assert short_dirname("clustering=none,seed=0") == "clustering=none,seed=0"
    assert short_dirname(long_a) == short_dirname(long_a) != short_dirname(long_b)
    assert len(short_dirname(long_a)) < 255
