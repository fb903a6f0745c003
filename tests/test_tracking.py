"""logger=mlflow: a digits table sweep read back from its MLflow store; logger=none adds nothing; a tracker that
fails is one warning line and the runs' files are complete."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CONF, ROOT
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from msvdd.errors import ConfigError
from msvdd.run.compose import compose

SWEEP = ["-m", "experiment=table_digits", "network=digits_lenet", "group.size=2",
         "group.index=0", "seed=0", "method=svdd_one,knn,lof",
         "pretrain.epochs=2", "train.epochs=2"]


def _msvdd(tmp_path, *args, timeout=600):
    """``python -m msvdd ARGS`` in an empty working folder (a file written there is seen), outputs in tmp_path/out."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path / "out"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "msvdd", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _records(out):
    return {str(p.parent): json.loads(p.read_text()) for p in (out / "sweeps").rglob("results.json")}


def test_logger_mlflow_is_a_callback_after_the_table_and_none_is_nothing():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        none = hydra_compose("config", overrides=["experiment=table_digits"], return_hydra_config=True)
        tracked = hydra_compose("config", overrides=["experiment=table_digits", "logger=mlflow"],
                                return_hydra_config=True)
    GlobalHydra.instance().clear()
    assert "logger" not in none.hydra.callbacks and not none.logger
    # Hydra ends callbacks in reverse order: the table is written before the tracker logs it
    assert list(tracked.hydra.callbacks)[-2:] == ["logger", "table"]
    assert tracked.logger.tracking_uri is None and tracked.logger.store.endswith("mlflow")


def test_a_mistyped_logger_field_stops_at_composition(make_cfg):
    with pytest.raises(ConfigError) as err:
        compose(make_cfg("logger=mlflow", "+logger.tracking_ur=http://x"))
    assert str(err.value).startswith("logger.tracking_ur='http://x': unknown key (did you mean logger.tracking_uri?)")


@pytest.mark.slow
def test_a_table_sweep_is_one_mlflow_run_per_job_under_its_table(tmp_path):
    from mlflow.tracking import MlflowClient

    proc = _msvdd(tmp_path, *SWEEP, "logger=mlflow")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out"
    records = _records(out)
    assert len(records) == 3
    client = MlflowClient(f"sqlite:///{out / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("table_digits")
    runs = client.search_runs([experiment.experiment_id])
    jobs = {r.data.tags["run_dir"]: r for r in runs if r.data.tags.get("kind") == "job"}
    assert set(jobs) == set(records)  # one run per job
    for folder, record in records.items():
        run = jobs[folder]
        assert run.info.status == "FINISHED"
        assert run.data.metrics["auroc"] == record["auroc"]
        assert run.data.metrics["average_precision"] == record["average_precision"]
        assert {k: run.data.tags[k] for k in ("method", "dataset", "group_size", "group_index", "seed",
                                              "experiment")} == {
            "method": record["method"], "dataset": "digits", "group_size": "2", "group_index": "0", "seed": "0",
            "experiment": "table_digits"}
        assert run.data.tags["sweep"] == str(out / "sweeps" / "table_digits")
        assert run.data.tags["version.torch"] == record["versions"]["torch"]
        assert run.data.params["method"] == record["method"]
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"results.json", "model.pt", "hydra"} <= names
    one = jobs[next(f for f, r in records.items() if r["method"] == "svdd_one")]
    assert "model.n_neighbors" in jobs[next(f for f, r in records.items() if r["method"] == "knn")].data.params
    assert "network.rep_dim" in one.data.params and "network.rep_dim" not in jobs[
        next(f for f, r in records.items() if r["method"] == "knn")].data.params  # only what the run used
    losses = client.get_metric_history(one.info.run_id, "train_loss")
    assert [m.step for m in losses] == [0, 1]  # one value per epoch, the last one the record's final loss
    assert losses[-1].value == json.loads((Path(one.data.tags["run_dir"]) / "results.json").read_text())["final_loss"]
    assert [m.step for m in client.get_metric_history(one.info.run_id, "pretrain_loss")] == [0, 1]
    tables = [r for r in runs if r.data.tags.get("kind") == "table"]
    assert len(tables) == 1
    table = tables[0]
    assert {"table.md", "table.csv", "auroc.png"} <= {a.path for a in client.list_artifacts(table.info.run_id)}
    assert all(r.data.tags["mlflow.parentRunId"] == table.info.run_id for r in jobs.values())
    assert table.data.metrics["knn_mean.size2"] == pytest.approx(
        100 * next(r["auroc"] for r in records.values() if r["method"] == "knn"))
    assert list((tmp_path / "cwd").iterdir()) == []  # the store and its files are under outputs/, not ./mlruns

    again = _msvdd(tmp_path, *SWEEP, "logger=mlflow")  # a resumed sweep: every job skipped, nothing logged twice
    assert again.returncode == 0, again.stderr[-3000:]
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["kind"] for r in runs) == ["job", "job", "job", "table"]


@pytest.mark.slow
def test_logger_none_writes_only_the_runs_folders(tmp_path):
    proc = _msvdd(tmp_path, *SWEEP[:-3], "method=knn,lof")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out"
    assert "mlflow" not in {p.name for p in out.iterdir()}
    assert list((tmp_path / "cwd").iterdir()) == []
    assert "not tracked" not in proc.stdout + proc.stderr
    config = (next((out / "sweeps").rglob("results.json")).parent / ".hydra" / "hydra.yaml").read_text()
    assert "msvdd.tracking" not in config  # no tracking callback at all


@pytest.mark.slow
def test_a_failing_tracker_is_one_warning_and_the_run_is_complete(tmp_path):
    unreachable = _msvdd(tmp_path, *SWEEP[:-3], "method=knn,lof", "logger=mlflow",
                         "logger.tracking_uri=http://127.0.0.1:9")  # nothing listens on the discard port
    assert unreachable.returncode == 0, unreachable.stderr[-3000:]
    lines = [line for line in (unreachable.stdout + unreachable.stderr).splitlines() if "not tracked" in line]
    assert len(lines) == 1 and "http://127.0.0.1:9" in lines[0]  # once for the sweep, not once per job
    assert {r["method"] for r in _records(tmp_path / "out").values()} == {"knn", "lof"}

    db = tmp_path / "locked.db"
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        locked = _msvdd(tmp_path, "method=knn", "plots=false", "logger=mlflow", f"logger.tracking_uri=sqlite:///{db}")
    finally:
        lock.close()
    assert locked.returncode == 0, locked.stderr[-3000:]
    lines = [line for line in (locked.stdout + locked.stderr).splitlines() if "not tracked" in line]
    assert len(lines) == 1 and "database is locked" in lines[0]
    run = next((tmp_path / "out" / "runs").rglob("results.json"))
    assert json.loads(run.read_text())["status"] == "complete" and (run.parent / "model.pt").is_file()


@pytest.mark.slow
def test_optuna_trials_are_runs_of_their_study_with_the_trial_number(tmp_path):
    from mlflow.tracking import MlflowClient

    search = ["-m", "hparams_search=digits_knn_optuna"]
    first = _msvdd(tmp_path, *search, "hydra.sweeper.n_trials=1")  # a study begun without a tracker...
    assert first.returncode == 0, first.stderr[-3000:]
    again = _msvdd(tmp_path, *search, "hydra.sweeper.n_trials=2", "logger=mlflow")  # ...resumes with one
    assert again.returncode == 0, again.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{tmp_path / 'out' / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("digits_knn_optuna")
    runs = client.search_runs([experiment.experiment_id])
    trials = {r.data.tags["trial"]: r for r in runs if r.data.tags["kind"] == "trial"}
    assert sorted(trials) == ["0", "1"]  # every trial of the study, the untracked one's value included
    jobs = [r for r in runs if r.data.tags["kind"] == "job"]
    assert len(jobs) == 3 and {r.data.tags["trial"] for r in jobs} == {"1"}  # trial 1 averaged 3 class groups
    assert all(r.data.tags["study"] == "digits_knn_optuna" for r in jobs)
    assert all(r.data.tags["mlflow.parentRunId"] == trials["1"].info.run_id for r in jobs)
    assert trials["1"].data.metrics["value"] == pytest.approx(sum(r.data.metrics["auroc"] for r in jobs) / 3)
    assert "model.n_neighbors" in trials["1"].data.params
    study = next(r for r in runs if r.data.tags["kind"] == "study")
    assert "trials.csv" in {a.path for a in client.list_artifacts(study.info.run_id)}
