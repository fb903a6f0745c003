"""The shipped Optuna search on the real app: dev groups only, SQLite study that resumes."""

import subprocess
import sys

import optuna
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def _search(tmp_path, n_trials):
    cmd = [sys.executable, "-m", "msvdd", "-m", "hparams_search=digits_optuna", f"paths.root_dir={tmp_path}",
           f"hydra.sweeper.n_trials={n_trials}", "pretrain.epochs=2", "train.epochs=2",
           "hydra.sweeper.average_over={}", "group.size=2", "group.index=1"]
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
    assert (tmp_path / "optuna" / "digits_optuna" / "trials.csv").exists()
    for log in (tmp_path / "optuna" / "digits_optuna").rglob("results.json"):
        assert '"split": "dev"' in log.read_text()  # trials never touch the table's groups
