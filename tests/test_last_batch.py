"""A training set whose last minibatch would hold one item (201 table rows, batch 200): BatchNorm cannot
train on one item ("Expected more than 1 value per channel"), so such a run must still train.

``minibatches`` (msvdd/svdd/training.py) joins a last batch of one item to the batch before it; the batches
of every other size stay the permutation's own split (no result of another run moves)."""

import numpy as np
import pandas as pd
import pytest
import torch
from own_files import digit_table

from msvdd.run.job import run
from msvdd.svdd.training import minibatches


def test_a_lone_last_item_joins_the_batch_before_it():
    got = list(minibatches(201, 200, torch.Generator().manual_seed(0)))
    expected = torch.randperm(201, generator=torch.Generator().manual_seed(0))
    assert [len(b) for b in got] == [201] and torch.equal(got[0], expected)
    assert [len(b) for b in minibatches(401, 200, torch.Generator().manual_seed(0))] == [200, 201]


@pytest.mark.parametrize("n,batch", [(200, 200), (202, 200), (400, 200), (10, 3), (5, 200), (2, 1)])
def test_batches_without_a_lone_item_are_the_permutation_split(n, batch):
    if n % batch == 1 and n > batch:
        pytest.skip("a lone last item")
    got = list(minibatches(n, batch, torch.Generator().manual_seed(3)))
    expected = torch.randperm(n, generator=torch.Generator().manual_seed(3)).split(batch)
    assert len(got) == len(expected) and all(torch.equal(a, b) for a, b in zip(got, expected))


def test_a_table_whose_last_batch_holds_one_row_trains(make_cfg, tmp_path):
    df = digit_table()
    zeros = df[df.digit == 0]
    # 288 rows of class 0: test_size 0.3 takes ceil(86.4) = 87 of them, 201 train: batches of 200 and 1
    normal = zeros.sample(288, replace=True, random_state=0).reset_index(drop=True)
    path = tmp_path / "t201.csv"
    pd.concat([normal, df[df.digit == 1]]).to_csv(path, index=False)
    cfg = make_cfg("pretrain.epochs=2", "train.epochs=2", "pretrain.milestones=[]", "train.milestones=[]",
                   "pretrain.batch_size=200", "train.batch_size=200", "plots=false", "dataset=table",
                   f"dataset.path={path}", "dataset.label=digit", "dataset.normal_classes=[0]", "method=svdd_one")
    from msvdd.data import Table

    assert len(Table(path, label="digit", normal_classes=[0]).load().x_train) == 201
    auroc = run(cfg, tmp_path / "run")
    assert np.isfinite(auroc)
