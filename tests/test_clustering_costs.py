"""The clustering stage pays only what it must (issue 20, item 7): numba's compiled UMAP code lives in one
per-user folder that runs with different output folders share, and one normal class skips the clustering."""

import json

import numpy as np
import pytest
from conftest import ROOT, TINY, run_msvdd

from msvdd.clustering import FinchClustering, KMeansClustering, OracleClustering
from msvdd.clustering.spaces import UMAPSpace
from msvdd.run.job import run


class NoSpace(UMAPSpace):
    """A space that fails when used: the one-class rule must not compute it."""

    def fit_transform(self, z):
        raise AssertionError("the space was computed for one normal class")


@pytest.mark.parametrize("make", [lambda: FinchClustering(space=NoSpace(source="input")),
                                  lambda: FinchClustering(req_clusters=1, space=NoSpace()),
                                  lambda: KMeansClustering(space=NoSpace(source="input")),
                                  lambda: OracleClustering()])
def test_one_normal_class_is_one_sphere_without_clustering(make):
    z = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    clustering = make()
    labels = clustering.fit_predict(z, np.full(60, 3), inputs=z)
    assert labels.tolist() == [0] * 60
    info = clustering.describe()
    assert info["skipped"] == "one normal class: one sphere, no clustering" and "space" not in info


def test_two_classes_and_the_label_free_count_still_cluster():
    z = np.concatenate([np.zeros((30, 4)), np.full((30, 4), 10.0)]).astype(np.float32)
    z += np.random.default_rng(0).normal(scale=0.1, size=z.shape).astype(np.float32)
    from msvdd.clustering.spaces import EncoderSpace

    two = FinchClustering(space=EncoderSpace())
    assert two.fit_predict(z, np.repeat([0, 1], 30)).max() == 1 and "skipped" not in two.describe()
    free = FinchClustering(req_clusters=None, space=EncoderSpace())  # label-free: may find modes within a class
    assert "skipped" not in (free.fit_predict(z, np.zeros(60)), free.describe())[1]


def test_a_run_on_one_normal_class_notes_the_skip_in_results_json(make_cfg, tmp_path):
    run(make_cfg("dataset.normal_classes=[0]", "method=svdd_finch"), tmp_path / "run")
    record = json.loads((tmp_path / "run" / "results.json").read_text())
    assert record["n_clusters"] == 1 and record["clustering"]["skipped"].startswith("one normal class")
    assert record["clustering"]["method"] == "finch" and "space" not in record["clustering"]
    assert record["timings_s"]["cluster"] < 1  # no UMAP, no numba


@pytest.mark.slow
def test_runs_with_different_output_folders_share_the_numba_cache(tmp_path, monkeypatch):
    # no MSVDD_NUMBA_CACHE: the per-user default under XDG_CACHE_HOME (kept between test sessions under the
    # git-ignored outputs/, so only a machine's first session compiles)
    monkeypatch.delenv("MSVDD_NUMBA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(ROOT / "outputs" / "cache" / "xdg"))
    folders, caches = [], []
    for outputs in ("a", "b"):
        proc = run_msvdd(tmp_path / outputs, "dataset.normal_classes=[0,1]", "method=svdd_finch", *TINY,
                         timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        last = proc.stdout.strip().splitlines()[-1]  # the run says where it wrote, last
        assert last.startswith("msvdd: wrote ")
        folder = last.removeprefix("msvdd: wrote ")
        assert (ROOT / folder / "results.json").is_file() and (tmp_path / outputs) in (ROOT / folder).parents
        folders.append(folder)
        record = json.loads((ROOT / folder / "results.json").read_text())
        caches.append(record["clustering"]["space"]["numba_cache"])
    assert folders[0] != folders[1]
    assert caches[0] == caches[1] == str(ROOT / "outputs" / "cache" / "xdg" / "msvdd" / "numba")
    assert any(p.suffix == ".nbi" for p in (ROOT / "outputs" / "cache" / "xdg" / "msvdd" / "numba").rglob("*"))
    assert not list(tmp_path.rglob("numba"))  # nothing compiled into either output folder
