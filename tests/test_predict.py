"""msvdd.predict / msvdd-predict: a saved model, Deep SVDD or a baseline, scores new files exactly as its
run scored its test data, and bad input is one line, exit 2, no file written (never over an input)."""

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CONF, QUICK
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from own_files import digit_arrays, digit_table, huge_png, save_png, snapshot, write_split_folder

from msvdd.baselines import KNNDetector
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
def split_folder(tmp_path_factory):
    return write_split_folder(tmp_path_factory.mktemp("split"))


@pytest.fixture(scope="module")
def folder_run(split_folder, tmp_path_factory):
    data = split_folder
    return data, _train(tmp_path_factory.mktemp("folder_run"), "dataset=folder", f"dataset.path={data}")


@pytest.fixture(scope="module")
def knn_folder(split_folder, tmp_path_factory):
    """A kNN run on the folder, as a user trains one: its model.pt (with the data's preprocessing and the
    training scores) and its test_scores.csv."""
    run_dir = _train(tmp_path_factory.mktemp("knn_run"), "dataset=folder", f"dataset.path={split_folder}",
                     "method=knn")
    return run_dir / "model.pt", run_dir / "test_scores.csv"


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
                        "dataset.label=digit", "dataset.normal_classes=[0,1]", "method=svdd_kmeans")


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
    # label: what the inputs say (test/<subfolder>, labels_test, the table's class column): the run's class
    assert list(got.columns) == ["name", "score", "sphere", "outside", "label"]
    if which == "table":  # predict scores every row; the run's test rows are some of them
        assert len(got) == len(digit_table())
        got = got.set_index("name").loc[expected.name].reset_index()
    assert len(got) == len(expected) > 100
    for column in ("name", "score", "sphere", "outside"):
        assert got[column].tolist() == expected[column].tolist(), column
    assert got.label.tolist() == expected["class"].tolist()
    assert got.label.nunique() == (2 if which == "folder" else 3)  # good, seven; or 0, 1, 7
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


def _npz_flat(d):
    np.savez(d / "w2.npz", x=np.zeros((4, 64), np.uint8))
    return d / "w2.npz"


def _random_npz(d):
    (d / "r.npz").write_bytes(np.random.default_rng(0).bytes(2048))
    return d / "r.npz"


def _header_only(d):
    digit_table().head(0).to_csv(d / "h.csv", index=False)
    return d / "h.csv"


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
    # issue 19: the model's columns are what is allowed, not the input's (which lack p3)
    ("table", lambda d, m: [m, str(_csv_without(d, "p3"))], "INPUT",
     "allowed: the model's feature columns ['p0', 'p1', 'p2', 'p3', 'p4'"),
    ("table", lambda d, m: [m, str(_header_only(d))], "INPUT", "no rows, only the header"),
    ("folder", lambda d, m: [m, str(huge_png(d / "huge.png"))], "INPUT", "huge.png': too large to decode"),
    ("folder", lambda d, m: [m, str(_random_npz(d))], "INPUT", "r.npz': it is not a NumPy file"),
    ("folder", lambda d, m: [m, str(_npz_flat(d))], "INPUT", "w2.npz': x has shape [4, 64]"),
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


def test_the_msvdd_predict_console_script_scores_a_folder(knn_folder, split_folder, tmp_path):
    """The installed ``msvdd-predict`` command (and the entry point it names) writes the model's scores."""
    model, expected = knn_folder
    sevens = split_folder / "test" / "seven"
    (entry,) = entry_points(group="console_scripts", name="msvdd-predict")
    assert entry.load() is main
    script = Path(sysconfig.get_path("scripts")) / "msvdd-predict"
    proc = subprocess.run([str(script), str(model), str(sevens), "--out", str(tmp_path / "cli.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(list(sevens.iterdir()))} items scored" in proc.stdout
    got, want = _text(tmp_path / "cli.csv"), _text(expected).set_index("name")
    assert list(got.columns) == ["name", "score", "outside"] and len(got) == len(list(sevens.iterdir())) > 10
    # the run scored the whole test set in one matrix, this scores one class's folder: BLAS may round a row's
    # float32 distances differently for another matrix shape (an AMD EPYC VM: 48 of 179 scores 2e-7 apart)
    np.testing.assert_allclose(got.score.astype(float), want.loc[got.name, "score"].astype(float), rtol=1e-6, atol=0)
    assert got.outside.tolist() == want.loc[got.name, "outside"].tolist()
    assert entry.load()([str(model), str(sevens), "--out", str(tmp_path / "entry.csv")]) == 0
    assert (tmp_path / "entry.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()


@pytest.mark.slow
def test_a_saved_knn_and_a_saved_deep_svdd_model_score_the_same_folder(folder_run, knn_folder, tmp_path):
    data, run_dir = folder_run
    knn_model, knn_expected = knn_folder
    truth = _text(run_dir / "test_scores.csv").set_index("name").anomaly == "1"
    names = None
    for model, expected, columns in [(run_dir / "model.pt", run_dir / "test_scores.csv",
                                      ["name", "score", "sphere", "outside"]),
                                     (knn_model, knn_expected, ["name", "score", "outside"])]:
        out = tmp_path / f"{model.parent.name}.csv"
        assert main([str(model), str(data / "test"), "--out", str(out)]) == 0
        got = _text(out)
        assert list(got.columns) == [*columns, "label"] and len(got) > 100  # label: test/'s subfolder
        assert got[columns].to_dict("list") == _text(expected)[columns].to_dict("list")  # digit for digit
        assert got.label.tolist() == _text(expected)["class"].tolist()
        names = got.name.tolist() if names is None else names
        assert got.name.tolist() == names  # the same images in the same order
        outside = got.set_index("name").outside == "1"
        assert outside[truth].mean() > outside[~truth].mean() + 0.3  # both find the sevens


def test_threshold_quantile_of_a_baselines_training_scores(knn_folder, split_folder, tmp_path):
    """kNN's training scores leave each point out of its neighbours: the q-quantile flags about 1 - q of
    new normal images (counting each training image's zero distance to itself flagged 74 % at q = 0.8)."""
    model, _ = knn_folder
    out = tmp_path / "q.csv"
    new_normal = split_folder / "test" / "good"
    assert main([str(model), str(new_normal), "--out", str(out), "--threshold-quantile", "0.8"]) == 0
    got = pd.read_csv(out)
    assert len(got) > 80 and got.outside.mean() == pytest.approx(0.2, abs=0.1)


def _linked(d, target):
    os.symlink(target, d / "link.csv")
    return d / "link.csv"


def _hard_linked(d, target):
    os.link(target, d / "hard.csv")
    return d / "hard.csv"


OVER_INPUTS = {  # --out (from the tmp dir, the input image, the model) -> what the refusal says
    "the input file": (lambda d, image, model: image, "never writes over its inputs"),
    "the model file": (lambda d, image, model: model, "never writes over its inputs"),
    "the input through ..": (lambda d, image, model: d / "sub" / ".." / image.name, "never writes over its inputs"),
    "a link to the input": (lambda d, image, model: _linked(d, image), "never writes over its inputs"),
    "a hard link to the model": (lambda d, image, model: _hard_linked(d, model), "never writes over its inputs"),
    "a link into an input folder": (lambda d, image, model: d / "alias" / "s.csv", "never writes into data"),
}


@pytest.mark.parametrize("target", OVER_INPUTS)
def test_out_never_overwrites_an_input(knn_folder, split_folder, tmp_path, capsys, target):
    make, words = OVER_INPUTS[target]
    model, image = tmp_path / "model.pt", tmp_path / "one.png"
    shutil.copy(knn_folder[0], model)
    shutil.copy(sorted((split_folder / "test" / "seven").iterdir())[0], image)
    (tmp_path / "sub").mkdir()
    (tmp_path / "images").mkdir()
    shutil.copy(image, tmp_path / "images" / "two.png")
    os.symlink(tmp_path / "images", tmp_path / "alias")
    out = make(tmp_path, image, model)
    before = snapshot(tmp_path)
    assert main([str(model), str(image), str(tmp_path / "images"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("msvdd-predict: error: --out=") and words in err and "\n" not in err, err
    assert snapshot(tmp_path) == before


def test_threshold_quantile_needs_the_training_scores(knn_folder, split_folder, tmp_path, capsys):
    model = KNNDetector.load(knn_folder[0])
    model.save(tmp_path / "model.pt", meta={"preprocessing": model.meta_["preprocessing"]})
    argv = [str(tmp_path / "model.pt"), str(split_folder / "train"), "--out", str(tmp_path / "q.csv")]
    assert main([*argv, "--threshold-quantile", "0.9"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("msvdd-predict: error: --threshold-quantile=0.9") and "no training scores" in err
    assert not (tmp_path / "q.csv").exists()
    assert main(argv) == 0  # its own fitted rule needs none


@pytest.mark.parametrize("where", ["a folder", "an unwritable folder"])
def test_out_that_cannot_be_written_is_one_line_before_any_scoring(knn_folder, split_folder, tmp_path, capsys,
                                                                      monkeypatch, where):
    from own_files import make_read_only

    if where == "a folder":
        out, words = tmp_path, "a folder"
    else:
        make_read_only(tmp_path / "ro", monkeypatch)
        out, words = tmp_path / "ro" / "scores.csv", "cannot write there"
    assert main([str(knn_folder[0]), str(split_folder / "test"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("msvdd-predict: error: --out=") and words in err and "\n" not in err, err


def test_predict_in_a_fresh_process_pins_blas_to_the_runs_thread(knn_folder, split_folder, tmp_path):
    """The baselines' PCA product rounds differently on two BLAS threads (a fresh msvdd-predict process matched
    39 of 264 Fashion-MNIST test items of a kNN run bit for bit, 264 with one thread): predict runs on
    ``--threads`` (default 1, as runs do) for torch and every BLAS/OpenMP pool."""
    model, _ = knn_folder
    code = ("import sys; from threadpoolctl import threadpool_info; from msvdd.predict import main; "
            "assert main(sys.argv[1:]) == 0; print(max(p['num_threads'] for p in threadpool_info()))")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code, str(model), str(split_folder / "test"), "--out",
                           str(tmp_path / "s.csv")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "1"
