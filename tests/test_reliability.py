"""Issue 12: failures stay local and readable: errors cross process boundaries, runs never share a folder,
every user mistake is one line with exit 2."""

import pickle

import pytest

from msvdd.errors import ConfigError, DataNotFoundError, TrainingDivergedError


@pytest.mark.parametrize("err", [
    ConfigError("train.lr", -1.0, "a positive number"),
    ConfigError("dataset.normal_classes", [0, 12], "ids in 0..9", "class ids out of range: [12]"),
    DataNotFoundError("mnist", "/data/MNIST", ["train-images-idx3-ubyte.gz"], "no network"),
    TrainingDivergedError("train: loss became nan in epoch 3"),
])
def test_errors_survive_pickling_with_their_message(err):
    # sweep workers send their error back pickled; one that cannot be rebuilt kills the whole batch
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and back.__dict__ == err.__dict__
