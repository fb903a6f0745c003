"""msvdd.predict / msvdd-predict: a saved model scores new files exactly as its run scored its test data,
and bad input is one line, exit 2, no file written."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import CONF, QUICK, ROOT
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from own_files import digit_arrays, digit_table, save_png, snapshot, write_split_folder

from msvdd.predict import main
from msvdd.run.job import run

FAST = ["pretrain.epochs=10", "train.epochs=10", "pretrain.milestones=[]", "train.milestones=[]"]


def _train(out, *overrides):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[*QUICK, *FAST, f"paths.root_dir={out}", *overrides])
    GlobalHydra.instance().clear()
    run(cfg, out / "run")
    return out / "run"


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    data = write_split_folder(tmp_path_factory.mktemp("split"))
    return data, _train(tmp_path_factory.mktemp("folder_run"), "dataset=folder", f"dataset.path={data}")


@pytest.fixture(scope="module")
def arrays_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("arrays") / "digits.npz"
    np.savez(path, **digit_arrays())
    return path, _train(tmp_path_factory.mktemp("arrays_run"), "dataset=arrays", f"dataset.path={path}",
                        "dataset.normal_classes=[0,1]")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "digits.csv"
    digit_table().to_csv(path, index=False)
    return path, _train(tmp_path_factory.mktemp("table_run"), "dataset=table", f"dataset.path={path}",
                        "dataset.label=digit", "dataset.normal_classes=[0,1]", "clustering=kmeans")


def _text(path):
    return pd.read_csv(path, dtype=str)  # compare the written numbers digit for digit


@pytest.mark.slow
@pytest.mark.parametrize("which", ["folder", "arrays", "table"])
def test_predict_reproduces_the_runs_test_scores_bit_for_bit(which, folder_run, arrays_run, table_run, tmp_path):
    data, run_dir = {"folder": folder_run, "arrays": arrays_run, "table": table_run}[which]
    source = data / "test" if which == "folder" else data
    before = snapshot(data if which == "folder" else data.parent)
    assert main([str(run_dir / "model.pt"), str(source), "--out", str(tmp_path / "scores.csv")]) == 0
    expected, got = _text(run_dir / "test_scores.csv"), _text(tmp_path / "scores.csv")
    assert list(got.columns) == ["name", "score", "sphere", "outside"]
    if which == "table":  # predict scores every row; the run's test rows are some of them
        assert len(got) == len(digit_table())
        got = got.set_index("name").loc[expected.name].reset_index()
    assert len(got) == len(expected) > 100
    for column in ("name", "score", "sphere", "outside"):
        assert got[column].tolist() == expected[column].tolist(), column
    assert snapshot(data if which == "folder" else data.parent) == before


@pytest.mark.slow
def test_predict_single_images_and_several_inputs(folder_run, tmp_path):
    data, run_dir = folder_run
    one = sorted((data / "test" / "good").iterdir())[3]
    out = tmp_path / "s.csv"
    assert main([str(run_dir / "model.pt"), str(one), str(data / "test" / "seven"), "--out", str(out)]) == 0
    got, expected = _text(out), _text(run_dir / "test_scores.csv").set_index("name")
    assert len(got) == 1 + len(list((data / "test" / "seven").iterdir()))
    assert got.name[0] == str(one) and got.score[0] == expected.loc[str(one), "score"]
    assert got.score.tolist()[1:] == expected.loc[got.name[1:], "score"].tolist()


@pytest.mark.slow
def test_threshold_quantile_of_the_training_scores(table_run, tmp_path):
    path, run_dir = table_run
    out = tmp_path / "q.csv"
    assert main([str(run_dir / "model.pt"), str(path), "--out", str(out), "--threshold-quantile", "0.8"]) == 0
    got = pd.read_csv(out)
    train = got[~got.name.isin(pd.read_csv(run_dir / "test_scores.csv").name)]
    assert len(train) > 100
    assert train.outside.mean() == pytest.approx(0.2, abs=1.5 / len(train))  # the rows the quantile came from
    anomalies = got[digit_table().digit.to_numpy() == 7]
    assert anomalies.outside.mean() > train.outside.mean()


def _bad_png(d):
    (d / "x.png").write_bytes(b"\x89PNG broken")
    return d / "x.png"


def _big_png(d):
    return save_png(d / "big.png", np.zeros((10, 10), np.uint8))


def _empty_dir(d):
    (d / "sub").mkdir()
    (d / "sub" / "readme.txt").write_text("no images")
    return d / "sub"


def _csv_without(d, column):
    digit_table().drop(columns=[column]).to_csv(d / "t.csv", index=False)
    return d / "t.csv"


def _csv_nan(d):
    df = digit_table()
    df.loc[[1, 2], "p5"] = np.nan
    df.to_csv(d / "t.csv", index=False)
    return d / "t.csv"


def _npz_wrong_shape(d):
    np.savez(d / "w.npz", x=np.zeros((4, 16, 16), np.uint8))
    return d / "w.npz"


def _text_file(d):
    (d / "model.pt").write_text("not a model")
    return d / "model.pt"


BAD = [  # (model: folder|table, args from the tmp dir, field, words)
    ("folder", lambda d, m: [str(d / "none.pt"), str(d)], "MODEL", "no such file"),
    ("folder", lambda d, m: [str(_text_file(d)), str(d)], "MODEL", "cannot load it"),
    ("folder", lambda d, m: [str(_text_file(d)), str(d)], "MODEL", "cannot load it: not a PyTorch file"),
    ("folder", lambda d, m: [m, str(d / "missing")], "INPUT", "no such file or folder"),
    ("folder", lambda d, m: [m, str(_empty_dir(d))], "INPUT", "no images found"),
    ("folder", lambda d, m: [m, str(_bad_png(d))], "INPUT", "x.png"),
    ("folder", lambda d, m: [m, str(_big_png(d))], "INPUT", "this image is 10x10"),
    ("folder", lambda d, m: [m, str(_csv_without(d, "p3"))], "INPUT", "not an image"),
    ("folder", lambda d, m: [m, str(_npz_wrong_shape(d))], "INPUT", "shape [1, 16, 16]"),
    ("table", lambda d, m: [m, str(_csv_without(d, "p3"))], "INPUT", "missing columns ['p3']"),
    ("table", lambda d, m: [m, str(_csv_nan(d))], "INPUT", "2 rows hold NaN"),
    ("table", lambda d, m: [m, str(_csv_nan(d)), "--threshold-quantile", "1.5"], "--threshold-quantile",
     "allowed: a number in (0, 1)"),
    ("table", lambda d, m: [m, str(d), "--device", "tpu"], "--device", "cpu, auto, or cuda"),
    ("table", lambda d, m: [m, str(d), "--out", str(d / "in_the_data.csv")], "--out", "outside the input"),
    ("table", lambda d, m: [m, str(d), "--out", str(d / "no" / "s.csv")], "--out", "no folder"),
]


@pytest.mark.slow
@pytest.mark.parametrize("model,args,field,words", BAD, ids=[f"{c[2]}:{c[3][:20]}" for c in BAD])
def test_bad_input_one_line_exit_2_nothing_written(model, args, field, words, folder_run, table_run, tmp_path,
                                                   capsys):
    run_dir = (folder_run if model == "folder" else table_run)[1]
    data = tmp_path / "data"
    data.mkdir()
    argv = args(data, str(run_dir / "model.pt"))
    out = tmp_path / "out.csv"
    before = snapshot(data)
    if "--out" not in argv:
        argv += ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"msvdd-predict: error: {field}=") and words in err and "\n" not in err, err
    assert not out.exists() and snapshot(data) == before
    assert not list(tmp_path.rglob("*.csv.*.tmp"))


def test_console_script_and_module_help():
    proc = subprocess.run([sys.executable, "-m", "msvdd.predict", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "--threshold-quantile" in proc.stdout and "INPUT" in proc.stdout
    assert 'msvdd-predict = "msvdd.predict:main"' in (ROOT / "pyproject.toml").read_text()
