"""The baseline detectors on the real 8x8 digits: they detect, persist, and refuse bad parameters."""

import json
import pathlib
import pickle
import pickletools
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from conftest import ROOT
from sklearn.metrics import roc_auc_score

from msvdd.baselines import (
    AEReconstruction,
    IForestDetector,
    KNNDetector,
    LOFDetector,
    OCSVMDetector,
    PCAFeatures,
    PixelFeatures,
)
from msvdd.errors import ConfigError
from msvdd.model_file import load_model
from msvdd.networks import LeNetAutoEncoder
from msvdd.run.job import run
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.training import TrainSettings

PRETRAIN = dict(epochs=30, lr=1e-3, milestones=[20], batch_size=32)
DETECTORS = {
    "knn": lambda: KNNDetector(features=PCAFeatures(32)),
    "knn_kth_pixels": lambda: KNNDetector(n_neighbors=3, aggregate="kth", features=PixelFeatures()),
    "lof": lambda: LOFDetector(features=PCAFeatures(32)),
    "iforest": lambda: IForestDetector(features=PCAFeatures(32), seed=3),
    "ocsvm": lambda: OCSVMDetector(features=PCAFeatures(32, whiten=True), max_train=200),
    "ae_recon": lambda: AEReconstruction(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16),
                                         TrainSettings("pretrain", **PRETRAIN)),
}


@pytest.fixture(scope="module")
def fitted(digits):
    """Every detector fitted once on the normal digits [0, 1, 3] (one torch thread, as runs use)."""
    torch.set_num_threads(1)
    return {name: make().fit(digits.x_train) for name, make in DETECTORS.items()}


@pytest.mark.parametrize("name", DETECTORS)
def test_beats_chance_clearly_on_an_easy_group(fitted, digits, name):
    scores = fitted[name].score_samples(digits.x_test)
    assert scores.shape == (len(digits.x_test),) and np.isfinite(scores).all()
    assert roc_auc_score(digits.y_test.numpy(), scores) > 0.85  # chance is 0.5


def pickled_globals(path) -> set[str]:
    """Every class or function the pickle inside a torch.save zip names: what unpickling it would import."""
    with zipfile.ZipFile(path) as z:
        data = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg)
        elif op.name == "STACK_GLOBAL":
            found.add(" ".join(strings[-2:]))
        elif isinstance(arg, str):
            strings.append(arg)
    return found


def is_torch_rebuild(name: str) -> bool:
    """What torch.save itself pickles for tensors and dicts: no object of msvdd, scikit-learn or numpy."""
    module, _, attr = name.partition(" ")
    return name in ("torch._utils _rebuild_tensor_v2", "collections OrderedDict") or (
        module == "torch" and attr.endswith("Storage"))


@pytest.mark.parametrize("name", DETECTORS)
def test_save_load_scores_bit_identically(fitted, digits, tmp_path, name):
    model, path, x = fitted[name], tmp_path / "model.pt", digits.x_test
    model.save(path, meta={"dataset": "digits"})
    assert not list(tmp_path.glob("*.tmp"))
    file = torch.load(path, weights_only=True)  # tensors and plain values only: nothing to run on loading
    assert file["kind"] == model.kind == model.name and file["meta"] == {"dataset": "digits"}
    names = pickled_globals(path)
    assert names and all(is_torch_rebuild(n) for n in names), names
    loaded = type(model).load(path)
    assert type(loaded) is type(model) and type(load_model(path)) is type(model)
    assert loaded.meta_ == {"dataset": "digits"}
    assert np.array_equal(model.score_samples(x), loaded.score_samples(x))
    assert np.array_equal(model.predict(x), loaded.predict(x))
    assert np.array_equal(model.train_scores_, loaded.train_scores_) and loaded.threshold_ == model.threshold_
    columns, again = model.item_columns(x), loaded.item_columns(x)
    assert list(columns) == list(again) == ["score", "outside"]
    assert all(np.array_equal(columns[k], again[k]) for k in columns)
    assert np.array_equal(columns["outside"], model.predict(x))
    assert loaded.describe() == model.describe() and set(model.describe()) >= {"baseline"}


def test_a_pickled_or_foreign_model_file_is_refused_without_running_it(fitted, tmp_path):
    """The old joblib baselines were pickles: such a file (here one whose loading would create a file)
    stops with one line, and nothing in it runs; a file of another kind is named as such."""

    class Payload:
        def __reduce__(self):
            return pathlib.Path.touch, (tmp_path / "it_ran",)

    with open(tmp_path / "old.pt", "wb") as f:
        pickle.dump({"format": 1, "class": "KNNDetector", "model": Payload()}, f, protocol=2)
    with pytest.raises(ConfigError, match="ckpt_path=") as err:
        KNNDetector.load(tmp_path / "old.pt")
    assert "\n" not in str(err.value) and not (tmp_path / "it_ran").exists()
    fitted["lof"].save(tmp_path / "lof.pt")
    with pytest.raises(ConfigError, match="it holds a lof model, not a knn one"):
        KNNDetector.load(tmp_path / "lof.pt")


@pytest.mark.parametrize("name", DETECTORS)
def test_predict_flags_about_contamination_of_the_training_data(fitted, digits, name):
    model = fitted[name]
    assert (model.train_scores_ > model.threshold_).mean() == pytest.approx(0.1, abs=0.01)
    flagged = model.predict(digits.x_train)
    assert set(np.unique(flagged)) <= {0, 1}
    if not name.startswith(("knn", "lof")):  # neighbour methods score training points leaving them out
        assert flagged.mean() == pytest.approx(0.1, abs=0.01)
    assert model.predict(digits.x_test).mean() > 0.3  # the test set holds 7 other digits (70 % of it)


def test_seeded_detectors_repeat_and_depend_on_the_seed(digits):
    a, b = (IForestDetector(seed=1).fit(digits.x_train).score_samples(digits.x_test) for _ in range(2))
    c = IForestDetector(seed=2).fit(digits.x_train).score_samples(digits.x_test)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    sub = [OCSVMDetector(max_train=100, seed=s).fit(digits.x_train) for s in (0, 0, 1)]
    assert sub[0].n_train_used_ == 100 and np.array_equal(sub[0].svm_.support_vectors_, sub[1].svm_.support_vectors_)
    assert not np.array_equal(sub[0].score_samples(digits.x_test), sub[2].score_samples(digits.x_test))


def test_knn_scores_by_hand(digits):
    x = digits.x_train.flatten(1).numpy()
    model = KNNDetector(n_neighbors=2, features=PixelFeatures()).fit(digits.x_train)
    query = digits.x_test[:5].flatten(1).numpy()
    dist = np.sort(np.linalg.norm(query[:, None] - x[None], axis=2), axis=1)[:, :2].mean(1)
    assert np.allclose(model.score_samples(digits.x_test[:5]), dist, atol=1e-5)
    # a training point's own score leaves it out: never 0 unless it has a duplicate
    assert (model.train_scores_ > 0).mean() > 0.99


def test_pca_is_fitted_on_the_training_data_only(digits):
    model = KNNDetector(features=PCAFeatures(10)).fit(digits.x_train)
    pca = model.features_.pca_
    assert pca.n_components_ == 10
    assert np.allclose(pca.mean_, digits.x_train.flatten(1).numpy().mean(0), atol=1e-5)


def test_ae_recon_reuses_deep_svdds_cached_autoencoder(digits, tmp_path):
    net, settings = LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), TrainSettings("pretrain", **{**PRETRAIN, "epochs": 3})
    svdd = DeepSVDD(net, pretrain=settings, train=TrainSettings(epochs=1), seed=4, pretrain_cache=tmp_path)
    svdd.fit(digits.x_train)
    cached = AEReconstruction(net, settings, seed=4, pretrain_cache=tmp_path).fit(digits.x_train)
    fresh = AEReconstruction(net, settings, seed=4).fit(digits.x_train)
    assert cached.pretrain_cached_ and not fresh.pretrain_cached_
    assert cached.describe()["pretrain_cached"] is True and fresh.describe()["pretrain_cached"] is False
    assert cached.history_ == fresh.history_ == {"pretrain_loss": svdd.history_["pretrain_loss"]}
    assert np.array_equal(cached.score_samples(digits.x_test), fresh.score_samples(digits.x_test))


@pytest.mark.parametrize("make,field", [
    (lambda: KNNDetector(n_neighbors=0), "model.n_neighbors"),
    (lambda: KNNDetector(aggregate="median"), "model.aggregate"),
    (lambda: LOFDetector(n_neighbors=-3), "model.n_neighbors"),
    (lambda: KNNDetector(features=PCAFeatures(0)), "features.n_components"),
    (lambda: OCSVMDetector(nu=0), "model.nu"),
    (lambda: OCSVMDetector(nu=1.5), "model.nu"),
    (lambda: OCSVMDetector(nu=1), "model.nu"),  # valid in theory; scikit-learn's libsvm fit fails on it
    (lambda: OCSVMDetector(max_train=0), "model.max_train"),
    (lambda: IForestDetector(max_samples=1.5), "model.max_samples"),
    (lambda: IForestDetector(contamination=1), "model.contamination"),
    (lambda: AEReconstruction(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 16), None), "model.pretrain"),
])
def test_bad_parameters_stop_with_one_line(digits, make, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")) as err:
        make().fit(digits.x_train)
    assert "allowed" in str(err.value) and "\n" not in str(err.value)


def test_edge_parameters_are_allowed(digits):
    """The largest nu below 1, the fewest training points, k = 1 and every PCA component fit and score."""
    n_test = len(digits.x_test)
    svm = OCSVMDetector(nu=0.99, max_train=50).fit(digits.x_train)
    scores = svm.score_samples(digits.x_test)
    assert scores.shape == (n_test,) and np.isfinite(scores).all() and np.ptp(scores) > 0
    assert svm.n_train_used_ == 50 and len(svm.svm_.support_) >= 0.99 * 50  # nu bounds the support vectors below
    knn = KNNDetector(n_neighbors=1, features=PCAFeatures(64)).fit(digits.x_train)
    scores = knn.score_samples(digits.x_test)
    assert scores.shape == (n_test,) and np.isfinite(scores).all() and (knn.train_scores_ > 0).mean() > 0.99
    # all 64 components of the 64 pixels are a rotation: distances, so the 1-NN scores, are the pixels'
    pixels = KNNDetector(n_neighbors=1, features=PixelFeatures()).fit(digits.x_train).score_samples(digits.x_test)
    assert np.allclose(scores, pixels, rtol=1e-4, atol=1e-4)


def test_unfitted_and_bad_input_errors(digits):
    with pytest.raises(RuntimeError, match="call fit"):
        KNNDetector().score_samples(digits.x_test)
    bad = digits.x_train.clone()
    bad[:2, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite values in 2 samples"):
        KNNDetector().fit(bad)


@pytest.mark.parametrize("override,field", [
    ("model.n_neighbors=0", "model.n_neighbors"),
    ("features.n_components=0", "features.n_components"),
])
def test_run_checks_baseline_config_before_reading_data(make_cfg, tmp_path, override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        run(make_cfg("method=knn", override), tmp_path / "run")
    assert not (tmp_path / "run").joinpath("results.json").exists()


def test_cli_bad_nu_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "msvdd", "method=ocsvm", "model.nu=1.5", f"paths.root_dir={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "msvdd: error: model.nu=1.5 is not allowed; allowed: a number in (0, 1)"
    assert not list(tmp_path.rglob("results.json"))


def test_run_records_the_baseline_resumes_and_evaluates_its_checkpoint(make_cfg, tmp_path):
    cfg = make_cfg("method=lof", "features=pixels", "plots=true")
    auroc = run(cfg, tmp_path / "run")
    record = json.loads((tmp_path / "run" / "results.json").read_text())
    assert record["method"] == "lof" and record["auroc"] == auroc > 0.85
    assert record["baseline"]["features"] == {"name": "pixels"} and record["settings"]["model"]["n_neighbors"] == 20
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"model.pt", "roc.png", "extremes.png"}
    assert run(cfg, tmp_path / "run") == auroc  # complete: skipped
    assert json.loads((tmp_path / "run" / "results.json").read_text())["timings_s"] == record["timings_s"]
    changed = run(make_cfg("method=lof", "features=pixels", "model.n_neighbors=5"), tmp_path / "run")
    assert json.loads((tmp_path / "run" / "results.json").read_text())["settings"]["model"]["n_neighbors"] == 5
    assert changed != auroc  # another k is another job: rerun, not skipped
    evaluated = run(make_cfg("method=lof", f"ckpt_path={tmp_path / 'run' / 'model.pt'}"), tmp_path / "eval")
    assert evaluated == changed


@pytest.fixture(scope="module")
def wine_csv(tmp_path_factory):
    """scikit-learn's bundled wine table as a user's CSV: classes 0 and 1 normal, class 2 the anomaly."""
    from sklearn.datasets import load_wine

    path = tmp_path_factory.mktemp("wine") / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("method,extra", [("ae_recon", []), ("knn", ["features=pixels"]), ("lof", ["features=pixels"])])
def test_baselines_on_a_table_score_every_test_row(make_cfg, tmp_path, wine_csv, method, extra):
    cfg = make_cfg("dataset=table", f"dataset.path={wine_csv}", "dataset.label=target", "dataset.normal_classes=[0,1]",
                   f"method={method}", *extra)
    auroc = run(cfg, tmp_path / "run")
    assert auroc > 0.8
    scores = (tmp_path / "run" / "test_scores.csv").read_text().splitlines()
    assert scores[0] == "name,score,outside,class,anomaly" and len(scores) - 1 == json.loads(
        (tmp_path / "run" / "results.json").read_text())["n_test"]


def test_pca_on_a_narrow_table_uses_the_columns_themselves(make_cfg, tmp_path, wine_csv):
    """50 PCA components of 13 columns would not reduce them: the default features equal features=pixels."""
    table = ("dataset=table", f"dataset.path={wine_csv}", "dataset.label=target", "dataset.normal_classes=[0,1]")
    auroc = run(make_cfg(*table, "method=knn"), tmp_path / "pca")
    assert auroc == run(make_cfg(*table, "method=knn", "features=pixels"), tmp_path / "pixels") > 0.8
    record = json.loads((tmp_path / "pca" / "results.json").read_text())
    assert "the 13 features themselves" in json.dumps(record)
    reloaded = load_model(tmp_path / "pca" / "model.pt", "cpu", "ckpt_path")
    x = np.random.default_rng(0).normal(size=(5, 13))
    assert np.array_equal(reloaded.features_.transform(x), x.astype(np.float32))
