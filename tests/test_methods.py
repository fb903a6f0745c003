"""One way to name what a run is: ``method=``. Each method composes to its model and clustering, records its
name and only the settings it uses; the spellings this replaced stop with the new one."""

import json

import pytest
from conftest import CONF, TINY, run_msvdd
from hydra.utils import instantiate

from msvdd.clustering import FinchClustering, KMeansClustering, NoClustering, OracleClustering
from msvdd.run.job import run
from msvdd.run.settings import model_groups, run_settings

METHODS = sorted(p.stem for p in (CONF / "method").glob("*.yaml"))


def test_every_method_names_itself_and_builds_its_model(make_cfg):
    assert {"svdd_one", "svdd_finch", "svdd_kmeans", "svdd_oracle", "knn", "lof", "iforest", "ocsvm",
            "ae_recon", "svdd_finch_encoder", "svdd_finch_umap_nearest"} <= set(METHODS)
    for method in METHODS:
        cfg = make_cfg(f"method={method}")
        assert cfg.method == method
        model = instantiate(cfg.model, _convert_="all")
        assert model.kind == ("deep_svdd" if method.startswith("svdd_") else method)


@pytest.mark.parametrize("method,clustering,space,metric,rule", [
    ("svdd_one", NoClustering, None, None, "fixed"),
    ("svdd_oracle", OracleClustering, None, None, "fixed"),
    ("svdd_kmeans", KMeansClustering, "umap of the input", None, "fixed"),
    ("svdd_finch", FinchClustering, "umap of the input", "euclidean", "fixed"),
    ("svdd_finch_encoder", FinchClustering, "encoder", "cosine", "fixed"),
    ("svdd_finch_umap_nearest", FinchClustering, "umap", "cosine", "nearest"),
])
def test_the_method_chooses_the_clustering_its_space_and_rule(make_cfg, method, clustering, space, metric, rule):
    model = instantiate(make_cfg(f"method={method}").model, _convert_="all")
    assert type(model.clustering) is clustering and model.clustering.assign.rule == rule
    assert getattr(model.clustering.space, "label", None) == space
    if metric:
        assert model.clustering.metric == metric


def test_a_baseline_records_no_deep_svdd_settings(make_cfg):
    knn, finch = make_cfg("method=knn"), make_cfg("method=svdd_finch")
    assert model_groups(knn) == ["features"] and model_groups(finch) == ["network", "objective", "pretrain", "train"]
    settings = run_settings(knn, "digits")
    assert set(settings) == {"dataset", "dataset_options", "group", "features", "model"}
    assert "clustering" not in json.dumps(settings) and "metric" not in json.dumps(settings)
    assert settings["model"] == {"_target_": "msvdd.baselines.KNNDetector", "n_neighbors": 5, "aggregate": "mean",
                                 "contamination": 0.1}
    own = run_settings(finch, "digits")["model"]
    assert own["clustering"]["metric"] == "euclidean" and own["score"] == "min_margin"
    assert "seed" not in json.dumps(own) and "cache" not in json.dumps(own)  # the run's seed and paths vary


def test_a_changed_option_of_the_method_changes_its_settings(make_cfg):
    one = run_settings(make_cfg("method=svdd_finch"), "digits")
    other = run_settings(make_cfg("method=svdd_finch", "model.clustering.min_cluster_size=0.1"), "digits")
    assert one != other and one["network"] == other["network"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["knn", "svdd_finch"])
def test_runs_of_two_seeds_record_the_same_settings(make_cfg, tmp_path, method):
    """What a run records is read from its config before the model is built (Hydra resolves in place)."""
    for seed in (0, 1):
        run(make_cfg(f"method={method}", f"seed={seed}", "pretrain.epochs=2", "train.epochs=2"), tmp_path / str(seed))
    first, second = (json.loads((tmp_path / s / "results.json").read_text()) for s in "01")
    assert (first["seed"], second["seed"]) == (0, 1) and first["settings"] == second["settings"]
    assert first["settings_id"] == second["settings_id"] and '"seed"' not in json.dumps(first["settings"])
    if method == "knn":  # a baseline records only what it uses
        assert first["baseline"]["features"]["name"] == "pca" and "clustering" not in json.dumps(first["settings"])
        assert not {"network", "objective", "pretrain", "train"} & set(first["config"])


@pytest.mark.parametrize("old,new", [
    ("variant=finch_encoder", "method=svdd_finch_encoder"),
    ("variant=finch_umap_input", "method=svdd_finch"),
    ("variant=one_radius", "method=svdd_one"),
    ("clustering=finch", "method=svdd_finch"),
    ("clustering=none", "method=svdd_one"),
    ("model=knn", "method=knn"),
    ("finch.metric=cosine", "model.clustering.metric=cosine"),
    ("+finch.min_cluster_size=0.3", "model.clustering.min_cluster_size=0.3"),
    ("clustering_space=umap", "model/clustering/space=umap"),
    ("assign=nearest", "model/clustering/assign=nearest"),
    ("score=nearest", "model.score=nearest"),
])
def test_a_retired_spelling_names_the_new_one(tmp_path, old, new):
    proc = run_msvdd(tmp_path, old, *TINY)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"msvdd: error: {old.lstrip('+').split('=')[0]}=") and f"allowed: {new}" in last
    assert not list(tmp_path.rglob("results.json")) and not list(tmp_path.rglob(".hydra"))


def test_svdd_many_trains_more_spheres_than_classes_and_scores_by_neighbours(make_cfg, tmp_path):
    auroc = run(make_cfg("method=svdd_many", "pretrain.epochs=5", "train.epochs=5", "threads=1"), tmp_path / "many")
    record = json.loads((tmp_path / "many" / "results.json").read_text())
    # FINCH's finest partition with clusters of >= 1 % of the ~540 training digits [0, 1, 3]: many more than 3
    assert record["n_clusters"] > 6 and min(record["cluster_sizes"]) >= 0.01 * record["n_train"]
    assert record["score_rule"] == "knn" and record["clustering"]["req_clusters"] is None and auroc > 0.85


def test_a_models_own_training_phase_records_no_device_fields(make_cfg):
    """Where and how fast svdd_many_short's own phase trains is not a setting: CPU and GPU runs share one table."""
    plain = run_settings(make_cfg("method=svdd_many_short"), "digits")
    moved = run_settings(make_cfg("method=svdd_many_short", "train.device=cuda", "train.channels_last=true",
                                  "train.cuda_graphs=true"), "digits")
    assert plain == moved and plain["model"]["train"]["epochs"] == 5
    assert not {"device", "cuda_graphs", "channels_last"} & set(plain["model"]["train"])
    assert run_settings(make_cfg("method=svdd_many_short", "train.lr=0.002"), "digits") != plain  # what is learned


def test_a_models_own_training_phase_follows_every_other_field_of_train(make_cfg):
    """A method's own phase (svdd_many_short's model.train) spells out its fields: OmegaConf copies ``${train}``'s
    values at compose time when a dict is merged onto it, so a "train with these changes" node cannot be written.
    So every field of TrainSettings that the method does not change must interpolate the experiment's; a field
    added to TrainSettings and forgotten there would silently keep its dataclass default for that method."""
    from omegaconf import OmegaConf

    from msvdd.svdd.training import TrainSettings
    own_phase = {}
    for method in METHODS:
        raw = OmegaConf.to_container(make_cfg(f"method={method}").model, resolve=False).get("train", "${train}")
        if raw != "${train}":
            own_phase[method] = raw
    assert "svdd_many_short" in own_phase
    for method, raw in own_phase.items():
        changed = {k for k, v in raw.items() if k not in ("_target_", "name") and v != f"${{train.{k}}}"}
        assert changed <= {"epochs", "milestones"}, f"{method} changes {sorted(changed)}"
        assert set(raw) - {"_target_"} == set(TrainSettings.__dataclass_fields__), method


def test_svdd_many_short_trains_its_own_five_epochs_and_records_them(make_cfg, tmp_path, caplog):
    """The method's Deep SVDD phase is its own (5 epochs, no lr drop) whatever train.epochs says; lr, batch and
    weight decay follow the experiment; results.json records the phase the model ran, not the top-level one."""
    cfg = make_cfg("method=svdd_many_short", "pretrain.epochs=2", "train.epochs=2", "train.lr=0.002", "threads=1")
    with caplog.at_level("INFO"):
        run(cfg, tmp_path / "short")
    record = json.loads((tmp_path / "short" / "results.json").read_text())
    train = record["settings"]["model"]["train"]
    assert (train["epochs"], train["milestones"], train["lr"]) == (5, [], 0.002) and "train" not in record["settings"]
    assert record["score_rule"] == "knn" and record["settings"]["model"]["score_neighbors"] == 1
    epochs = [r.getMessage().split()[2] for r in caplog.records if r.getMessage().startswith("train epoch")]
    assert epochs == ["1/5", "2/5", "3/5", "4/5", "5/5"]
