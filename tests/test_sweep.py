"""Hydra multiruns as a user runs them: basic and submitit_local launchers, cache reuse, resume, table."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT

from msvdd.table import main as table_main

TINY = ["experiment=table_digits", "network=digits_lenet", "group.size=2",
        "group.index=0", "seed=0", "pretrain.epochs=3", "train.epochs=3"]
pytestmark = pytest.mark.slow


def _sweep(tmp_path, *overrides, timeout=300):
    cmd = [sys.executable, "-m", "msvdd", "-m", *TINY, f"paths.root_dir={tmp_path}", *overrides]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _results(tmp_path):
    found = {}
    for path in (tmp_path / "sweeps").rglob("results.json"):
        record = json.loads(path.read_text())
        found[record["method"]] = record
    return found


def test_basic_launcher_sweep_shares_pretraining_and_feeds_the_table(tmp_path):
    proc = _sweep(tmp_path, "method=svdd_one,svdd_finch,svdd_oracle,ae_recon")
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = _results(tmp_path)
    assert set(runs) == {"svdd_one", "svdd_finch", "svdd_oracle", "ae_recon"}
    assert runs["svdd_finch"]["clustering"]["metric"] == "euclidean"
    assert all(r["normal_classes"] == [0, 3] and r["group"]["size"] == 2 for r in runs.values())
    # the first job pretrains; the other methods, the ae_recon baseline included, reuse its cached autoencoder
    assert [runs[m]["pretrain_cached"] for m in ("svdd_one", "svdd_finch", "svdd_oracle", "ae_recon")] == [
        False, True, True, True]
    assert len(list((tmp_path / "cache" / "pretrain").glob("*.pt"))) == 1
    # the sweep wrote and printed its own table (the Hydra callback of the table experiments)
    table = pd.read_csv(tmp_path / "tables" / "table_digits" / "table.csv")
    assert table[["svdd_one_n", "svdd_finch_n", "svdd_oracle_n", "ae_recon_n"]].values.tolist() == [[1, 1, 1, 1]]
    assert table["svdd_oracle_mean"].iloc[0] == pytest.approx(100 * runs["svdd_oracle"]["auroc"])
    assert "| group size | Deep SVDD (one radius) | Multi-radius (FINCH) | Multi-radius (oracle labels) | " \
           "AE reconstruction |" in proc.stdout
    assert f"table written to {tmp_path / 'tables' / 'table_digits'}" in proc.stdout
    # the table step still serves tables over several sweeps
    assert table_main([str(tmp_path / "sweeps"), "--out", str(tmp_path / "table"), "--quiet"]) == 0
    assert pd.read_csv(tmp_path / "table" / "table.csv").equals(table)


def test_submitit_local_launcher_runs_the_same_sweep(tmp_path):
    proc = _sweep(tmp_path, "method=svdd_one,svdd_oracle", "hydra/launcher=submitit_local",
                  "hydra.launcher.timeout_min=10")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(_results(tmp_path)) == {"svdd_one", "svdd_oracle"}


def test_killed_sweep_resumes_without_redoing_complete_jobs(tmp_path):
    cmd = [sys.executable, "-m", "msvdd", "-m", *TINY[:-2], "pretrain.epochs=20", "train.epochs=20",
           f"paths.root_dir={tmp_path}", "method=svdd_one,svdd_oracle,svdd_kmeans"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    while not _results(tmp_path) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # kill the whole sweep mid-way through the second job
    proc.wait()
    first = _results(tmp_path)
    assert len(first) == 1, "the sweep should have been killed after its first job"
    for path in (tmp_path / "sweeps").rglob("results.json"):  # whatever exists is complete and valid
        assert json.loads(path.read_text())["status"] == "complete"

    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("skipping") + again.stderr.count("skipping") >= 1
    final = _results(tmp_path)
    assert set(final) == {"svdd_one", "svdd_oracle", "svdd_kmeans"}
    (method,) = first
    assert final[method]["timings_s"] == first[method]["timings_s"]  # the complete job was not rerun
