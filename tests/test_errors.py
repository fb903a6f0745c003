"""Every mistake a user can fix is one line with exit 2, naming the field: the app, the table and study tools,
a full disk."""

import errno
import json
from pathlib import Path

import pytest
from conftest import TINY
from conftest import run_msvdd as _msvdd

from msvdd.errors import (
    ConfigError,
    OutputError,
)
from msvdd.run.job import run


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
