"""One live run per output folder, and runs started together never share one."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, TINY

from msvdd.errors import (
    FolderInUseError,
)
from msvdd.run.job import run


def test_a_folder_held_by_a_live_run_is_refused(make_cfg, tmp_path):
    from msvdd.run.folder_lock import own_folder

    out = tmp_path / "run"
    out.mkdir()
    with own_folder(out):
        with pytest.raises(FolderInUseError, match=f"pid@host {os.getpid()}@"):
            run(make_cfg(*TINY), out)
    assert not (out / "results.json").exists()
    assert not (out / ".msvdd.lock").exists()  # removed by its owner at the end
    with own_folder(out):  # and free again
        pass
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_runs_started_together_get_their_own_folders(tmp_path):
    env = {**os.environ, "MSVDD_OUTPUTS": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-m", "msvdd", f"seed={s}", *TINY], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for s in range(3)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0], [p.stderr.read()[-2000:] for p in procs]
    found = {json.loads(p.read_text())["seed"]: p.parent for p in tmp_path.rglob("results.json")}
    assert sorted(found) == [0, 1, 2] and len(set(found.values())) == 3


def _image_folder(root):
    from own_files import write_class_folder

    return write_class_folder(root / "my_images")


@pytest.mark.parametrize("outputs,extra", [
    ("my_images/outputs", ["dataset.cache_dir=null"]),           # the run folder inside the data
    ("my_images/0/outputs", []),                                  # and the image cache with it
    ("elsewhere", ["paths.cache_dir=my_images/pretrain_cache"]),  # only a cache inside the data
    ("elsewhere", ["dataset.cache_dir=my_images/cache"]),
])
@pytest.mark.parametrize("mode", [[], ["-m", "seed=0,1"]])
def test_outputs_inside_the_data_are_refused_before_anything_is_written(tmp_path, outputs, extra, mode):
    from own_files import snapshot

    data = _image_folder(tmp_path)
    before = snapshot(data)
    env = {"MSVDD_OUTPUTS": str(tmp_path / outputs)}
    proc = subprocess.run([sys.executable, "-m", "msvdd", *mode, "dataset=folder", f"dataset.path={data}",
                           "dataset.normal_classes=[0,1]", *TINY, *extra], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "lies inside dataset.path" in lines[0] and str(data) in lines[0]
    assert snapshot(data) == before  # not even .hydra/ or app.log


def test_outputs_inside_the_data_are_refused_by_the_run_itself(make_cfg, tmp_path):
    from msvdd.errors import MsvddError

    data = _image_folder(tmp_path)
    cfg = make_cfg("dataset=folder", f"dataset.path={data}", "dataset.normal_classes=[0,1]", *TINY)
    with pytest.raises(MsvddError, match="lies inside dataset.path"):
        run(cfg, data / "runs" / "one")
    assert not (data / "runs").exists()


def test_an_empty_msvdd_outputs_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "msvdd", *TINY], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MSVDD_OUTPUTS": ""})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "MSVDD_OUTPUTS" in lines[0], proc.stderr[-3000:]
    assert lines[0].startswith("msvdd: error: paths.root_dir=''")
    assert not list(tmp_path.iterdir())
