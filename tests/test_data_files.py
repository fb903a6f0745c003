"""Corrupt dataset files and failed downloads: one line naming the file, exit 2, the data root untouched."""

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from test_data import write_cifar_batches, write_idx, write_mnist_like

from msvdd.data import CIFAR10, MNIST
from msvdd.errors import DataFileError, DataNotFoundError


def _truncate(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return path


# Each case spoils one file of a well-formed tiny dataset and returns that file's path.
MNIST_CASES = {
    "truncated gz": lambda f: _truncate(f / "train-images-idx3-ubyte.gz"),
    "random bytes gz": lambda f: _random_bytes(f / "t10k-images-idx3-ubyte.gz"),
    "random bytes": lambda f: _random_bytes(f / "t10k-labels-idx1-ubyte"),  # preferred over the .gz
    "wrong magic": lambda f: write_idx(f / "train-labels-idx1-ubyte.gz", np.zeros(30), magic=2052),
    "labels for images": lambda f: write_idx(f / "train-images-idx3-ubyte.gz", np.zeros(30)),
    "labels out of range": lambda f: write_idx(f / "t10k-labels-idx1-ubyte.gz", np.arange(20) % 12),
    "label count": lambda f: write_idx(f / "train-labels-idx1-ubyte.gz", np.zeros(29)),
}


@pytest.mark.parametrize("case", list(MNIST_CASES))
def test_corrupt_mnist_file_is_one_line_naming_it(case, tmp_path, no_download):
    folder = tmp_path / "MNIST" / "raw"
    write_mnist_like(folder)
    spoilt = MNIST_CASES[case](folder)
    with pytest.raises(DataFileError) as err:
        MNIST([0], root=tmp_path).load()
    message = str(err.value)
    assert message.startswith(f"{spoilt}: ") and "\n" not in message, message
    assert no_download == []


@pytest.mark.parametrize("spoil", ["truncated", "labels out of range", "label count"])
def test_corrupt_cifar_batch_is_one_line_naming_it(spoil, tmp_path, no_download):
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    write_cifar_batches(folder)
    batch = folder / "data_batch_2"
    if spoil == "truncated":
        _truncate(batch)
    else:
        labels = [0, 1, 2, 10] if spoil == "labels out of range" else [0, 1, 2]
        batch.write_bytes(pickle.dumps({b"data": np.zeros((4, 3072), np.uint8), b"labels": labels}))
    with pytest.raises(DataFileError) as err:
        CIFAR10([0], root=tmp_path).load()
    assert str(err.value).startswith(f"{batch}: ") and "\n" not in str(err.value)


def test_cli_corrupt_data_file_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "data" / "MNIST" / "raw"
    write_mnist_like(folder)
    spoilt = _truncate(folder / "train-images-idx3-ubyte.gz")
    proc = subprocess.run([sys.executable, "-m", "msvdd", "dataset=mnist", "dataset.normal_classes=[0]",
                           f"dataset.root={tmp_path / 'data'}", f"paths.root_dir={tmp_path / 'out'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"msvdd: error: {spoilt}: cannot read the file")
    assert not list((tmp_path / "out").rglob("results.json"))


# ---------------------------------------------------------------- downloads


def _tree(root: Path) -> dict:
    """Every path under root with its size: what 'untouched' is checked against."""
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")} if root.exists() else None


@pytest.fixture
def fake_torchvision(monkeypatch, tmp_path):
    """torchvision's MNIST/CIFAR10 replaced by fakes that write into the root they are given, then
    (``fail=True``) fail half-way like a lost connection. Temporary folders go to tmp_path/tmp."""
    import tempfile

    import torchvision.datasets

    staging = tmp_path / "tmp"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    state = {"fail": True, "roots": []}

    def mnist(root, *args, **kwargs):
        state["roots"].append(root)
        raw = Path(root) / "MNIST" / "raw"
        write_mnist_like(raw, gz=True)
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
            (raw / name).write_bytes(gzip.decompress((raw / f"{name}.gz").read_bytes()))  # torchvision extracts
        if state["fail"]:
            (raw / "t10k-labels-idx1-ubyte.gz").unlink()
            raise RuntimeError("Error downloading t10k-labels-idx1-ubyte.gz: connection reset")

    def cifar(root, *args, **kwargs):
        state["roots"].append(root)
        write_cifar_batches(Path(root) / "cifar-10-batches-py")
        if state["fail"]:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(torchvision.datasets, "MNIST", mnist)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", cifar)
    return state


@pytest.mark.parametrize("before", ["no root", "empty root", "one file missing"])
@pytest.mark.parametrize("cls", [MNIST, CIFAR10])
def test_failed_download_leaves_the_data_root_untouched(cls, before, tmp_path, fake_torchvision):
    root = tmp_path / "data"
    if before != "no root":
        root.mkdir()
    if before == "one file missing":
        if cls is MNIST:
            write_mnist_like(root / "MNIST" / "raw")
            (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
        else:
            write_cifar_batches(root / "cifar-10-batches-py")
            (root / "cifar-10-batches-py" / "test_batch").unlink()
    tree = _tree(root)
    with pytest.raises(DataNotFoundError, match="download failed") as err:
        cls([0], root=root).load()
    assert "\n" not in str(err.value)
    assert _tree(root) == tree
    assert fake_torchvision["roots"] and not any(r.startswith(str(root)) for r in fake_torchvision["roots"])
    assert not list((tmp_path / "tmp").iterdir())  # the temporary download folder is gone too


@pytest.mark.parametrize("cls", [MNIST, CIFAR10])
def test_complete_download_moves_only_the_missing_files_into_place(cls, tmp_path, fake_torchvision):
    fake_torchvision["fail"] = False
    root = tmp_path / "data"
    if cls is MNIST:
        kept = write_mnist_like(root / "MNIST" / "raw", n_train=40, gz=False)  # differs from the fake's 30
        (root / "MNIST" / "raw" / "train-images-idx3-ubyte").unlink()
        (root / "MNIST" / "raw" / "train-labels-idx1-ubyte").unlink()
    data = cls([0], root=root).load()
    folder = root / ("MNIST/raw" if cls is MNIST else "cifar-10-batches-py")
    names = sorted(p.name for p in folder.iterdir())
    if cls is MNIST:
        assert names == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte",
                         "train-labels-idx1-ubyte"]
        assert len(data.labels_test) == len(kept["t10k-labels-idx1-ubyte"]) and len(data.x_train) == 3  # 30 / 10
    else:
        assert names == ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
        assert data.x_test.shape == (4, 3, 32, 32)
    assert not list((tmp_path / "tmp").iterdir())


def test_data_file_error_survives_pickling():
    import pickle

    err = DataFileError("/data/MNIST/raw/t10k-labels-idx1-ubyte.gz", "labels outside 0..9:\n[12]")
    back = pickle.loads(pickle.dumps(err))  # a sweep worker sends it back pickled
    assert type(back) is DataFileError and str(back) == str(err) == "/data/MNIST/raw/t10k-labels-idx1-ubyte.gz: " \
        "labels outside 0..9: [12]" and back.path == err.path
