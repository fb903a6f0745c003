"""The pretraining cache: keyed on the whole package's source, and never failing a run on a bad entry."""

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import msvdd.svdd.pretrain_cache
from msvdd.clustering import NoClustering
from msvdd.networks import LeNetAutoEncoder
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.training import TrainSettings

QUICK = dict(epochs=3, lr=1e-3, batch_size=64, milestones=[])


def _fit(digits, cache, rep_dim=16) -> DeepSVDD:
    model = DeepSVDD(LeNetAutoEncoder((1, 8, 8), (8, 4), 3, rep_dim), clustering=NoClustering(),
                     pretrain=TrainSettings("pretrain", **QUICK), train=TrainSettings(**QUICK), pretrain_cache=cache)
    return model.fit(digits.x_train, digits.y_train)


def _entry(folder):
    (entry,) = folder.glob("*.pt")
    return entry


def _other_network(tmp_path, digits, raw):
    _fit(digits, tmp_path / "other", rep_dim=8)  # same layers, other sizes: "size mismatch" on loading
    return _entry(tmp_path / "other").read_bytes()


SPOILERS = {
    "truncated": lambda tmp_path, digits, raw: raw[: len(raw) // 3],
    "another network": _other_network,
    "another tool's file": lambda tmp_path, digits, raw: b"not a torch file",
    "no generator": lambda tmp_path, digits, raw: _resave(raw, generator=torch.zeros(3, dtype=torch.uint8)),
}


def _resave(raw, **changes):
    import io

    entry = torch.load(io.BytesIO(raw), weights_only=True)
    buffer = io.BytesIO()
    torch.save({**entry, **changes}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("spoil", list(SPOILERS))
def test_bad_entry_under_the_right_key_warns_and_pretrains_again(spoil, digits, tmp_path, caplog):
    cache = tmp_path / "cache"
    fresh = _fit(digits, cache)
    entry = _entry(cache)
    entry.write_bytes(SPOILERS[spoil](tmp_path, digits, entry.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="msvdd.svdd.pretrain_cache"):
        again = _fit(digits, cache)
    assert not again.pretrain_cached_
    assert any("ignoring cache entry" in r.message and str(entry) in r.message for r in caplog.records)
    # pretrained again from the same seed: the same model as the first time, bit for bit
    assert again.history_["pretrain_loss"] == fresh.history_["pretrain_loss"]
    assert np.array_equal(again.score_samples(digits.x_test), fresh.score_samples(digits.x_test))
    # and the entry is whole again: the next run reuses it
    third = _fit(digits, cache)
    assert third.pretrain_cached_
    assert np.array_equal(third.score_samples(digits.x_test), fresh.score_samples(digits.x_test))


def test_cache_key_covers_every_source_file_of_the_package(digits, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    assert _fit(digits, cache).pretrain_cached_ is False
    assert _fit(digits, cache).pretrain_cached_ is True
    same = tmp_path / "same" / "msvdd"
    shutil.copytree(msvdd.svdd.pretrain_cache.PACKAGE_DIR, same, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(msvdd.svdd.pretrain_cache, "PACKAGE_DIR", same, raising=False)
    assert _fit(digits, cache).pretrain_cached_ is True  # the same source elsewhere: the same key
    # the pretraining loop, optimiser settings, preprocessing, network, estimator: each edit is a new key
    for n, edited in enumerate(["pretrain.py", "training.py", "data/preprocess.py", "networks/lenet.py", "svdd.py"]):
        changed = tmp_path / edited.replace("/", "_") / "msvdd"
        shutil.copytree(same, changed)
        with open(changed / edited, "a") as f:
            f.write("\n# an edit that could change the pretrained weights\n")
        monkeypatch.setattr(msvdd.svdd.pretrain_cache, "PACKAGE_DIR", changed, raising=False)
        assert _fit(digits, cache).pretrain_cached_ is False, edited
        assert len(list(cache.glob("*.pt"))) == n + 2


def test_a_read_only_shared_cache_is_read_and_never_fails_the_run(digits, tmp_path, monkeypatch, caplog):
    """A shared cache that this user cannot write: its entries are used; a missing one is pretrained, not stored."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from own_files import make_read_only, snapshot

    shared, empty = tmp_path / "shared", tmp_path / "empty"
    fresh = _fit(digits, shared)  # written by someone who could
    make_read_only(shared, monkeypatch)
    make_read_only(empty, monkeypatch)
    before = snapshot(tmp_path)
    with caplog.at_level(logging.WARNING, logger="msvdd.svdd.pretrain_cache"):
        reused = _fit(digits, shared)
        again = _fit(digits, empty)
    assert reused.pretrain_cached_ and not again.pretrain_cached_
    for model in (reused, again):
        assert np.array_equal(model.score_samples(digits.x_test), fresh.score_samples(digits.x_test))
    assert snapshot(tmp_path) == before  # nothing written: no entry, no lock file, no temporary file
    messages = [r.message for r in caplog.records]
    assert any("cannot be written" in m and str(empty) in m and "not stored" in m for m in messages), messages
