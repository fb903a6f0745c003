"""Tuning the user's own data: the benchmark searches run on it with one override
(dataset.validation_size), every trial scores the validation split, and never the test split."""

import json

import pytest
from conftest import run_msvdd
from omegaconf import OmegaConf
from sklearn.datasets import load_wine

from msvdd.tuning.search_space import without_class_groups

AVERAGE = {"group.size": [2, 3, 4], "group.index": [0], "seed": [0, 1]}


def test_own_data_drops_only_the_class_group_axes():
    own = OmegaConf.create({"dataset": {"_target_": "msvdd.data.Table"}})
    bench = OmegaConf.create({"dataset": {"_target_": "msvdd.data.Digits"}})
    assert without_class_groups(AVERAGE, own) == {"seed": [0, 1]}
    assert without_class_groups(AVERAGE, bench) == AVERAGE


@pytest.fixture(scope="module")
def wine_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("wine") / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    return path


TABLE = ["hparams_search=digits_knn_optuna", "dataset=table", "dataset.label=target", "dataset.normal_classes=[0,1]",
         "hydra.sweeper.n_trials=2"]


@pytest.mark.slow
def test_a_shipped_search_tunes_own_data_on_its_validation_split(tmp_path, wine_csv):
    proc = run_msvdd(tmp_path, "-m", *TABLE, f"dataset.path={wine_csv}", "dataset.validation_size=0.2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(p.read_text()) for p in (tmp_path / "optuna").rglob("results.json")]
    assert len(records) == 2  # one job per trial: no class-group axes
    assert {r["split"]["scored"] for r in records} == {"validation"}
    assert all(r["split"]["validation_size"] == {"normal": 19, "anomaly": 10} for r in records)


@pytest.mark.slow
def test_without_a_validation_split_the_search_fails_and_says_why(tmp_path, wine_csv):
    proc = run_msvdd(tmp_path, "-m", *TABLE, f"dataset.path={wine_csv}")
    assert proc.returncode == 1
    assert "dataset.validation_size=0.0: group.split=dev scores your data's validation split" in proc.stderr
    assert not list((tmp_path / "optuna").rglob("results.json"))
