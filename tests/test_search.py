"""The shipped Optuna search on the real app: dev groups only, SQLite study that resumes."""

import json
import subprocess
import sys

import optuna
import pytest
from conftest import ROOT, run_msvdd

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


# ---------------------------------------------------------------------------- a search's mistakes and failures
ONE_JOB = "hydra.sweeper.average_over={group.size:[2],group.index:[0]}"  # one run per trial
TINY_SEARCH = ["pretrain.epochs=1", "train.epochs=1", "plots=false", ONE_JOB]


def _error_lines(proc) -> list:
    return [line for line in proc.stderr.splitlines() if line.startswith("msvdd: error:")]


def test_a_search_whose_trials_all_fail_exits_1_says_how_many_and_claims_only_its_files(tmp_path):
    proc = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.n_trials=2", "seed=-1",
                     *TINY_SEARCH)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    (line,) = _error_lines(proc)
    assert line.startswith("msvdd: error: 2 of 2 trials of study 'digits_optuna' failed"), line
    assert "seed=-1 is not allowed" in proc.stderr
    out = proc.stdout + proc.stderr
    (wrote,) = [x for x in out.splitlines() if x.startswith("wrote ")]
    claimed = wrote[len("wrote "):].rsplit(" to ", 1)[0].split(", ")
    sweep = tmp_path / "optuna" / "digits_optuna"
    assert claimed == ["trials.csv"] and (sweep / "trials.csv").is_file()
    assert not (sweep / "best.yaml").exists() and not (sweep / "best_experiment.yaml").exists()
    again = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.n_trials=2", "seed=-1",
                      *TINY_SEARCH)  # resumed: nothing left to run, and still no result
    assert again.returncode == 1 and "no complete trial" in _error_lines(again)[0], again.stderr[-3000:]


def test_resuming_a_study_with_other_fixed_settings_is_refused_in_one_line(tmp_path):
    first = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.n_trials=1", "seed=-1",
                      *TINY_SEARCH)  # its one trial fails at once; the study and its settings are stored
    assert "trial 0: FAIL" in first.stdout, first.stderr[-3000:]
    storage = f"sqlite:///{tmp_path / 'optuna' / 'digits_optuna.db'}"
    proc = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.n_trials=2", "seed=-1",
                     "pretrain.epochs=1", "train.epochs=3", "plots=false", ONE_JOB, "dataset.normal_classes=[5]")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = _error_lines(proc)
    assert "train.epochs=1 in the study, train.epochs=3 now" in line, line
    assert "dataset.normal_classes not set in the study, dataset.normal_classes=[5] now" in line, line
    assert "hydra.sweeper.study_name=digits_optuna_2" in line, line
    assert len(optuna.load_study(study_name="digits_optuna", storage=storage).trials) == 1  # nothing ran
    # what only changes where and how the outputs go (plots, threads, paths.*) does not split a study
    same = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.n_trials=1", "seed=-1",
                     "pretrain.epochs=1", "train.epochs=1", "plots=true", "threads=2", ONE_JOB)
    assert same.returncode == 1 and "no complete trial" in _error_lines(same)[0], same.stderr[-3000:]


def test_another_direction_on_an_existing_study_is_one_line_exit_2(tmp_path):
    db = tmp_path / "optuna" / "digits_optuna.db"
    db.parent.mkdir(parents=True)
    optuna.create_study(study_name="digits_optuna", storage=f"sqlite:///{db}", direction="maximize")
    proc = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.direction=minimize",
                     *TINY_SEARCH)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr[-3000:]
    assert proc.stderr.startswith("msvdd: error: hydra.sweeper.direction='minimize': study 'digits_optuna'")
    assert "created to maximize" in proc.stderr


def test_an_unknown_sampler_is_one_line_naming_the_field_and_the_samplers(tmp_path):
    proc = run_msvdd(tmp_path, "-m", "hparams_search=digits_optuna", "hydra.sweeper.sampler=tpee", *TINY_SEARCH)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr[-3000:]
    assert proc.stderr == "msvdd: error: hydra.sweeper.sampler='tpee' is not allowed; allowed: tpe, random, cmaes\n"
    assert not (tmp_path / "optuna" / "digits_optuna.db").exists()  # refused before a study exists
