"""msvdd's Hydra sweeper plugin (hydra_plugins/msvdd_optuna_sweeper), its search space and storage
(msvdd/tuning), and the study report (``msvdd.reports.study``, ``python -m msvdd.study``).

End-to-end tests run the toy Hydra app ``tests/optuna_toy/app.py`` (value = -(x-2)^2 + y +
bonus.value + k) as ``app.py -m hparams_search=toy`` subprocesses.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hydra_plugins.msvdd_optuna_sweeper.sweeper import MsvddOptunaSweeper
from hydra_plugins.msvdd_optuna_sweeper.trials import _Heartbeat
from msvdd.tuning.search_space import expand_average_over, parse_search_space
from msvdd.tuning.storage import open_storage, storage_spec

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "tests" / "optuna_toy" / "app.py"

TRIAL_LINE = re.compile(r"\] trial (\d+): (value=|FAIL)")


# ---------------------------------------------------------------------------- helpers
def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["HYDRA_FULL_ERROR"] = "1"
    return env


def _cmd(tmp: Path, storage: str, *overrides: str, sweep: str = "sweep", report: bool = False) -> list:
    return [
        sys.executable,
        str(APP),
        "-m",
        "hparams_search=toy",
        f"hydra.sweep.dir={tmp / sweep}",
        f"hydra.sweeper.storage={tmp / storage}",
        f"hydra.sweeper.report={'true' if report else 'false'}",
        *overrides,
    ]


def run_app(tmp: Path, storage: str, *overrides: str, code: int = 0, **kw) -> str:
    """Run the toy search; ``code`` is the exit status it must end with (1: a trial failed)."""
    proc = subprocess.run(
        _cmd(tmp, storage, *overrides, **kw),
        check=False,
        cwd=tmp,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    return out


def start_app(tmp: Path, storage: str, *overrides: str, log_name: str, **kw) -> subprocess.Popen:
    with open(tmp / log_name, "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            _cmd(tmp, storage, *overrides, **kw), cwd=tmp, env=_env(), stdout=log, stderr=subprocess.STDOUT
        )


def load(path: Path, name: str = "toy"):
    storage = open_storage(storage_spec(str(path)), must_exist=True)
    return optuna.load_study(study_name=name, storage=storage)


def toy_value(params: dict, k: float = 0.0, **fixed) -> float:
    p = {**fixed, **params}
    bonus = 1 if p.get("bonus") == "one" else 0
    return -((p["x"] - 2.0) ** 2) + p["y"] + bonus + k


# ---------------------------------------------------------------------------- unit tests
def test_parse_each_search_space_form():
    params = {
        "train.lr": "tag(log, interval(1e-5, 1e-2))",
        "dropout": "interval(0.1, 1.0)",
        "width": "interval(8, 64)",
        "epochs": "range(10, 50, step=10)",
        "depth": "range(1,5)",
        "act": "relu,tanh,gelu",
        "objective": "choice(one_class,soft_boundary)",
        "opt": "choice(null, adam, 'null')",
        "wd": [0.0, None],
        "train.epochs": 3,
    }
    space, fixed = parse_search_space(params, ["pinned=1", "act=elu,selu", "extra=choice(a,b)", "depth=2"])

    lr = space["train.lr"].distribution()
    assert type(lr).__name__ == "FloatDistribution" and lr.log and (lr.low, lr.high) == (1e-5, 1e-2)
    d = space["dropout"].distribution()
    assert type(d).__name__ == "FloatDistribution" and not d.log and (d.low, d.high) == (0.1, 1.0)
    w = space["width"].distribution()
    assert type(w).__name__ == "IntDistribution" and (w.low, w.high, w.step) == (8, 64, 1)
    e = space["epochs"].distribution()  # Hydra's range stop is exclusive
    assert type(e).__name__ == "IntDistribution" and (e.low, e.high, e.step) == (10, 40, 10)
    assert space["objective"].choices == ("one_class", "soft_boundary")
    assert space["objective"].override("soft_boundary") == "objective=soft_boundary"
    # null in a choice (Hydra's choice() rejects it; the plugin maps it back) and the quoted string 'null'
    opt = space["opt"]
    assert opt.choices == (None, "adam", "null")
    assert opt.override(None) == "opt=null" and opt.override("null") == "opt='null'"
    assert space["wd"].choices == (0.0, None) and space["wd"].override(None) == "wd=null"
    # command line: a plain value pins/fixes, a comma list replaces, choice() adds
    assert space["act"].choices == ("elu", "selu")
    assert space["extra"].choices == ("a", "b")
    assert "depth" not in space
    assert fixed == ["train.epochs=3", "pinned=1", "depth=2"]
    simple, _ = parse_search_space({"act": "relu,tanh,null", "depth": "range(1,5)"})
    assert simple["act"].choices == ("relu", "tanh", None)
    assert (simple["depth"].low, simple["depth"].high, simple["depth"].step) == (1, 4, 1)
    log_int, _ = parse_search_space({"n": "tag(log, interval(1, 1000))"})
    assert log_int["n"].kind == "int" and log_int["n"].log

    assert expand_average_over({"group.index": [0, 1, 2]}) == [
        ["group.index=0"],
        ["group.index=1"],
        ["group.index=2"],
    ]
    assert expand_average_over({"a": [1, 2], "b": "x,y"}) == [
        ["a=1", "b=x"],
        ["a=1", "b=y"],
        ["a=2", "b=x"],
        ["a=2", "b=y"],
    ]
    assert expand_average_over({}) == [[]]


def test_cmaes_rejects_categorical_params():
    sweeper = MsvddOptunaSweeper(sampler="cmaes")
    sweeper.space, _ = parse_search_space(
        {"x": "interval(0, 1)", "objective": "choice(a,b)", "act": "relu,tanh"}
    )
    with pytest.raises(ValueError, match="objective, act"):
        sweeper._make_sampler(0)


def test_concurrent_ask_over_budget_is_discarded_not_run():
    """Without a file lock (database server), a trial that lost the ask race is discarded."""
    sweeper = MsvddOptunaSweeper(n_trials=1, heartbeat_interval=None)
    sweeper.spec = storage_spec("sqlite://")  # in-memory: no lock file
    study = optuna.create_study(storage=open_storage(sweeper.spec), direction="maximize")
    sweeper.study, sweeper.space = study, {}
    sweeper._heartbeat = _Heartbeat(study, study._storage, None, None, None)
    real_ask = study.ask
    others = []

    def racing_ask(*args, **kwargs):  # another worker asks between our count and our ask
        others.append(real_ask())
        return real_ask(*args, **kwargs)

    study.ask = racing_ask
    assert sweeper._ask() is None
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.RUNNING, TrialState.PRUNED]
    assert "discarded" in study.get_trials()[1].user_attrs
    study.tell(others[0], 1.0)
    assert sweeper._ask() is None  # budget (1) used by the other worker's trial


def test_n_trials_counts_trials_that_ran_not_lost_ones():
    from hydra_plugins.msvdd_optuna_sweeper.trials import budget_count

    study = optuna.create_study()
    for state, attrs in [
        (TrialState.COMPLETE, {}),
        (TrialState.FAIL, {"fail_reason": "ValueError: boom"}),  # its jobs failed: counts
        (TrialState.FAIL, {}),  # stale: its worker died, no result
        (TrialState.FAIL, {"lost": "lost: launcher error: TerminatedWorkerError"}),
        (TrialState.PRUNED, {"discarded": "discarded before running"}),
    ]:
        study.add_trial(optuna.trial.create_trial(state=state, value=1.0 if state == TrialState.COMPLETE else None,
                                                  user_attrs=attrs))
    study.ask()  # running
    assert budget_count(study.get_trials()) == 3


def test_a_study_keeps_its_fixed_settings():
    from msvdd.tuning.study_settings import FIXED_ATTR, StudySettingsError, check_fixed_settings

    def check(study, *fixed, combos=([],)):
        check_fixed_settings(study, list(fixed), list(combos), where="db", hint=lambda: "NEW")

    study = optuna.create_study(study_name="s")
    check(study, "hparams_search=toy", "train.epochs=1", "plots=false")
    assert study.user_attrs[FIXED_ATTR]["overrides"] == {"hparams_search": "hparams_search=toy",
                                                         "train.epochs": "train.epochs=1"}
    check(study, "train.epochs=1", "hparams_search=toy", "plots=true", "threads=4", "paths.root_dir=/x")
    with pytest.raises(StudySettingsError) as err:
        check(study, "hparams_search=toy", "train.epochs=3", "dataset.normal_classes=[5]")
    assert str(err.value) == (
        "study 's' in db ran with other fixed settings: train.epochs=1 in the study, train.epochs=3 now; "
        "dataset.normal_classes not set in the study, dataset.normal_classes=[5] now. Run it with the study's "
        "settings, or start a new study: NEW")
    with pytest.raises(StudySettingsError, match=r"average_over \[\] in the study, \[k=1; k=2\] now"):
        check(study, "hparams_search=toy", "train.epochs=1", combos=(["k=1"], ["k=2"]))

    legacy = optuna.create_study(study_name="old")  # stored before the settings were: read off its trials
    from optuna.distributions import FloatDistribution

    legacy.add_trial(optuna.trial.create_trial(
        params={"x": 1.0}, distributions={"x": FloatDistribution(0, 4)}, value=1.0,
        user_attrs={"overrides": ["hparams_search=toy", "train.epochs=1", "x=1.0"]}))
    with pytest.raises(StudySettingsError, match="train.epochs=1 in the study, train.epochs=3 now"):
        check(legacy, "hparams_search=toy", "train.epochs=3")
    check(legacy, "hparams_search=toy", "train.epochs=1")
    assert legacy.user_attrs[FIXED_ATTR]["overrides"]["train.epochs"] == "train.epochs=1"


# ---------------------------------------------------------------------------- the study report
def _png_drawn(path: Path) -> bool:
    import matplotlib.image

    pixels = matplotlib.image.imread(str(path))
    return path.read_bytes()[:4] == b"\x89PNG" and len({tuple(p) for p in pixels.reshape(-1, pixels.shape[-1])}) > 2


def _wrote(lines: list) -> list:
    (line,) = [x for x in "\n".join(lines).splitlines() if x.startswith("wrote ")]
    return line[len("wrote ") :].rsplit(" to ", 1)[0].split(", ")


def test_report_writes_trials_best_and_figures_from_optunas_api(tmp_path):
    import csv

    import yaml

    from msvdd.reports.study import STALE_REASON, report

    study = optuna.create_study(study_name="unit", direction="maximize")
    study.set_user_attr("msvdd_group_params", ["bonus"])
    space = {"x": (0.0, 4.0), "opt": [None, "adam"], "n": [16, 32], "bonus": ["none", "one"]}

    def add(value, state=TrialState.COMPLETE, **params):
        from optuna.distributions import CategoricalDistribution, FloatDistribution

        dists = {k: CategoricalDistribution(space[k]) if isinstance(space[k], list) else FloatDistribution(*space[k])
                 for k in params}
        texts = {None: "null"}
        overrides = [f"{k}={texts.get(v, v)}" for k, v in params.items()]
        attrs = {"overrides": ["hparams_search=toy", *overrides], "worker": "host:1"}
        if state == TrialState.FAIL and value == "boom":
            attrs["fail_reason"], value = "ValueError: boom", None
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value, state=state,
                                                  user_attrs=attrs))

    add(0.75, x=1.5, opt=None, n=16, bonus="none")
    add(1.0, x=2.0, opt="adam", n=32, bonus="one")
    add(0.5, x=3.0, opt="adam", n=16, bonus="none")
    add("boom", TrialState.FAIL, x=0.5)  # failed after sampling x only
    add(None, TrialState.FAIL)  # a stale trial: no reason recorded
    study.ask()  # a trial still running

    printed: list = []
    summary = report(study, tmp_path / "rep", echo=printed.append)
    rep = tmp_path / "rep"

    with open(rep / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
        header = list(rows[0])
    assert header[:6] == ["number", "state", "value", "duration_s", "datetime_start", "datetime_complete"]
    assert header[-3:] == ["fail_reason", "overrides", "worker"]
    assert sorted(header[6:-3]) == ["params_bonus", "params_n", "params_opt", "params_x"]
    assert [r["number"] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert [r["state"] for r in rows] == ["COMPLETE"] * 3 + ["FAIL", "FAIL", "RUNNING"]
    assert [r["value"] for r in rows] == ["0.75", "1.0", "0.5", "", "", ""]
    assert rows[0]["params_opt"] == "null" and rows[1]["params_opt"] == "adam"  # a null choice, not a blank
    assert [r["params_n"] for r in rows] == ["16", "32", "16", "", "", ""]  # ints stay ints beside a blank
    assert rows[3]["params_x"] == "0.5" and rows[3]["fail_reason"] == "ValueError: boom"
    assert rows[4]["fail_reason"] == STALE_REASON and rows[5]["fail_reason"] == ""
    assert rows[1]["overrides"] == "hparams_search=toy x=2.0 opt=adam n=32 bonus=one"
    assert rows[1]["worker"] == "host:1" and rows[5]["datetime_complete"] == ""
    assert rows[1]["datetime_start"] and rows[1]["datetime_complete"]

    best = yaml.safe_load((rep / "best.yaml").read_text())
    assert (best["study"], best["best_trial"], best["value"]) == ("unit", 1, 1.0)
    assert best["params"] == {"x": 2.0, "opt": "adam", "n": 32, "bonus": "one"}
    assert best["override_line"] == "x=2.0 opt=adam n=32 bonus=one"
    assert best["trials"] == {"COMPLETE": 3, "FAIL": 2, "RUNNING": 1}
    snippet = (rep / "best_experiment.yaml").read_text()
    assert snippet.startswith("# @package _global_\n# best of study 'unit': trial 1, value 1.0\n")
    assert yaml.safe_load(snippet) == {"defaults": [{"override /bonus": "one"}], "x": 2.0, "opt": "adam", "n": 32}

    assert _png_drawn(rep / "optimization_history.png") and _png_drawn(rep / "param_importances.png")
    assert sorted(summary["importances"]) == ["bonus", "n", "opt", "x"]
    assert _wrote(printed) == ["trials.csv", "best.yaml", "best_experiment.yaml", "optimization_history.png",
                               "param_importances.png"]
    assert sorted(p.name for p in rep.iterdir()) == sorted(_wrote(printed))  # no temp files left
    text = "\n".join(printed)
    assert "best trial 1: value=1.0" in text and "override line: x=2.0 opt=adam n=32 bonus=one" in text
    assert "not written" not in text


def test_report_claims_only_the_files_it_wrote(tmp_path):
    from msvdd.reports.study import report

    rep = tmp_path / "rep"
    rep.mkdir()
    for name in ("best.yaml", "best_experiment.yaml", "param_importances.png"):  # an earlier study's report
        (rep / name).write_text("old")
    study = optuna.create_study(study_name="young", direction="maximize")

    printed: list = []
    report(study, rep, echo=printed.append)
    assert (rep / "trials.csv").read_text().splitlines() == [
        "number,state,value,duration_s,datetime_start,datetime_complete,fail_reason,overrides,worker"
    ]
    assert _wrote(printed) == ["trials.csv"] and sorted(p.name for p in rep.iterdir()) == ["trials.csv"]
    text = "\n".join(printed)
    assert "not written: best.yaml (no completed trial yet); removed the earlier one" in text
    assert "not written: optimization_history.png (no completed trial yet (0 failed))" in text

    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)  # one complete trial: no importances
    printed.clear()
    report(study, rep, echo=printed.append)
    written = _wrote(printed)
    assert written == ["trials.csv", "best.yaml", "best_experiment.yaml", "optimization_history.png"]
    assert sorted(p.name for p in rep.iterdir()) == sorted(written)
    assert _png_drawn(rep / "optimization_history.png")
    assert "not written: param_importances.png (parameter importances need >= 2 complete trials" in "\n".join(printed)
    assert len((rep / "trials.csv").read_text().splitlines()) == 2


# ---------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_study_resumes_to_n_trials_and_show_writes_report(tmp_path, capsys):
    out1 = run_app(tmp_path, "s.db", "hydra.sweeper.n_trials=2")
    assert len(TRIAL_LINE.findall(out1)) == 2
    study = load(tmp_path / "s.db")
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2

    out2 = run_app(tmp_path, "s.db", "hydra.sweeper.n_trials=4")
    assert [int(n) for n, _ in TRIAL_LINE.findall(out2)] == [2, 3]
    out3 = run_app(tmp_path, "s.db", "hydra.sweeper.n_trials=4", report=True)
    assert TRIAL_LINE.findall(out3) == [] and "ran 0 trial(s)" in out3

    study = load(tmp_path / "s.db")
    trials = study.trials
    assert [t.number for t in trials] == list(range(4))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.params["x"] for t in trials}) == 4  # a seeded resume does not replay samples
    assert {t.params["opt"] for t in trials} == {None, "adam"}  # the app raises unless null round-trips
    for t in trials:
        assert t.value == pytest.approx(toy_value(t.params))
        assert "hparams_search=toy" in t.user_attrs["overrides"]
        assert f"opt={'null' if t.params['opt'] is None else 'adam'}" in t.user_attrs["overrides"]
        assert (tmp_path / "sweep" / f"trial_{t.number:04d}").is_dir()
    # the sweep's own report (report=true)
    for name in (
        "trials.csv",
        "best.yaml",
        "best_experiment.yaml",
        "optimization_history.png",
        "param_importances.png",
    ):
        assert (tmp_path / "sweep" / name).is_file(), name
    assert "override line: " in out3
    assert "wrote trials.csv, best.yaml, best_experiment.yaml, optimization_history.png, param_importances.png" in out3

    from msvdd import study as study_cli

    assert (
        study_cli.main(
            ["show", "--storage", str(tmp_path / "s.db"), "--study", "toy", "--out", str(tmp_path / "rep")]
        )
        == 0
    )
    printed = capsys.readouterr().out
    best = study.best_trial
    assert f"best trial {best.number}" in printed
    assert "# @package _global_" in printed and "override /bonus: " in printed
    rep = tmp_path / "rep"
    rows = (rep / "trials.csv").read_text().strip().splitlines()
    assert rows[0].startswith("number,state,value,duration_s") and "fail_reason" in rows[0] and len(rows) == 5
    import csv

    with open(rep / "trials.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(int(r["number"]), r["state"], float(r["value"]), float(r["params_x"])) for r in table] == [
        (t.number, "COMPLETE", t.value, t.params["x"]) for t in trials
    ]
    assert [r["params_opt"] for r in table] == ["null" if t.params["opt"] is None else "adam" for t in trials]
    import yaml

    best_doc = yaml.safe_load((rep / "best.yaml").read_text())
    assert best_doc["best_trial"] == best.number and best_doc["value"] == pytest.approx(best.value)
    assert best_doc["override_line"].split() == [
        o for o in best.user_attrs["overrides"] if o != "hparams_search=toy"
    ]
    for png in ("optimization_history.png", "param_importances.png"):
        assert (rep / png).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["s.db", "s.journal"])
def test_two_concurrent_workers_share_one_study(tmp_path, storage):
    n = 8
    # every trial waits until both workers have started one, so both surely take part
    args = (
        f"hydra.sweeper.n_trials={n}",
        "sleep=0.05",
        "hydra.sweeper.seed=null",
        f"barrier_dir={tmp_path / 'b'}",
    )
    workers = [start_app(tmp_path, storage, *args, log_name=f"w{i}.log") for i in range(2)]
    for w in workers:
        assert w.wait(timeout=180) == 0, (tmp_path / "w0.log").read_text() + (tmp_path / "w1.log").read_text()
    logged = [[int(m) for m, _ in TRIAL_LINE.findall((tmp_path / f"w{i}.log").read_text())] for i in range(2)]
    study = load(tmp_path / storage)
    trials = study.trials
    assert [t.number for t in trials] == list(range(n))  # exactly n_trials, distinct numbers
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(logged[0] + logged[1]) == list(range(n))  # each ran by exactly one worker, none lost
    assert len({t.user_attrs["worker"] for t in trials}) == 2, logged


@pytest.mark.slow
def test_failing_trials_are_recorded_and_study_goes_on(tmp_path):
    # command-line sweeps add to (mode) or replace (opt) search-space entries; on the command line
    # Hydra itself rejects null inside choice(), the comma form `null,adam` works
    out = run_app(
        tmp_path,
        "f.db",
        "hydra.sweeper.n_trials=8",
        "mode=choice(ok,fail,give_nan,give_none)",
        "opt=null,adam",
        code=1,
    )
    trials = load(tmp_path / "f.db").trials
    assert len(trials) == 8 and len(TRIAL_LINE.findall(out)) == 8
    expected = {
        "fail": "ValueError: toy failure at x=",
        "give_nan": "returned NaN",
        "give_none": "returned None",
    }
    for t in trials:
        if t.params["mode"] == "ok":
            assert t.state == TrialState.COMPLETE and "fail_reason" not in t.user_attrs
        else:
            assert t.state == TrialState.FAIL
            assert t.user_attrs["fail_reason"].startswith(expected[t.params["mode"]])
            assert "\n" not in t.user_attrs["fail_reason"]
    assert {t.state for t in trials} == {TrialState.COMPLETE, TrialState.FAIL}
    assert "FAIL (ValueError: toy failure" in out
    failed = sum(t.state == TrialState.FAIL for t in trials)
    assert f"msvdd: error: {failed} of 8 trials of study 'toy' failed" in out  # and the search exits 1


@pytest.mark.slow
def test_average_over_runs_the_product_and_reports_the_mean(tmp_path):
    run_app(
        tmp_path,
        "a.db",
        "hydra.sweeper.n_trials=2",
        "+hydra.sweeper.average_over.k=[1,2,6]",
        "x=1.0",  # pins a searched key for every trial
    )
    trials = load(tmp_path / "a.db").trials
    assert len(trials) == 2
    for t in trials:
        assert t.state == TrialState.COMPLETE and "x" not in t.params
        base = toy_value(t.params, x=1.0)
        assert t.user_attrs["values"] == pytest.approx([base + 1, base + 2, base + 6])
        assert t.value == pytest.approx(base + 3)
        assert t.user_attrs["average_over"] == ["k=1", "k=2", "k=6"]
        assert "x=1.0" in t.user_attrs["overrides"]
        assert sorted(p.name for p in (tmp_path / "sweep" / f"trial_{t.number:04d}").iterdir()) == [
            "0",
            "1",
            "2",
        ]


@pytest.mark.slow
def test_killed_worker_trial_is_failed_by_heartbeat_not_counted_complete(tmp_path):
    """Kill a worker of another machine mid-trial; on resume its RUNNING trial is marked FAIL (sqlite:
    Optuna's heartbeat, re-queued once; journal: the plugin's own heartbeat, not retried) and does not
    use up n_trials: the study still gets its n_trials trials that ran."""
    cases = {"k.db": 1, "k.journal": 0}
    hb = ("hydra.sweeper.n_trials=2", "hydra.sweeper.heartbeat_interval=1", "hydra.sweeper.grace_period=1")
    workers = {}
    for storage, retry in cases.items():
        marker = tmp_path / f"started-{storage}"
        workers[storage] = start_app(
            tmp_path,
            storage,
            *hb,
            f"hydra.sweeper.retry_stale_trials={retry}",
            "sleep_first=60",
            f"marker_dir={marker}",
            log_name=f"{storage}.log",
            sweep=f"sweep-{storage}",
        )
    deadline = time.time() + 60
    for storage, proc in workers.items():
        marker = tmp_path / f"started-{storage}"
        while not (marker.is_dir() and any(marker.iterdir())):
            assert proc.poll() is None and time.time() < deadline, (tmp_path / f"{storage}.log").read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    for storage in cases:
        running = load(tmp_path / storage).trials
        assert [t.state for t in running] == [TrialState.RUNNING]
        _as_if_on_another_machine(tmp_path / storage, running[0])  # only its heartbeat can tell it died
    time.sleep(2.2)  # > grace_period since the last heartbeat

    resumed = {
        storage: start_app(
            tmp_path,
            storage,
            *hb,
            f"hydra.sweeper.retry_stale_trials={retry}",
            "sleep_first=60",
            f"marker_dir={tmp_path / f'started-{storage}'}",
            log_name=f"{storage}.resume.log",
            sweep=f"sweep-{storage}",
        )
        for storage, retry in cases.items()
    }
    for storage, proc in resumed.items():
        assert proc.wait(timeout=120) == 0, (tmp_path / f"{storage}.resume.log").read_text()
        assert "stale RUNNING trial(s) [0] FAIL" in (tmp_path / f"{storage}.resume.log").read_text()

    sqlite_trials = load(tmp_path / "k.db").trials  # stale #0 failed, retried as #1, plus #2
    assert [t.state for t in sqlite_trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert sqlite_trials[1].params == sqlite_trials[0].params
    assert sqlite_trials[1].system_attrs["retry_history"] == [0]
    journal_trials = load(tmp_path / "k.journal").trials  # the stale trial does not use up budget
    assert [t.state for t in journal_trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]

    from msvdd.reports.study import fail_reason

    assert "heartbeat" in fail_reason(journal_trials[0])


def _as_if_on_another_machine(path: Path, trial) -> None:
    """Make ``trial``'s worker look like a process of another host (where its pid cannot be checked)."""
    storage = open_storage(storage_spec(str(path)), must_exist=True)
    who = {"host": "elsewhere", "pid": 1, "trial": trial.number}
    storage.set_trial_system_attr(trial._trial_id, "msvdd:process", who)  # trials.PROCESS_ATTR


def _wait_for_marker(marker: Path, proc: subprocess.Popen, log: Path) -> Path:
    deadline = time.time() + 60
    while not (marker.is_dir() and any(marker.iterdir())):
        assert proc.poll() is None and time.time() < deadline, log.read_text()
        time.sleep(0.1)
    (started,) = marker.iterdir()
    return started


@pytest.mark.slow
def test_a_killed_sweeps_trial_is_failed_at_once_on_resume_and_not_counted(tmp_path):
    """SIGKILL the sweep mid-trial and resume at once (long before the 60 s heartbeat goes stale): the
    resume sees that the trial's process is gone, marks it FAIL, and runs n_trials trials besides."""
    marker = tmp_path / "started"
    args = ("hydra.sweeper.n_trials=2", "sleep_first=60", f"marker_dir={marker}")
    proc = start_app(tmp_path, "k.db", *args, log_name="killed.log")
    _wait_for_marker(marker, proc, tmp_path / "killed.log")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert [t.state for t in load(tmp_path / "k.db").trials] == [TrialState.RUNNING]

    out = run_app(tmp_path, "k.db", *args, report=True)
    assert "RUNNING trial(s) [0] FAIL" in out and "not counted toward n_trials" in out, out
    assert "0 of n_trials=2 used" in out, out
    trials = load(tmp_path / "k.db").trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    from msvdd.reports.study import fail_reason

    assert f"its worker {socket.gethostname()}:{proc.pid} is gone" in fail_reason(trials[0])
    assert "0,FAIL," in (tmp_path / "sweep" / "trials.csv").read_text()
    assert "ran 0 trial(s)" in run_app(tmp_path, "k.db", *args)  # the study is full


@pytest.mark.slow
def test_a_killed_launcher_worker_loses_its_trial_the_search_says_so_and_a_resume_runs_it(tmp_path):
    """SIGKILL the joblib worker that runs a trial: the trial is recorded FAIL (lost, not counted), the
    search stops with one line and exit 1, and running the same command again fills n_trials."""
    marker = tmp_path / "started"
    joblib = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_trials=2", "sleep_first=60",
              f"marker_dir={marker}")
    proc = start_app(tmp_path, "w.db", *joblib, log_name="worker.log")
    started = _wait_for_marker(marker, proc, tmp_path / "worker.log")
    worker = int(started.name.split("-")[0])
    assert worker != proc.pid
    os.kill(worker, signal.SIGKILL)
    assert proc.wait(timeout=120) == 1, (tmp_path / "worker.log").read_text()
    log = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in log, log
    (line,) = [x for x in log.splitlines() if x.startswith("msvdd: error:")]
    assert line.startswith("msvdd: error: 1 of 1 trials of study 'toy' failed"), line
    assert "lost: not counted toward n_trials" in log, log
    trials = load(tmp_path / "w.db").trials
    assert [t.state for t in trials] == [TrialState.FAIL]

    run_app(tmp_path, "w.db", *joblib)
    trials = load(tmp_path / "w.db").trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
