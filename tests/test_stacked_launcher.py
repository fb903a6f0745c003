"""``hydra/launcher=stacked`` as a user runs it: the same run folders and AUROCs as the basic launcher, resume,
and a failing job that does not take its stack down."""

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow
SWEEP = ["experiment=table_digits", "network=digits_lenet", "group.size=2",
         "group.index=0", "seed=0", "pretrain.epochs=3", "train.epochs=3",
         "threads=1"]
METHODS = "method=svdd_one,svdd_finch,svdd_oracle,knn"


def _sweep(root, *overrides):
    cmd = [sys.executable, "-m", "msvdd", "-m", *SWEEP, f"paths.root_dir={root}", *overrides]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)


def _results(root):
    found = {}
    for path in (root / "sweeps").rglob("results.json"):
        record = json.loads(path.read_text())
        assert (path.parent / "model.pt").is_file()
        found[(record["method"], record["seed"])] = record
    return found


def _folders(root):
    """The run folders' names without the sweep's own root (an override of its command line)."""
    return {re.sub(r"paths\.root_dir=[^,]*", "", p.parent.name) for p in (root / "sweeps").rglob("results.json")}


def test_stacked_sweep_gives_the_basic_launchers_folders_and_aurocs_and_resumes(tmp_path):
    basic = _sweep(tmp_path / "basic", METHODS)
    assert basic.returncode == 0, basic.stderr[-2000:]
    stacked = _sweep(tmp_path / "stacked", METHODS, "hydra/launcher=stacked")
    assert stacked.returncode == 0, stacked.stderr[-2000:]
    alone, together = _results(tmp_path / "basic"), _results(tmp_path / "stacked")
    assert set(together) == set(alone) and len(alone) == 4
    assert _folders(tmp_path / "basic") == _folders(tmp_path / "stacked")
    for key, record in together.items():
        assert record["auroc"] == pytest.approx(alone[key]["auroc"], abs=1e-4), key
        assert record["timings_s"].get("stack_size") == (None if key[0] == "knn" else 3), key
    assert "3 of 4 jobs fitted in 1 stacks" in stacked.stdout + stacked.stderr
    # the autoencoder pretrained once (by the stack) and reused by the other methods, as alone
    assert [together[(m, 0)]["pretrain_cached"] for m in ("svdd_one", "svdd_finch", "svdd_oracle")] == [
        False, True, True]
    again = _sweep(tmp_path / "stacked", METHODS, "hydra/launcher=stacked")  # resume: every job is complete
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 of 4 jobs fitted in 0 stacks" in again.stdout + again.stderr
    assert _results(tmp_path / "stacked") == together


def test_a_job_that_fails_runs_alone_and_the_stack_trains_on(tmp_path):
    proc = _sweep(tmp_path, "hydra/launcher=stacked", "method=svdd_one,svdd_oracle", "objective.nu=0.1,7")
    assert proc.returncode == 1
    assert "2 of 4 sweep jobs failed" in proc.stderr and "objective.nu" in proc.stderr
    runs = _results(tmp_path)
    assert set(runs) == {(m, s) for m in ("svdd_one", "svdd_oracle") for s in (0,)}
    assert {r["timings_s"]["stack_size"] for r in runs.values()} == {2}
