"""Issue 12: failures stay local and readable. Errors cross process boundaries, one bad job does not
kill a sweep, runs never share a folder, every user mistake is one line with exit 2."""

import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from msvdd.errors import (
    ConfigError,
    DataNotFoundError,
    FolderInUseError,
    JobError,
    OutputError,
    TrainingDivergedError,
    portable,
)
from msvdd.run.job import run

TINY = ["pretrain.epochs=2", "train.epochs=2", "plots=false", "threads=1"]


def _msvdd(tmp_path, *args, env=None, timeout=300):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path), **(env or {})}
    return subprocess.run([sys.executable, "-m", "msvdd", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


# ------------------------------------------------------------------ 1. a bad job must not kill the sweep
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
    assert proc.returncode == 0, proc.stderr[-3000:]
    import optuna

    (trial,) = optuna.load_study(study_name="fail_one", storage=f"sqlite:///{tmp_path / 'study.db'}").trials
    assert trial.state.name == "FAIL"
    assert trial.user_attrs["fail_reason"] == ("[train.lr=-1] ConfigError: train.lr=-1 is not allowed; "
                                               "allowed: a positive number")
    assert len(list(tmp_path.rglob("results.json"))) == 1  # the good job of the trial ran


# ------------------------------------------------------------------ 2. runs never share a folder
def test_a_folder_held_by_a_live_run_is_refused(make_cfg, tmp_path):
    from msvdd.run.folder_lock import own_folder

    out = tmp_path / "run"
    out.mkdir()
    with own_folder(out):
        with pytest.raises(FolderInUseError, match=f"pid@host {os.getpid()}@"):
            run(make_cfg(*TINY), out)
    assert not (out / "results.json").exists()
    assert not (out / ".msvdd.lock").exists()  # removed by its owner at the end
    with own_folder(out):  # and free again
        pass
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_runs_started_together_get_their_own_folders(tmp_path):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-m", "msvdd", f"seed={s}", *TINY], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for s in range(3)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0], [p.stderr.read()[-2000:] for p in procs]
    found = {json.loads(p.read_text())["seed"]: p.parent for p in tmp_path.rglob("results.json")}
    assert sorted(found) == [0, 1, 2] and len(set(found.values())) == 3


# ------------------------------------------------------------------ 9. one line where a traceback was
@pytest.mark.parametrize("override,field", [
    ("threads=0", "threads"),
    ("seed=99999999999999999999", "seed"),
    ("seed=-1", "seed"),
    ("+epochs=5", "epochs"),
    ("+train.foo=1", "train.foo=1: unknown key"),
    ("dataset.normal_classes=abc", "dataset.normal_classes='abc'"),
    pytest.param("train.device=cuda", "train.device", marks=pytest.mark.skipif(
        __import__("torch").cuda.is_available(), reason="a GPU is present")),
])
def test_config_mistakes_are_one_line_errors(make_cfg, tmp_path, override, field):
    with pytest.raises(ConfigError) as err:
        run(make_cfg(override), tmp_path / "run")
    assert str(err.value).startswith(field) and "allowed" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run" / "results.json").exists()


def test_unknown_key_points_at_the_group_that_has_it(make_cfg, tmp_path):
    with pytest.raises(ConfigError, match=r"did you mean pretrain\.epochs or train\.epochs"):
        run(make_cfg("+epochs=5"), tmp_path / "run")


def test_a_bare_int_is_one_normal_class(make_cfg, tmp_path):
    run(make_cfg("dataset.normal_classes=5", *TINY), tmp_path / "run")
    record = json.loads((tmp_path / "run" / "results.json").read_text())
    assert record["normal_classes"] == [5] and record["n_train"] > 100


@pytest.mark.parametrize("args,where", [
    (["+epochs=5"], "msvdd: error: epochs=5: unknown top-level key"),
    (["-m", "seed=0,1"], "msvdd: error: the sweep folder"),
    ([], "msvdd: error: the run folder"),
])
def test_cli_one_line_and_exit_2(tmp_path, args, where):
    blocked = tmp_path / "a_file"  # an output root that is a file: nothing can be written under it
    blocked.write_text("")
    proc = _msvdd(blocked if args != ["+epochs=5"] else tmp_path, *args, *TINY, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(where) and "Traceback" not in proc.stderr


def test_full_disk_is_one_line_and_leaves_no_temp_file(tmp_path):
    from msvdd.app import user_error
    from msvdd.files import write_atomic

    def fill(tmp):
        Path(tmp).write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device", tmp)

    with pytest.raises(OSError) as err:
        write_atomic(tmp_path / "model.pt", fill)
    assert list(tmp_path.iterdir()) == []
    line = user_error(err.value)
    assert isinstance(line, OutputError) and "No space left on device" in str(line) and "\n" not in str(line)


# ------------------------------------------------------------------ 10. silent oddities
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


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_killing_the_sweep_stops_its_joblib_workers(tmp_path):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path)}
    cmd = [sys.executable, "-m", "msvdd", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=0,1",
           "pretrain.epochs=3000", "train.epochs=2", "plots=false", "threads=1", "paths.cache_dir=null"]
    sweep = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(list(tmp_path.rglob("app.log"))) < 2 and time.time() < deadline:  # both jobs started
        time.sleep(0.5)
    workers = [pid for pid in _children(sweep.pid) if "loky" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(workers) >= 2 and sweep.poll() is None
    sweep.send_signal(signal.SIGKILL)
    sweep.wait()
    deadline = time.time() + 30
    while any(_running(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.5)
    left = [pid for pid in workers if _running(pid)]
    for pid in left:  # leave nothing behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, "joblib workers still train after the sweep was killed"
    assert not list(tmp_path.rglob("results.json"))


# ------------------------------------------------------------------ 7, 9. study and table tools
def _small_study(path: Path) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="small", storage=f"sqlite:///{path}")
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=3)


def test_study_show_writes_under_msvdd_outputs(tmp_path, monkeypatch):
    from msvdd.study import main as study_main

    _small_study(tmp_path / "s.db")
    monkeypatch.setenv("MSVDD_OUTPUTS", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    assert study_main(["show", "--storage", str(tmp_path / "s.db")]) == 0
    assert (tmp_path / "elsewhere" / "optuna" / "small" / "trials.csv").is_file()
    assert not (tmp_path / "outputs").exists()


def test_corrupt_study_storage_is_one_line_naming_the_file(tmp_path, capsys):
    from msvdd.study import main as study_main

    bad = tmp_path / "study.db"
    bad.write_bytes(bytes(range(256)) * 20)
    assert study_main(["show", "--storage", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(bad) in err and "cannot be read" in err
    proc = _msvdd(tmp_path, "-m", "hparams_search=digits_optuna", f"hydra.sweeper.storage={bad}", timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"msvdd: error: the Optuna storage {bad} cannot be read")


def test_table_out_at_a_file_is_one_line(make_cfg, tmp_path, capsys):
    from msvdd.table import main as table_main

    run(make_cfg(*TINY), tmp_path / "sweeps" / "job")
    (tmp_path / "a_file").write_text("")
    assert table_main([str(tmp_path / "sweeps"), "--out", str(tmp_path / "a_file"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"msvdd-table: cannot write the table to {tmp_path / 'a_file'}: File exists"
