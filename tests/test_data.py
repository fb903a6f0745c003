"""Tests of msvdd.data: readers on tiny files written here, preprocessing maths, the Digits split, config
validation, missing-data errors, and (with MSVDD_DATA set) the real datasets' known counts and constants."""

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from msvdd.data import (
    CIFAR10,
    MNIST,
    Digits,
    FashionMNIST,
    OneClassData,
    apply_min_max,
    fit_min_max,
    gcn_l1,
    read_cifar10,
    read_idx,
)
from msvdd.data.sources import digits_arrays, raw_arrays
from msvdd.errors import ConfigError, DataNotFoundError

CONF = Path(__file__).resolve().parents[1] / "conf" / "dataset"
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")  # fmt: skip


# ---------------------------------------------------------------- helpers writing tiny dataset files


def write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> Path:
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else {1: 2049, 3: 2051}[array.ndim]
    raw = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def write_mnist_like(folder: Path, n_train=30, n_test=20, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for name, a in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), a)
    return arrays


def write_cifar_batches(folder: Path, per_batch=4, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, per_batch)], b"batch_label": b"x"}  # fmt: skip
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
        batches[name] = batch
    return batches


# ---------------------------------------------------------------- readers


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_images_and_labels(tmp_path, gz):
    suffix = ".gz" if gz else ""
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    labels = np.array([7, 3, 0, 9])
    x = read_idx(write_idx(tmp_path / f"img{suffix}", images))
    y = read_idx(write_idx(tmp_path / f"lab{suffix}", labels))
    assert x.dtype == np.uint8 and x.shape == (2, 3, 4) and np.array_equal(x, images)
    assert y.dtype == np.uint8 and np.array_equal(y, labels)
    assert x.flags.writeable


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_wrong_magic_and_size(tmp_path, gz):
    suffix = ".gz" if gz else ""
    bad_magic = write_idx(tmp_path / f"magic{suffix}", np.zeros((2, 2, 2)), magic=2052)
    with pytest.raises(ValueError, match="magic") as err:
        read_idx(bad_magic)
    assert bad_magic.name in str(err.value)
    good = write_idx(tmp_path / "good", np.zeros((2, 2, 2))).read_bytes()
    for name, raw in (("short", good[:-1]), ("long", good + b"\0"), ("tiny", good[:2])):
        path = tmp_path / f"{name}{suffix}"
        path.write_bytes(gzip.compress(raw) if gz else raw)
        with pytest.raises(ValueError, match=name):
            read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"this is not gzip data")
    with pytest.raises(ValueError, match="broken.gz"):
        read_idx(path)


def test_read_cifar10(tmp_path):
    batches = write_cifar_batches(tmp_path, per_batch=4)
    x_train, y_train, x_test, y_test = read_cifar10(tmp_path)
    assert x_train.shape == (20, 3, 32, 32) and x_train.dtype == np.uint8
    assert x_test.shape == (4, 3, 32, 32) and y_train.dtype == np.int64 and y_test.shape == (4,)
    first = batches["data_batch_1"][b"data"][0]
    assert np.array_equal(x_train[0, 0].ravel(), first[:1024])  # rows are R plane, G plane, B plane
    assert np.array_equal(x_train[0, 2].ravel(), first[2048:])
    assert np.array_equal(y_train[4:8], batches["data_batch_2"][b"labels"])
    assert np.array_equal(y_test, batches["test_batch"][b"labels"])


def test_read_cifar10_corrupt_batch(tmp_path):
    write_cifar_batches(tmp_path)
    with open(tmp_path / "data_batch_3", "wb") as f:
        pickle.dump({b"data": np.zeros((4, 100), np.uint8), b"labels": [0, 1, 2, 3]}, f)
    with pytest.raises(ValueError, match="data_batch_3"):
        read_cifar10(tmp_path)
    (tmp_path / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="data_batch_3"):
        read_cifar10(tmp_path)
    with open(tmp_path / "data_batch_3", "wb") as f:  # a pickle that would call a function: refused
        pickle.dump({b"data": os.getcwd, b"labels": []}, f)
    with pytest.raises(ValueError, match="data_batch_3.*getcwd"):
        read_cifar10(tmp_path)


# ---------------------------------------------------------------- preprocessing


def test_gcn_l1_per_image():
    x = torch.rand(5, 3, 4, 4) * torch.arange(1, 6).view(5, 1, 1, 1) + torch.arange(5).view(5, 1, 1, 1)
    g = gcn_l1(x)
    flat = g.reshape(5, -1)
    assert g.shape == x.shape and g.dtype == torch.float32
    assert torch.allclose(flat.mean(1), torch.zeros(5), atol=1e-6)
    assert torch.allclose(flat.abs().mean(1), torch.ones(5), atol=1e-6)
    # scale-invariant per image, and by hand for one image
    assert torch.allclose(gcn_l1(x * 7.0), g, atol=1e-5)
    one = x[2].double()
    expected = (one - one.mean()) / (one - one.mean()).abs().mean()
    assert torch.allclose(g[2].double(), expected, atol=1e-6)


def test_gcn_l1_constant_image_and_input_untouched():
    x = torch.stack([torch.full((1, 3, 3), 0.5), torch.arange(9.0).view(1, 3, 3)]).double()
    before = x.clone()
    g = gcn_l1(x)
    assert not torch.isnan(g).any() and torch.equal(g[0], torch.zeros(1, 3, 3, dtype=torch.float64))
    assert g.dtype == torch.float64 and torch.equal(x, before)
    assert gcn_l1(torch.zeros(2, 4, dtype=torch.uint8)).dtype == torch.float32


def test_gcn_l1_chunks_agree(monkeypatch):
    import msvdd.data.preprocess

    x = torch.rand(10, 2, 3, 3)
    whole = gcn_l1(x)
    monkeypatch.setattr(msvdd.data.preprocess, "_CHUNK_VALUES", 40)  # 2 images per chunk
    assert torch.equal(gcn_l1(x), whole)


def test_min_max_uses_training_constants():
    train = torch.tensor([[-1.0, 0.0], [1.0, 3.0]])
    test = torch.tensor([[-3.0, 7.0]])
    lo, hi = fit_min_max(train)
    assert (lo, hi) == (-1.0, 3.0)
    assert torch.allclose(apply_min_max(train, lo, hi), torch.tensor([[0.0, 0.25], [0.5, 1.0]]))
    assert torch.allclose(apply_min_max(test, lo, hi), torch.tensor([[-0.5, 2.0]]))  # may leave [0, 1]
    assert torch.equal(test, torch.tensor([[-3.0, 7.0]]))  # not in place by default
    assert torch.equal(apply_min_max(torch.ones(2), 1.0, 1.0), torch.zeros(2))  # zero range: no NaN


# ---------------------------------------------------------------- Digits


def test_digits_split():
    d = Digits([0, 1, 3]).load()
    assert isinstance(d, OneClassData) and d.name == "digits" and d.normal_classes == (0, 1, 3)
    assert d.x_train.shape[1:] == (1, 8, 8) and d.x_train.dtype == torch.float32
    assert set(d.y_train.tolist()) == {0, 1, 3} and d.y_train.dtype == torch.int64
    assert len(d.labels_test) == 540  # ceil(0.3 * 1797), the whole test split
    assert torch.equal(d.y_test, (~torch.isin(d.labels_test, torch.tensor([0, 1, 3]))).long())
    # stratified: every class is split in proportion (differences of one image from rounding)
    test_counts = np.bincount(d.labels_test.numpy(), minlength=10)
    all_counts = np.bincount(digits_arrays()[1], minlength=10)
    assert np.all(np.abs(test_counts - 0.3 * all_counts) <= 1)
    assert len(d.y_train) == sum(all_counts[c] - test_counts[c] for c in (0, 1, 3))
    # min-max on the training data: training in [0, 1], test may leave it
    assert d.x_train.min() == 0 and d.x_train.max() == 1
    assert d.scale[0] < 0 < d.scale[1]


def test_digits_split_is_seeded():
    a, b = Digits([2], split_seed=5).load(), Digits([2], split_seed=5).load()
    c = Digits([2], split_seed=6).load()
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.labels_test, c.labels_test)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "value, problem",
    [([], "empty"), ([0, 0], "duplicate"), ([10], "out of range"), ([-1], "out of range"),
     (list(range(10)), "every class"), ([1.5], "integer"), (["1"], "integer"), ([True], "integer"),
     ("0,1", "list"), (None, "list")],
)  # fmt: skip
@pytest.mark.parametrize("cls", [Digits, MNIST, FashionMNIST, CIFAR10])
def test_normal_classes_validation(cls, value, problem, tmp_path):
    with pytest.raises(ConfigError, match=problem) as err:
        cls(value, root=tmp_path)  # fails at once: no file is read
    assert err.value.field == "dataset.normal_classes"
    assert "1 to 9 distinct class ids in 0..9" in str(err.value)


def test_valid_normal_classes_accepted(tmp_path):
    assert MNIST([3, 1], root=tmp_path).normal_classes == (3, 1)
    assert MNIST(np.array([2, 5]), root=tmp_path).normal_classes == (2, 5)
    assert CIFAR10(4, root=tmp_path).normal_classes == (4,)
    assert Digits(list(range(9))).normal_classes == tuple(range(9))


@pytest.mark.parametrize("kwargs, field", [
    ({"test_size": 0.0}, "test_size"), ({"test_size": 1.0}, "test_size"), ({"test_size": "0.3"}, "test_size"),
    ({"test_size": 0.001}, "test_size"), ({"test_size": 0.999}, "test_size"),
    ({"split_seed": -1}, "split_seed"), ({"split_seed": 1.5}, "split_seed"),
])  # fmt: skip
def test_digits_argument_validation(kwargs, field):
    with pytest.raises(ConfigError) as err:
        Digits([0], **kwargs)
    assert err.value.field == f"dataset.{field}"


def test_root_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("MSVDD_DATA", str(tmp_path))
    assert MNIST([0]).root == tmp_path
    assert MNIST([0], root="").root == tmp_path
    monkeypatch.delenv("MSVDD_DATA")
    assert MNIST([0]).root == Path("data").absolute()
    with pytest.raises(ConfigError, match="dataset.root"):
        MNIST([0], root=3)


# ---------------------------------------------------------------- files: missing, fake, configs


@pytest.mark.parametrize(
    "cls, folder, expected",
    [(MNIST, "MNIST/raw", "train-images-idx3-ubyte"), (FashionMNIST, "FashionMNIST/raw", "t10k-labels-idx1-ubyte"),
     (CIFAR10, "cifar-10-batches-py", "data_batch_1")],
)  # fmt: skip
def test_missing_data_names_dataset_folder_and_files(cls, folder, expected, tmp_path, no_download):
    ds = cls([0], root=tmp_path)
    with pytest.raises(DataNotFoundError) as err:
        ds.load()
    message = str(err.value)
    assert cls.name in message and str(tmp_path / folder) in message and expected in message
    assert "download failed" in message and len(no_download) == 1
    assert not no_download[0].startswith(str(tmp_path))  # downloads go to a temporary folder, not the root


def test_mnist_from_tiny_files(tmp_path, no_download):
    arrays = write_mnist_like(tmp_path / "MNIST" / "raw", gz=True)
    d = MNIST([1, 2], root=tmp_path).load()
    assert d.x_train.shape == (6, 1, 28, 28) and d.x_test.shape == (20, 1, 28, 28)
    assert torch.equal(d.labels_test, torch.from_numpy(arrays["t10k-labels-idx1-ubyte"]).long())
    assert d.y_test.sum() == 16 and no_download == []
    hits = raw_arrays.cache_info().hits
    MNIST([3], root=tmp_path).load()
    assert raw_arrays.cache_info().hits == hits + 1  # second load: no file read
    write_mnist_like(tmp_path / "FashionMNIST" / "raw", gz=False)
    assert FashionMNIST([0], root=tmp_path).load().x_train.shape == (3, 1, 28, 28)


def test_cifar10_from_tiny_files(tmp_path, no_download):
    write_cifar_batches(tmp_path / "cifar-10-batches-py", per_batch=6)
    d = CIFAR10([0, 1, 2, 3, 4], root=tmp_path).load()
    assert d.x_train.shape[1:] == (3, 32, 32) and d.x_test.shape == (6, 3, 32, 32)
    assert set(d.y_train.tolist()) <= {0, 1, 2, 3, 4}


def test_inconsistent_idx_files(tmp_path, no_download):
    folder = tmp_path / "MNIST" / "raw"
    write_mnist_like(folder)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(29))
    with pytest.raises(ValueError, match="29 labels for the 30 images"):
        MNIST([0], root=tmp_path).load()


@pytest.mark.parametrize("name, cls", [("digits", Digits), ("mnist", MNIST), ("fashion_mnist", FashionMNIST),
                                       ("cifar10", CIFAR10)])  # fmt: skip
def test_yaml_configs_instantiate(name, cls, monkeypatch, tmp_path):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    monkeypatch.setenv("MSVDD_DATA", str(tmp_path))
    ds = instantiate(OmegaConf.load(CONF / f"{name}.yaml"))
    assert type(ds) is cls
    if cls is not Digits:
        assert ds.root == tmp_path and ds.normal_classes == (0,)
    else:
        assert ds.normal_classes == (0, 1, 3) and (ds.test_size, ds.split_seed) == (0.3, 0)


# ---------------------------------------------------------------- real data (MSVDD_DATA)

DATA = os.environ.get("MSVDD_DATA", "")
needs_data = pytest.mark.skipif(not (DATA and Path(DATA).is_dir()), reason="MSVDD_DATA not set to a folder")


@pytest.mark.realdata
@needs_data
def test_real_mnist_counts_and_constants():
    _, y_train, _, y_test = raw_arrays("mnist", str(Path(DATA).absolute()))
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    d0 = MNIST([0]).load()
    assert d0.scale == pytest.approx((-0.8826567065619495, 9.001545489292527), abs=1e-5)
    assert d0.x_train.shape == (5923, 1, 28, 28) and d0.x_test.shape == (10000, 1, 28, 28)
    assert int(d0.y_test.sum()) == 10000 - 980
    assert MNIST([1]).load().scale == pytest.approx((-0.6661464580883915, 20.108062262467364), abs=1e-5)


@pytest.mark.realdata
@needs_data
def test_real_fashion_mnist():
    x_train, _, x_test, _ = raw_arrays("fashion_mnist", str(Path(DATA).absolute()))
    assert len(x_train) == 60000 and len(x_test) == 10000
    d = FashionMNIST([0]).load()
    assert d.x_train.shape == (6000, 1, 28, 28) and d.x_test.shape == (10000, 1, 28, 28)


@pytest.mark.realdata
@needs_data
def test_real_cifar10():
    d = CIFAR10([0]).load()
    assert d.x_train.shape == (5000, 3, 32, 32) and d.x_test.shape == (10000, 3, 32, 32)
    assert d.scale == pytest.approx((-22.81, 13.72), abs=0.01)
    assert int(d.y_test.sum()) == 9000
