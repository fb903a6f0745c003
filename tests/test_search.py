"""The shipped Optuna search on the real app: dev groups only, SQLite study that resumes."""

import json
import subprocess
import sys

import optuna
import pytest
from conftest import ROOT

from msvdd.reports.results import read_complete

pytestmark = pytest.mark.slow


def _search(tmp_path, n_trials):
    cmd = [sys.executable, "-m", "msvdd", "-m", "hparams_search=digits_optuna", f"paths.root_dir={tmp_path}",
           f"hydra.sweeper.n_trials={n_trials}", "pretrain.epochs=2", "train.epochs=2",
           # one run per trial, of one dev group (`average_over={}` would merge into the search's lists, not
           # replace them: each trial would run its three group sizes)
           "hydra.sweeper.average_over={group.size:[2],group.index:[1]}"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_digits_search_runs_on_dev_groups_and_resumes(tmp_path):
    first = _search(tmp_path, 1)
    assert first.returncode == 0, first.stderr[-3000:]
    storage = f"sqlite:///{tmp_path / 'optuna' / 'digits_optuna.db'}"
    assert len(optuna.load_study(study_name="digits_optuna", storage=storage).trials) == 1
    again = _search(tmp_path, 2)
    assert again.returncode == 0, again.stderr[-3000:]
    trials = optuna.load_study(study_name="digits_optuna", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"] and 0.5 < trials[0].value <= 1
    sweep = tmp_path / "optuna" / "digits_optuna"
    assert (sweep / "trials.csv").exists()
    paths = sorted(sweep.rglob("results.json"))
    records = {p.relative_to(sweep).parts[0]: read_complete(p) for p in paths}
    assert sorted(records) == ["trial_0000", "trial_0001"] and len(paths) == 2  # one run per trial
    for t in trials:
        record = records[f"trial_{t.number:04d}"]
        assert record is not None, f"trial {t.number}: results.json is not a complete record"
        assert record["group"]["split"] == "dev"  # trials never touch the table's groups
        assert (record["group"]["size"], record["group"]["index"]) == (2, 1)
        assert record["auroc"] == pytest.approx(t.value)  # the trial's value is its run's test AUROC


def test_a_baseline_is_tuned_on_dev_groups_like_any_run(tmp_path):
    cmd = [sys.executable, "-m", "msvdd", "-m", "hparams_search=digits_knn_optuna", f"paths.root_dir={tmp_path}",
           "hydra.sweeper.n_trials=3"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    storage = f"sqlite:///{tmp_path / 'optuna' / 'digits_knn_optuna.db'}"
    trials = optuna.load_study(study_name="digits_knn_optuna", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3 and all(0.8 < t.value <= 1 for t in trials)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 3  # three different settings tried
    records = [json.loads(p.read_text()) for p in (tmp_path / "optuna" / "digits_knn_optuna").rglob("results.json")]
    assert len(records) == 9  # 3 trials x dev groups of sizes 2, 3, 4
    assert {r["method"] for r in records} == {"knn"} and {r["group"]["split"] for r in records} == {"dev"}
    # a baseline's options are recorded under settings: its model and its feature space
    tried = {(r["settings"]["model"]["n_neighbors"], r["settings"]["features"]["n_components"]) for r in records}
    assert tried == {(t.params["model.n_neighbors"], t.params["features.n_components"]) for t in trials}
