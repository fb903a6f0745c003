"""The validation split of own data (dataset.validation_size, group.split=dev): the same training items
whichever part is scored, validation and test parts disjoint, the test split never holding a validation
item, and a dev run without a validation split refused."""

import numpy as np
import pytest
from own_files import ANOMALY, NORMAL, digit_arrays, digit_table, write_class_folder

from msvdd.data import Arrays, Folder, Table
from msvdd.errors import ConfigError


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "digits.csv"
    digit_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("arrays") / "digits.npz"
    np.savez(path, **digit_arrays())
    return path


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    return write_class_folder(tmp_path_factory.mktemp("classes"))


def _loaders(csv_file, npz, class_folder):
    return {
        "table": lambda **kw: Table(csv_file, label="digit", normal_classes=[0, 1], **kw),
        "arrays": lambda **kw: Arrays(npz, normal_classes=[0, 1], **kw),
        "folder": lambda **kw: Folder(class_folder, normal_classes=["0", "1"], **kw),
    }


@pytest.mark.parametrize("source", ["table", "arrays", "folder"])
def test_dev_and_test_parts_share_training_and_never_overlap(source, csv_file, npz, class_folder):
    make = _loaders(csv_file, npz, class_folder)[source]
    plain, test, dev = make().load(), make(validation_size=0.2).load(), make(validation_size=0.2, split="dev").load()
    assert dev.x_train.shape == test.x_train.shape and (dev.x_train == test.x_train).all()
    assert set(dev.names_test).isdisjoint(test.names_test)
    n_anomalies = int(plain.y_test.sum())
    held = int(np.ceil(0.2 * n_anomalies))  # one anomaly class (7)
    assert int(dev.y_test.sum()) == held and int(test.y_test.sum()) == n_anomalies - held
    held_normal = sum(int(np.ceil(0.2 * int((plain.y_train == c).sum()))) for c in NORMAL)
    assert len(dev.y_test) - int(dev.y_test.sum()) == held_normal == len(plain.x_train) - len(test.x_train)
    assert int((test.y_test == 0).sum()) == int((plain.y_test == 0).sum())  # normal test items unchanged
    assert test.split == {"scored": "test", "validation_size": {"normal": held_normal, "anomaly": held},
                          "test_items": len(test.y_test)}
    assert dev.split["scored"] == "validation" and len(set(dev.labels_test.tolist())) == len(NORMAL + ANOMALY)


def test_no_validation_split_changes_nothing(csv_file):
    a = Table(csv_file, label="digit", normal_classes=[0, 1]).load()
    b = Table(csv_file, label="digit", normal_classes=[0, 1], validation_size=0).load()
    assert a.names_test == b.names_test and (a.x_train == b.x_train).all()


def test_dev_without_a_validation_split_is_refused(csv_file):
    with pytest.raises(ConfigError, match=r"dataset.validation_size=0.0: group.split=dev scores your data's "
                                          r"validation split.*allowed: a fraction in \(0, 1\)"):
        Table(csv_file, label="digit", normal_classes=[0, 1], split="dev")
    with pytest.raises(ConfigError, match=r"group.split='val'.*table \(score the test split\) \| dev"):
        Table(csv_file, label="digit", normal_classes=[0, 1], validation_size=0.2, split="val")
    with pytest.raises(ConfigError, match=r"dataset.validation_size=1.5"):
        Table(csv_file, label="digit", normal_classes=[0, 1], validation_size=1.5)


def test_class_folder_tests_every_anomaly_image(class_folder):
    data = Folder(class_folder, normal_classes=["0", "1"]).load()
    assert int(data.y_test.sum()) == len(list((class_folder / "7").glob("*.png")))
