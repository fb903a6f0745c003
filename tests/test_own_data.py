"""The user's own data (dataset=folder / arrays / table) on small real files written here from the
embedded digits: each layout loads, trains and evaluates end to end; the decoded-image cache; and each
bad input's one-line error, with nothing written anywhere near the data."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from own_files import (
    digit_arrays,
    digit_images,
    digit_table,
    huge_png,
    make_read_only,
    save_png,
    snapshot,
    write_class_folder,
    write_split_folder,
)

from msvdd.data import Arrays, Folder, Table
from msvdd.data import image_cache as image_cache_module
from msvdd.errors import ConfigError
from msvdd.run.job import run

FAST = ["pretrain.epochs=10", "train.epochs=10", "pretrain.milestones=[]", "train.milestones=[]"]


@pytest.fixture(scope="module")
def split_folder(tmp_path_factory):
    return write_split_folder(tmp_path_factory.mktemp("split"))


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    return write_class_folder(tmp_path_factory.mktemp("classes"))


@pytest.fixture(scope="module")
def npz_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("arrays") / "digits.npz"
    np.savez(path, **digit_arrays())
    return path


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "digits.csv"
    digit_table().to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- loading


def test_split_layout_classes_labels_and_names(split_folder):
    data = Folder(split_folder).load()
    n_train = len(list((split_folder / "train").rglob("*.png")))
    n_good, n_seven = (len(list((split_folder / "test" / d).glob("*.png"))) for d in ("good", "seven"))
    assert data.x_train.shape == (n_train, 1, 8, 8) and data.x_test.shape == (n_good + n_seven, 1, 8, 8)
    assert data.normal_classes == (0, 1) and set(data.y_train.tolist()) == {0, 1}
    assert data.y_test.sum() == n_seven and (data.y_test == 0).sum() == n_good
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0  # min-max on training data
    assert data.names_test[0].endswith("test/good/" + sorted(p.name for p in (split_folder / "test/good").iterdir())[0])
    assert data.preprocessing["input_shape"] == [1, 8, 8] and data.preprocessing["color"] == "gray"


def test_split_layout_pixels_match_the_arrays(split_folder):
    x, _ = digit_images()
    data = Folder(split_folder, image_size=None).load()
    first = sorted((split_folder / "test" / "good").iterdir())[0]
    raw = torch.from_numpy(x[int(first.stem)][None, None]).float()
    from msvdd.data import gcn_l1

    expected = (gcn_l1(raw / 255) - data.scale[0]) / (data.scale[1] - data.scale[0])
    assert torch.allclose(data.x_test[0], expected[0], atol=1e-6)


def test_rgb_and_resize(split_folder):
    data = Folder(split_folder, color="rgb", image_size=16).load()
    assert data.x_train.shape[1:] == (3, 16, 16)
    assert torch.equal(data.x_train[:, 0], data.x_train[:, 2])  # grey PNGs: equal channels


def test_class_layout_seeded_stratified_split(class_folder):
    a = Folder(class_folder, normal_classes=[0, 1], test_size=0.3, split_seed=0).load()
    b = Folder(class_folder, normal_classes=["0", "1"], test_size=0.3, split_seed=0).load()
    c = Folder(class_folder, normal_classes=[0, 1], test_size=0.3, split_seed=1).load()
    assert a.names_test == b.names_test != c.names_test
    counts = {d: len(list((class_folder / d).glob("*.png"))) for d in ("0", "1", "7")}
    assert len(a.x_train) == sum(counts[d] - int(np.ceil(0.3 * counts[d])) for d in ("0", "1"))
    assert int(a.y_test.sum()) == counts["7"]  # every anomaly image is tested
    assert set(a.y_train.tolist()) == set(a.normal_classes) == {0, 1}


def test_image_cache_second_load_decodes_nothing(split_folder, tmp_path, monkeypatch):
    first = Folder(split_folder, cache_dir=tmp_path / "cache").load()
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(image_cache_module, "decode_images", no_decoding)
    second = Folder(split_folder, cache_dir=tmp_path / "cache").load()
    assert torch.equal(first.x_train, second.x_train) and torch.equal(first.x_test, second.x_test)
    with pytest.raises(AssertionError, match="decoded although cached"):  # another option: another entry
        Folder(split_folder, cache_dir=tmp_path / "cache", image_size=16).load()


def test_image_cache_notices_a_changed_file(tmp_path):
    x, _ = digit_images()
    for i, d in enumerate(["train/a", "train/a", "test/good", "test/bad"]):
        save_png(tmp_path / "data" / d / f"{i}.png", x[i])
    before = Folder(tmp_path / "data", cache_dir=tmp_path / "cache").load()
    save_png(tmp_path / "data" / "train/a/0.png", x[10])  # replaced: other size/time, other key
    after = Folder(tmp_path / "data", cache_dir=tmp_path / "cache").load()
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2
    assert not torch.equal(before.x_train[0], after.x_train[0])


def test_a_read_only_image_cache_is_read_and_never_fails_the_run(split_folder, tmp_path, monkeypatch, caplog):
    import logging

    shared = tmp_path / "shared"
    first = Folder(split_folder, cache_dir=shared).load()  # an entry made by someone who could write
    other = Folder(split_folder, cache_dir=tmp_path / "empty", image_size=16)
    (tmp_path / "empty").mkdir()
    for folder in (shared, tmp_path / "empty"):
        make_read_only(folder, monkeypatch)
    before = snapshot(tmp_path)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    with monkeypatch.context() as m:
        m.setattr(image_cache_module, "decode_images", no_decoding)
        assert torch.equal(Folder(split_folder, cache_dir=shared).load().x_train, first.x_train)  # read
    with caplog.at_level(logging.WARNING, logger="msvdd.data.image_cache"):
        assert other.load().x_train.shape[-1] == 16  # decoded, not stored, a warning
    assert any("cannot be written" in r.message and "empty" in r.message for r in caplog.records)
    assert snapshot(tmp_path) == before


def test_arrays_npz_npy_and_channels_last(npz_file, tmp_path):
    arrays = digit_arrays()
    data = Arrays(npz_file, normal_classes=[0, 1]).load()
    assert data.x_train.shape == (len(arrays["x_train"]), 1, 8, 8)
    assert torch.equal(data.y_test, torch.from_numpy((arrays["labels_test"] == 7).astype(np.int64)))
    folder = tmp_path / "npy"
    folder.mkdir()
    rgb = {k: np.repeat(v[..., None], 3, axis=3) if k.startswith("x") else v for k, v in arrays.items()}
    rgb["y_test"] = (arrays["labels_test"] == 7).astype(np.int64)
    for k, v in rgb.items():
        np.save(folder / f"{k}.npy", v)
    data = Arrays(folder).load()  # y_test given: no normal_classes needed
    assert data.x_train.shape[1:] == (3, 8, 8) and int(data.y_test.sum()) == int((arrays["labels_test"] == 7).sum())


def test_table_split_and_standardisation(csv_file, tmp_path):
    data = Table(csv_file, label="digit", normal_classes=[0, 1]).load()
    df = pd.read_csv(csv_file)
    assert data.x_train.shape[1] == 64 and len(data.x_train) + len(data.x_test) == len(df)
    assert int(data.y_test.sum()) == int((df.digit == 7).sum())  # every anomaly is a test item
    used = data.x_train.double()
    varying = used.std(0) > 0
    assert torch.allclose(used.mean(0), torch.zeros(64, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(used[:, varying].std(0, unbiased=False), torch.ones(int(varying.sum()),
                          dtype=torch.float64), atol=1e-4)
    assert data.preprocessing["columns"] == [f"p{i}" for i in range(64)]
    parquet = tmp_path / "digits.parquet"
    df.to_parquet(parquet)
    same = Table(parquet, label="digit", normal_classes=[0, 1], features=["p10", "p20"]).load()
    assert same.x_train.shape[1] == 2
    assert [n.split("#")[1] for n in same.names_test] == [n.split("#")[1] for n in data.names_test]


# ---------------------------------------------------------------- end to end (python -m msvdd's code path)


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["split", "classes", "arrays", "table"])
def test_each_layout_trains_and_evaluates(make_cfg, tmp_path, layout, split_folder, class_folder, npz_file,
                                          csv_file):
    overrides = {
        "split": ["dataset=folder", f"dataset.path={split_folder}", "method=svdd_oracle"],
        "classes": ["dataset=folder", f"dataset.path={class_folder}", "dataset.normal_classes=[0,1]"],
        "arrays": ["dataset=arrays", f"dataset.path={npz_file}", "dataset.normal_classes=[0,1]"],
        "table": ["dataset=table", f"dataset.path={csv_file}", "dataset.label=digit",
                  "dataset.normal_classes=[0,1]"],
    }[layout]
    data_dir = (split_folder if layout == "split" else class_folder if layout == "classes" else
                npz_file.parent if layout == "arrays" else csv_file.parent)
    before = snapshot(data_dir)
    auroc = run(make_cfg(*FAST, *overrides, "plots=true"), tmp_path / "run")
    assert auroc > 0.7  # 0/1 against 7: far better than chance after 10 + 10 epochs
    record = json.loads((tmp_path / "run" / "results.json").read_text())
    assert record["dataset"] == {"split": "folder", "classes": "folder"}.get(layout, layout)
    assert record["config"]["network"]["input_shape"] == ([64] if layout == "table" else [1, 8, 8])
    if layout == "split":
        assert record["ari"] == 1.0 and record["n_clusters"] == 2  # oracle: train/'s subfolders
    scores = pd.read_csv(tmp_path / "run" / "test_scores.csv")
    assert len(scores) == record["n_test"] and set(scores.anomaly) == {0, 1}
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(scores.anomaly, scores.score) == pytest.approx(auroc, abs=1e-12)
    assert (tmp_path / "run" / "extremes.png").exists() == (layout != "table")
    assert snapshot(data_dir) == before  # nothing written into the user's data


# ---------------------------------------------------------------- bad input: one line, exit 2, nothing written


def _garbage_png(root):
    x, _ = digit_images()
    for i, d in enumerate(["train/a", "test/good", "test/bad"]):
        save_png(root / d / f"{i}.png", x[i])
    (root / "train/a/broken.png").write_bytes(b"not a png at all")
    return root


def _mixed_sizes(root):
    x, _ = digit_images()
    for i, d in enumerate(["train/a", "test/good", "test/bad"]):
        save_png(root / d / f"{i}.png", x[i])
    save_png(root / "train/a/big.png", np.zeros((10, 10), np.uint8))
    return root


def _no_normal_test(root):
    x, _ = digit_images()
    for i, d in enumerate(["train", "test/bad", "test/worse"]):
        save_png(root / d / f"{i}.png", x[i])
    return root


def _no_anomalous_test(root):
    x, _ = digit_images()
    for i, d in enumerate(["train", "test/good"]):
        save_png(root / d / f"{i}.png", x[i])
    return root


def _empty(root):
    (root / "notes.txt").write_text("no images here")
    return root


def _csv(root, change):
    df = digit_table()
    change(df)
    df.to_csv(root / "t.csv", index=False)
    return root / "t.csv"


def _text_column(df):
    df["site"] = "north"
    df["batch"] = "b1"


def _nan_rows(df):
    df.loc[[3, 5], "p7"] = np.nan
    df.loc[9, "p8"] = np.inf


def _arrays_without_anomalies(root):
    a = digit_arrays()
    np.savez(root / "a.npz", x_train=a["x_train"], x_test=a["x_test"], y_test=np.zeros(len(a["x_test"]), int))
    return root / "a.npz"


def _ten_pixel_images(root):
    for i, d in enumerate(["train", "train", "test/good", "test/bad"]):
        save_png(root / d / f"{i}.png", np.full((10, 10), 20 * i, np.uint8))
    return root


def _one_training_image(root):
    x, _ = digit_images()
    for i, d in enumerate(["train", "test/good", "test/good", "test/bad"]):
        save_png(root / d / f"{i}.png", x[i])
    return root


def _two_images_per_class(root):  # test_size takes one of each: one normal training image is left
    x, _ = digit_images()
    for i, d in enumerate(["a", "a", "b", "b"]):
        save_png(root / d / f"{i}.png", x[i])
    return root


def _bomb(root):
    _one_training_image(root)
    save_png(root / "train" / "second.png", digit_images()[0][9])
    huge_png(root / "train" / "huge.png")
    return root


def _header_only(root):
    digit_table().head(0).to_csv(root / "t.csv", index=False)
    return root / "t.csv"


def _three_rows(root):
    digit_table().head(3).assign(digit=[0, 0, 1]).to_csv(root / "t.csv", index=False)
    return root / "t.csv"


def _npz(root, **arrays):
    a = digit_arrays()
    a["y_test"] = (a["labels_test"] == 7).astype(np.int64)
    a = {k: v for k, v in {**a, **arrays}.items() if v is not None}
    np.savez(root / "a.npz", **a)
    return root / "a.npz"


def _random_bytes(root):
    (root / "a.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    return root / "a.npz"


def _objects(root):
    a = digit_arrays()
    np.savez(root / "a.npz", x_train=a["x_train"], x_test=np.array([object()] * 3, dtype=object))
    return root / "a.npz"


N_TEST = len(digit_arrays()["x_test"])


def _arrays(make, *overrides):
    return lambda r: ["dataset=arrays", f"dataset.path={make(r)}", *overrides]


BAD = [  # (make the data under root -> dataset overrides, field, words of the message)
    (lambda r: ["dataset=folder", f"dataset.path={r / 'nowhere'}"], "dataset.path", "no such file or folder"),
    (lambda r: ["dataset=folder", f"dataset.path={_empty(r)}"], "dataset.path", "no images found"),
    (lambda r: ["dataset=folder", f"dataset.path={_garbage_png(r)}"], "dataset.path", "broken.png"),
    (lambda r: ["dataset=folder", f"dataset.path={_mixed_sizes(r)}"], "dataset.image_size", "big.png is 10x10"),
    (lambda r: ["dataset=folder", f"dataset.path={_no_normal_test(r)}"], "dataset.normal_test_dirs",
     "no normal item"),
    (lambda r: ["dataset=folder", f"dataset.path={_no_anomalous_test(r)}"], "dataset.normal_test_dirs",
     "no anomalous item"),
    (lambda r: ["dataset=arrays", f"dataset.path={_arrays_without_anomalies(r)}"], "dataset.path",
     "no anomalous item"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, _text_column)}", "dataset.label=digit",
                "dataset.normal_classes=[0]"], "dataset.path", "non-numeric columns ['site', 'batch']"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, _nan_rows)}", "dataset.label=digit",
                "dataset.normal_classes=[0]"], "dataset.path", "3 rows hold NaN or infinite values"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, lambda df: None)}", "dataset.label=class",
                "dataset.normal_classes=[0]"], "dataset.label", "no such column"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, lambda df: None)}", "dataset.normal_classes=[0]"],
     "dataset.label", "required and not set"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, lambda df: None)}", "dataset.label=digit",
                "dataset.normal_classes=[4]"], "dataset.normal_classes", "not in the data: ['4']"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, lambda df: None)}", "dataset.label=digit",
                "dataset.normal_classes=[0]", "network=folder_lenet"], "network.input_shape",
     "gives items of shape [64]"),
    (lambda r: ["dataset=folder", f"dataset.path={_ten_pixel_images(r)}"], "network.channels",
     "gives items of shape [1, 10, 10]"),
    (lambda r: ["dataset=table", f"dataset.path={_csv(r, lambda df: None)}", "dataset.label=digit",
                "dataset.normal_classes=[0]", "group.size=2"], "group.size", "a fixed class list"),
    (lambda r: ["dataset=folder", f"dataset.path={_no_normal_test(r)}", "dataset.cache_dir=" + str(r / "c")],
     "dataset.cache_dir", "never writes into"),
    # issue 19: tracebacks before, one line now
    (lambda r: ["dataset=folder", f"dataset.path={_one_training_image(r)}"], "dataset.path",
     "train/ holds only 1 image (train/0.png)"),
    (lambda r: ["dataset=folder", f"dataset.path={_two_images_per_class(r)}", "dataset.normal_classes=[a]"],
     "dataset.test_size", "only 1 normal image left for training"),
    (lambda r: ["dataset=folder", f"dataset.path={_bomb(r)}"], "dataset.path",
     "huge.png': too large to decode (400000000 pixels)"),
    (lambda r: ["dataset=table", f"dataset.path={_three_rows(r)}", "dataset.label=digit",
                "dataset.normal_classes=[0]"], "dataset.path", "only 1 normal row left for training"),
    (_arrays(lambda r: _npz(r, labels_test=None), "dataset.normal_classes=[0]"), "dataset.normal_classes",
     "drops y_train's classes [1] from training, but y_test"),
    (_arrays(lambda r: _npz(r, labels_test=None), "dataset.normal_classes=[0,42]"), "dataset.normal_classes",
     "not in the data: [42]; allowed: class ids of y_train: [0, 1]"),
    (_arrays(lambda r: _npz(r, y_test=None), "dataset.normal_classes=[0,42]"), "dataset.normal_classes",
     "not in the data: [42]"),
    (_arrays(lambda r: _npz(r, y_train=None, labels_test=None), "dataset.normal_classes=[0]"),
     "dataset.normal_classes", "hold no class ids"),
    (_arrays(lambda r: _npz(r, y_test=np.ones(N_TEST, int)), "dataset.normal_classes=[0,1]"),
     "dataset.normal_classes", "y_test disagrees with labels_test"),
    (_arrays(lambda r: _npz(r, x_train=digit_arrays()["x_train"][:1], y_train=np.zeros(1, int))), "dataset.path",
     "only 1 normal image left for training"),
    # issue 19: misleading messages before
    (lambda r: ["dataset=table", f"dataset.path={_header_only(r)}", "dataset.label=digit",
                "dataset.normal_classes=[0]"], "dataset.path", "no rows, only the header of 65 columns"),
    (_arrays(lambda r: _npz(r, x_train=digit_arrays()["x_train"].reshape(-1, 64))), "dataset.path",
     "a.npz': x_test has shape [292, 8, 8]; allowed: feature rows (n, d) in both x_train and x_test"),
    (_arrays(lambda r: _npz(r, y_test=np.full(N_TEST, 2))), "dataset.path",
     "a.npz': y_test holds [2]"),
    (_arrays(_random_bytes), "dataset.path", "a.npz': it is not a NumPy file"),
    (_arrays(_objects), "dataset.path", "holds pickled Python objects, which msvdd never loads"),
    (lambda r: ["dataset=folder", f"dataset.path={_two_images_per_class(r)}", "dataset.layout=classes"],
     "dataset.normal_classes", "dataset.normal_classes=None: not set"),
]


@pytest.mark.parametrize("make,field,words", BAD, ids=[c[1] + ":" + c[2][:24] for c in BAD])
def test_bad_own_data_is_one_line_before_training(make_cfg, tmp_path, make, field, words):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    overrides = make(data_dir)
    before = snapshot(data_dir)
    with pytest.raises(ConfigError) as err:
        run(make_cfg(*FAST, *overrides), tmp_path / "run")
    message = str(err.value)
    assert message.startswith(field + "=") and words in message and "allowed" in message, message
    assert "\n" not in message
    assert not (tmp_path / "run" / "results.json").exists() and not (tmp_path / "run" / "model.pt").exists()
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("make", [_one_training_image, _bomb])
def test_cli_exit_code_2_and_one_line_for_bad_images(make, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    data = make(tmp_path / "data")
    proc = subprocess.run([sys.executable, "-m", "msvdd", "dataset=folder", f"dataset.path={data}",
                           f"paths.root_dir={tmp_path / 'out'}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]  # one line, no traceback
    assert proc.stderr.startswith(f"msvdd: error: dataset.path='{data}")


def test_cli_exit_code_2_for_a_missing_folder(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "msvdd", "dataset=folder", f"dataset.path={tmp_path / 'none'}",
                           f"paths.root_dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("msvdd: error: dataset.path=")
    assert not list(tmp_path.rglob("results.json"))


def test_the_split_layout_logs_its_normal_classes_by_name(make_cfg, split_folder, tmp_path, caplog):
    """train/'s subfolders name the normal classes (the log said 'classes None')."""
    caplog.set_level("INFO", logger="msvdd.run.job")
    run(make_cfg("dataset=folder", f"dataset.path={split_folder}", "method=knn", "plots=false"), tmp_path / "run")
    assert "folder knn classes ['0', '1']: AUROC" in caplog.text
