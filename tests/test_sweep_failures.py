"""Sweeps survive their failures: errors cross process boundaries with their message, one bad job fails
alone and is listed, a killed sweep stops its workers, a job whose result is not a number runs again."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TINY
from conftest import run_msvdd as _msvdd

from msvdd.errors import (
    ConfigError,
    DataNotFoundError,
    JobError,
    TrainingDivergedError,
    portable,
)
from msvdd.run.job import run


@pytest.mark.parametrize("err", [
    ConfigError("train.lr", -1.0, "a positive number"),
    ConfigError("dataset.normal_classes", [0, 12], "ids in 0..9", "class ids out of range: [12]"),
    DataNotFoundError("mnist", "/data/MNIST", ["train-images-idx3-ubyte.gz"], "no network"),
    TrainingDivergedError("train: loss became nan in epoch 3"),
])
def test_errors_survive_pickling_with_their_message(err):
    # sweep workers send their error back pickled; one that cannot be rebuilt kills the whole batch
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and back.__dict__ == err.__dict__


def test_an_error_that_cannot_be_pickled_travels_as_its_reason():
    class Stubborn(RuntimeError):
        def __init__(self, a, b):
            super().__init__(f"{a} and {b}\nsecond line")

    stand_in = portable(Stubborn("x", "y"))
    assert isinstance(stand_in, JobError) and str(stand_in) == "Stubborn: x and y second line"
    assert str(pickle.loads(pickle.dumps(stand_in))) == str(stand_in)
    plain = ValueError("fine")
    assert portable(plain) is plain


@pytest.mark.slow
@pytest.mark.parametrize("launcher", [
    ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"],
])
def test_one_bad_job_fails_alone_and_the_sweep_says_so(tmp_path, launcher):
    proc = _msvdd(tmp_path, "-m", *launcher, "train.lr=1e-3,-1,2e-3", *TINY)
    assert proc.returncode == 1, proc.stderr[-3000:]
    done = sorted(json.loads(p.read_text())["config"]["train"]["lr"] for p in tmp_path.rglob("results.json"))
    assert done == [1e-3, 2e-3]  # both good jobs ran to the end
    reason = [line for line in proc.stderr.splitlines() if "train.lr=-1 " in line]
    assert "1 of 3 sweep jobs failed" in proc.stderr and "Traceback" not in proc.stderr
    assert len(reason) == 1 and reason[0].endswith("train.lr=-1 is not allowed; allowed: a positive number")


@pytest.mark.slow
def test_optuna_search_on_joblib_records_the_failed_jobs_reason(tmp_path):
    search = tmp_path / "conf" / "hparams_search"
    search.mkdir(parents=True)
    (search / "fail_one.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /hydra/sweeper: msvdd_optuna\nname: fail_one\n"
        "hydra:\n  sweeper:\n    storage: ${paths.root_dir}/study.db\n    n_trials: 1\n    report: false\n"
        "    average_over:\n      train.lr: [-1, 0.001]\n")
    proc = _msvdd(tmp_path, "-m", "hparams_search=fail_one", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
                  "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY)
    assert proc.returncode == 1, proc.stderr[-3000:]  # a search with a failed trial says so
    assert "msvdd: error: 1 of 1 trials of study 'fail_one' failed" in proc.stderr
    import optuna

    (trial,) = optuna.load_study(study_name="fail_one", storage=f"sqlite:///{tmp_path / 'study.db'}").trials
    assert trial.state.name == "FAIL"
    assert trial.user_attrs["fail_reason"] == ("[train.lr=-1] ConfigError: train.lr=-1 is not allowed; "
                                               "allowed: a positive number")
    assert len(list(tmp_path.rglob("results.json"))) == 1  # the good job of the trial ran

@pytest.mark.parametrize("auroc", ["abc", None, float("nan"), True])
def test_resume_reruns_a_job_whose_auroc_is_not_a_number(make_cfg, tmp_path, auroc):
    out = tmp_path / "run"
    cfg = make_cfg(*TINY)
    first = run(cfg, out)
    record = json.loads((out / "results.json").read_text())
    record["auroc"] = auroc
    (out / "results.json").write_text(json.dumps(record))
    assert run(cfg, out) == pytest.approx(first)  # ran again (same seed, same result) ...
    assert json.loads((out / "results.json").read_text())["auroc"] == pytest.approx(first)  # ... and rewrote it


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def _descendants(pid: int) -> list[int]:
    return [d for c in _children(pid) for d in (c, *_descendants(c))]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("launcher, job_process", [
    (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], "loky"),  # workers: the sweep's children
    (["hydra/launcher=submitit_local"], "submitit.core._submit"),     # jobs: under submitit's controller
])
def test_killing_the_sweep_stops_its_local_jobs(tmp_path, launcher, job_process):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path)}
    cmd = [sys.executable, "-m", "msvdd", "-m", *launcher, "seed=0,1",
           "pretrain.epochs=3000", "train.epochs=2", "plots=false", "threads=1", "paths.cache_dir=null"]
    sweep = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list(tmp_path.rglob("app.log"))) < 2 and time.time() < deadline:  # both jobs started
        time.sleep(0.5)
    jobs = [pid for pid in _descendants(sweep.pid) if job_process in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(jobs) >= 2 and sweep.poll() is None
    sweep.send_signal(signal.SIGKILL)
    sweep.wait()
    deadline = time.time() + 60  # each job notices within its 2 s poll; a loaded machine may take longer
    while any(_running(pid) for pid in jobs) and time.time() < deadline:
        time.sleep(0.5)
    left = [pid for pid in jobs if _running(pid)]
    for pid in left:  # leave nothing behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{job_process} processes still train after the sweep was killed"
    assert not list(tmp_path.rglob("results.json"))


@pytest.mark.parametrize("launcher, stops", [
    ("hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", True),
    pytest.param("hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher", True,
                 marks=pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")),
    ("hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher", False),  # meant to outlive it
])
def test_a_local_worker_whose_sweep_died_before_its_job_started_stops_at_once(monkeypatch, launcher, stops):
    # the kill can land between Hydra's app.log and on_job_start: the worker is reparented before it watches
    from omegaconf import OmegaConf

    from msvdd.run import job_guards

    stopped = []
    monkeypatch.setattr(job_guards, "stop", stopped.append)
    gone = os.getppid() + 1_000_000  # neither this process nor its parent
    monkeypatch.setenv(job_guards.SWEEP_PID, str(gone))
    job_guards.StopWithSweep().on_job_start(OmegaConf.create({"hydra": {"launcher": {"_target_": launcher}}}))
    assert stopped == ([gone] if stops else [])
