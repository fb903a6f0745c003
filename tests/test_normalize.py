"""dataset.normalize: each rule's numbers on real images, its record in model.pt, and predict applying it
to new data exactly as the run did; feature rows (n, d) in arrays read as a table."""

import numpy as np
import pandas as pd
import pytest
import torch
from own_files import digit_arrays
from sklearn.metrics import roc_auc_score
from test_predict import _train

from msvdd.data import Arrays
from msvdd.data.normalize import NORMALIZATIONS, apply_normalization, fit_normalization
from msvdd.data.preprocess import gcn_l1
from msvdd.errors import ConfigError
from msvdd.model_file import load_model
from msvdd.predict import main


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("arrays") / "digits.npz"
    np.savez(path, **digit_arrays())
    return path


def _rgb(n=40, seed=0):
    """Colour images whose channels differ, so per-channel statistics are not one number."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, 6, 5), generator=g, dtype=torch.uint8)
    x[:, 2] //= 4  # a dark blue channel
    return x


def test_each_rule_on_the_training_images():
    x = _rgb()
    minmax, rec = fit_normalization(x, 255.0, "minmax")
    assert (float(minmax.min()), float(minmax.max())) == (0.0, 1.0)
    assert rec["scale"] == pytest.approx([0.0, 1.0])  # the raw /255 range: uint8 noise spans 0..255
    std, rec = fit_normalization(x, 255.0, "standardize")
    assert len(rec["mean"]) == len(rec["std"]) == 3 and rec["mean"][2] < rec["mean"][0] / 3
    per_channel = std.transpose(0, 1).reshape(3, -1)
    assert per_channel.mean(1).abs().max() < 1e-6 and (per_channel.std(1, correction=0) - 1).abs().max() < 1e-5
    none, rec = fit_normalization(x, 255.0, "none")
    assert rec == {"normalize": "none"} and torch.equal(none, x.float() / 255)
    gcn, rec = fit_normalization(x, 255.0, "gcn_minmax")
    ref = gcn_l1(x.float() / 255)
    assert torch.equal(gcn, (ref - ref.min()) / (ref.max() - ref.min()))


@pytest.mark.parametrize("rule", sorted(NORMALIZATIONS))
def test_applying_a_record_repeats_the_fit(rule):
    x = _rgb()
    fitted, record = fit_normalization(x, 255.0, rule)
    assert torch.equal(apply_normalization(x, record, 255.0), fitted)
    assert apply_normalization(x, record, 255.0).dtype == torch.float32


def test_minmax_keeps_brightness_that_gcn_removes():
    x = _rgb()
    bright = torch.cat([x[:20], (x[20:] // 2)])  # half the images darker, same pattern
    gcn, _ = fit_normalization(bright, 255.0, "gcn_minmax")
    minmax, _ = fit_normalization(bright, 255.0, "minmax")
    assert torch.allclose(gcn[20:30].mean(), gcn[:10].mean(), atol=0.05)  # GCN: brightness gone
    assert float(minmax[20:].mean()) < 0.6 * float(minmax[:20].mean())


def test_an_unknown_rule_names_the_field_and_the_rules(npz):
    with pytest.raises(ConfigError, match=r"dataset.normalize='gcn'.*gcn_minmax \| minmax \| standardize \| none"):
        Arrays(npz, normal_classes=[0, 1], normalize="gcn")


@pytest.mark.slow
def test_predict_applies_the_runs_rule(npz, tmp_path):
    run_dir = _train(tmp_path, "dataset=arrays", f"dataset.path={npz}", "dataset.normal_classes=[0,1]",
                     "dataset.normalize=standardize", "method=svdd_one", "plots=false")
    saved = load_model(run_dir / "model.pt", "cpu", "model")
    assert saved.meta_["preprocessing"]["normalize"] == "standardize"
    assert main([str(run_dir / "model.pt"), str(npz), "--out", str(tmp_path / "s.csv")]) == 0
    got, expected = pd.read_csv(tmp_path / "s.csv", dtype=str), pd.read_csv(run_dir / "test_scores.csv", dtype=str)
    assert got["score"].tolist() == expected["score"].tolist()


def _rows(path, anomalies_far=True):
    rng = np.random.default_rng(0)
    normal = rng.normal(0, 1, (120, 5)) * [1, 10, 100, 1, 1]  # columns of very different scales
    far = rng.normal(0, 1, (30, 5)) * [1, 10, 100, 1, 1] + [6, 0, 0, 6, 6]
    np.savez(path, x_train=normal[:80], x_test=np.concatenate([normal[80:], far]),
             y_test=np.r_[np.zeros(40, int), np.ones(30, int)])
    return path


def test_feature_rows_read_as_a_table(tmp_path):
    data = Arrays(_rows(tmp_path / "rows.npz")).load()
    assert data.x_train.shape == (80, 5) and data.preprocessing["kind"] == "table"
    assert data.preprocessing["columns"] == [f"x{i}" for i in range(5)]
    assert data.x_train.mean(0).abs().max() < 1e-5 and (data.x_train.std(0, correction=0) - 1).abs().max() < 1e-5


def test_feature_rows_refuse_an_image_normalisation(tmp_path):
    with pytest.raises(ConfigError, match=r"dataset.normalize='minmax': feature rows \(n, d\) are standardised"):
        Arrays(_rows(tmp_path / "rows.npz"), normalize="minmax").load()


def test_feature_rows_need_rows_in_both_arrays(tmp_path):
    np.savez(tmp_path / "mixed.npz", x_train=np.zeros((10, 5)), x_test=np.zeros((10, 1, 5)), y_test=np.r_[0, 1] * 5)
    with pytest.raises(ConfigError, match=r"feature rows \(n, d\) in both x_train and x_test"):
        Arrays(tmp_path / "mixed.npz").load()


@pytest.mark.slow
def test_feature_rows_train_with_mlp_and_predict_reads_npz_rows(tmp_path):
    path = _rows(tmp_path / "rows.npz")
    run_dir = _train(tmp_path, "dataset=arrays", f"dataset.path={path}", "network=mlp", "method=svdd_one")
    scores = pd.read_csv(run_dir / "test_scores.csv")
    assert roc_auc_score(scores["anomaly"], scores["score"]) > 0.9
    assert main([str(run_dir / "model.pt"), str(path), "--out", str(tmp_path / "s.csv")]) == 0
    got = pd.read_csv(tmp_path / "s.csv", dtype=str)
    assert got["score"].tolist() == pd.read_csv(run_dir / "test_scores.csv", dtype=str)["score"].tolist()
    assert got["label"].tolist() == ["0"] * 40 + ["1"] * 30  # the rows' y_test (was: 'unknown file type .npz')


def test_a_lenet_on_feature_rows_says_use_mlp(tmp_path):
    from msvdd.networks.lenet import _check
    with pytest.raises(ConfigError, match="network=mlp for feature rows"):
        _check((13,), [8, 4], 5, 32, "leaky_relu")


def test_extremes_png_draws_one_pixel_high_images(tmp_path):
    """(n, 1, 13) arrays are images one pixel high: extremes.png draws them as strips (was a crash)."""
    from msvdd.figures import extreme_images
    x = np.random.default_rng(0).normal(size=(40, 1, 1, 13)).astype(np.float32)
    extreme_images(x, np.arange(40.0), np.zeros(40, int), tmp_path / "extremes.png", n=4)
    assert (tmp_path / "extremes.png").stat().st_size > 1000


def test_benchmarks_take_the_rule_too():
    from msvdd.data import Digits
    ruff, plain = Digits([0, 1]).load(), Digits([0, 1], normalize="minmax").load()
    assert ruff.preprocessing["normalize"] == "gcn_minmax" and plain.preprocessing["normalize"] == "minmax"
    x, y = Digits([0, 1]).raw()[:2]
    pixels = torch.from_numpy(x[np.isin(y, [0, 1])]).float().reshape(plain.x_train.shape) / 16
    lo, hi = plain.scale
    assert (lo, hi) == (float(pixels.min()), float(pixels.max()))
    assert torch.equal(plain.x_train, (pixels - lo) / (hi - lo))
    assert not torch.equal(ruff.x_train, plain.x_train)


def test_minmax_from_the_first_class_as_the_seeds_code():
    """The seed's code scales a group with its first normal class's constants (docs/fidelity.md)."""
    from msvdd.data import Digits
    first = Digits([3, 0], minmax_from="first_class").load()
    assert first.scale == Digits([3]).load().scale != Digits([3, 0]).load().scale
    assert len(first.x_train) == len(Digits([3, 0]).load().x_train)
    with pytest.raises(ConfigError, match=r"dataset.minmax_from='first'.*group .*\| first_class"):
        Digits([3, 0], minmax_from="first")


@pytest.mark.skipif(not __import__("os").environ.get("MSVDD_DATA"), reason="MNIST needs MSVDD_DATA")
def test_minmax_from_the_first_class_on_mnist_equals_the_references_constants():
    from msvdd.data import MNIST
    # the constants of MNIST class 0 after GCN-L1 in Ruff et al.'s code: (-0.8826567, 9.0015455)
    assert MNIST([0, 4, 5, 9], minmax_from="first_class").load().scale == pytest.approx(
        (-0.8826567065619495, 9.001545489292527), abs=1e-5)
