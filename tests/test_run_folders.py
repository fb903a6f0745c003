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
