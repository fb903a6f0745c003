"""The run's ``threads`` hold for every phase: after the clustering (umap, numba) Deep SVDD trains on them too."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, TINY

from msvdd import threads
from msvdd.clustering import FinchClustering
from msvdd.clustering.spaces import EncoderSpace


class ResettingSpace(EncoderSpace):
    """A space whose library sets the process's thread count, as numba's OpenMP layer does when it starts."""

    def _fit(self, z):
        torch.set_num_threads(3)
        return z


def test_the_clustering_stage_gives_the_run_its_thread_count_back(digits):
    before = torch.get_num_threads()
    try:
        threads.pin(1)
        z = digits.x_train.flatten(1).numpy()
        labels = FinchClustering(space=ResettingSpace()).fit_predict(z, digits.y_train.numpy())
        assert len(np.unique(labels)) == 3
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_kept_restores_the_count_after_an_error():
    before = torch.get_num_threads()
    try:
        threads.pin(2)
        with pytest.raises(RuntimeError), threads.kept() as n:
            assert n == 2
            torch.set_num_threads(1)
            raise RuntimeError("the block failed")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# A fresh process: numba's threading layer resets the OpenMP count only when it first starts.
PROBE = """
import sys, torch
import msvdd.svdd.fit_steps as est
seen = []
train = est.train_deep_svdd
def spy(*a, **k):
    import numba
    seen.append((torch.get_num_threads(), numba.get_num_threads()))
    return train(*a, **k)
est.train_deep_svdd = spy
from msvdd.app import main
sys.argv = ["msvdd", *sys.argv[1:]]
try:
    main()
finally:
    print("SEEN", seen)
"""


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: every count is 1")
def test_a_threads_1_finch_run_trains_deep_svdd_on_one_thread_after_umap(tmp_path):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", PROBE, *TINY, "method=svdd_finch"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SEEN [(1, 1)]" in out.stdout, out.stdout[-2000:]
