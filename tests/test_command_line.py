"""``python -m msvdd`` as a user types it: Hydra's own errors about the command line are one line with exit 2
(naming the close existing key), rules about what the user typed (``group.size`` with
``dataset.normal_classes``, a checkpoint's settings), and Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, TINY, run_msvdd


def _one_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize("args,line", [
    (["pretrain.epoch=3"], "msvdd: error: pretrain.epoch=3: unknown key (did you mean pretrain.epochs?); "
                           "allowed: the fields of pretrain: "),
    (["dataset.normal_clases=[1]"], "msvdd: error: dataset.normal_clases=[1]: unknown key (did you mean "
                                    "dataset.normal_classes?)"),
    (["train.milestones=[abc]"], "msvdd: error: train.milestones=['abc']: not a list of epoch numbers"),
    (["hydra.sweeper.sampler=tpee"], "msvdd: error: hydra.sweeper.sampler='tpee': unknown key; allowed: "
                                     "the fields of hydra.sweeper: "),
    (["-m", "hparams_search=digits_optuna", "hydra.sweeper.sampler=tpee"], "msvdd: error: hydra.sweeper.sampler"),
    (["dataset=svhn"], "msvdd: error: dataset=svhn: no such option; allowed: arrays, cifar10, digits, "),
    (["train.lr=nan"], "msvdd: error: train.lr=nan: not a finite number"),
    (["plots=maybe"], "msvdd: error: plots='maybe': not a bool"),
    (["group.size=2", "+group.indx=3"], "msvdd: error: group.indx=3: unknown key (did you mean group.index?)"),
    (["group.size=2", "dataset.normal_classes=[4,5]"],
     "msvdd: error: group.size=2: given with dataset.normal_classes=[4, 5]: both say which classes are normal; "
     "allowed: one of them"),
])
def test_command_line_mistakes_are_one_line_with_exit_2(tmp_path, args, line):
    flags = [a for a in args if a.startswith("-")]
    proc = run_msvdd(tmp_path, *flags, *TINY, *[a for a in args if a not in flags], timeout=120)  # the mistake last
    assert _one_line(proc).startswith(line)
    assert not list(tmp_path.rglob("results.json"))


def test_group_size_alone_still_runs_its_group(tmp_path):
    proc = run_msvdd(tmp_path, "group.size=2", "group.index=1", *TINY, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(next(tmp_path.rglob("results.json")).read_text())
    assert record["normal_classes"] == [4, 9]
    # the last line names the run's folder (outputs/runs/<date>/<time>-<pid>), where results.json is
    *_, date, time_pid = proc.stdout.strip().splitlines()[-1].removeprefix("msvdd: wrote ").split("/")
    assert (tmp_path / "runs" / date / time_pid / "results.json").is_file()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", date) and re.fullmatch(r"\d\d-\d\d-\d\d-\d+", time_pid)


def test_checkpoint_warning_names_only_what_was_typed(tmp_path):
    trained = run_msvdd(tmp_path / "a", "method=svdd_one", *TINY, timeout=300)  # no clustering: quicker
    assert trained.returncode == 0, trained.stderr[-2000:]
    ckpt = next((tmp_path / "a").rglob("model.pt"))
    quiet = run_msvdd(tmp_path / "b", f"ckpt_path={ckpt}", "plots=false", timeout=300)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "ignoring" not in quiet.stdout + quiet.stderr  # pretrain.epochs=150 (the default) was never typed
    typed = run_msvdd(tmp_path / "c", f"ckpt_path={ckpt}", "plots=false", "train.lr=0.5", timeout=300)
    warned = [ln for ln in (typed.stdout + typed.stderr).splitlines() if "ignoring" in ln]
    assert typed.returncode == 0 and len(warned) == 1, typed.stderr[-2000:]
    assert "train.lr=0.5 (checkpoint: 0.0001)" in warned[0] and "epochs" not in warned[0]


def test_ctrl_c_on_a_run_is_one_line_and_exit_130(tmp_path):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path)}
    # a shell that starts the suite in the background (CI under `cmd &`) hands its children SIGINT ignored:
    # give the run the default disposition, as a terminal's Ctrl-C finds it
    proc = subprocess.Popen([sys.executable, "-m", "msvdd", "pretrain.epochs=100000", "plots=false"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not any("pretrain epoch" in p.read_text() for p in tmp_path.rglob("app.log")):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1 and "Traceback" not in err, err[-3000:]
    assert lines[0].startswith("msvdd: interrupted (Ctrl-C)")
    assert not list(tmp_path.rglob("results.json")) and not list(tmp_path.rglob(".msvdd.lock"))
