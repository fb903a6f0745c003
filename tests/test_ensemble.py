"""Seed ensembles at table time (msvdd.reports.ensemble): standardised scores of a group's seeds, combined."""

import json

import numpy as np
import pytest

from msvdd.reports.ensemble import combine, ensemble_rows, growth
from msvdd.reports.table import collect_runs, write_table
from msvdd.table import main

TRUTH = np.array([0, 0, 0, 1, 1, 1])
SETTINGS = {"dataset": "mnist", "network": {"rep_dim": 32}, "train": {"n_epochs": 10}}


@pytest.fixture(autouse=True)
def no_png(monkeypatch):
    monkeypatch.setattr("msvdd.reports.table.plot_auroc", lambda *args, **kwargs: None)


def run_folder(root, name, test, train, method="svdd_finch", seed=0, classes=(1, 7), truth=TRUTH):
    folder = root / name
    folder.mkdir(parents=True)
    auroc = float(np.mean([t > f for t in np.asarray(test)[truth == 1] for f in np.asarray(test)[truth == 0]]))
    np.savez(folder / "scores.npz", test_score=np.asarray(test, float), anomaly=truth,
             **({} if train is None else {"train_score": np.asarray(train, float)}))
    (folder / "results.json").write_text(json.dumps({
        "schema": 1, "status": "complete", "dataset": "mnist", "normal_classes": list(classes),
        "group": {"size": len(classes), "index": 0, "split": "table", "seed": 0}, "method": method, "seed": seed,
        "auroc": auroc, "settings": SETTINGS, "settings_id": "s1", "timings_s": {"total": 2.0}}))
    return folder


def test_each_run_is_standardised_by_its_own_training_scores(tmp_path):
    # seed 0 ranks anomaly 3 below normal 2; seed 1 (other scale: x100 + 50) ranks normal 0 above anomaly 5
    a = run_folder(tmp_path, "a", [0.1, 0.2, 0.5, 0.4, 0.8, 0.9], [0.0, 0.2, 0.4])
    b = run_folder(tmp_path, "b", [60.0, 52.0, 53.0, 80.0, 90.0, 55.0], [50.0, 70.0, 90.0])
    # z: a = (s - 0.2) / std([0, .2, .4]); b = (s - 70) / std([50, 70, 90]) = (s - 70) / (100 std(...))
    sd = np.std([0.0, 0.2, 0.4])
    za = (np.array([0.1, 0.2, 0.5, 0.4, 0.8, 0.9]) - 0.2) / sd
    zb = (np.array([60.0, 52.0, 53.0, 80.0, 90.0, 55.0]) - 70) / (100 * sd)
    mean = (za + zb) / 2
    expected = np.mean([t > f for t in mean[3:] for f in mean[:3]])
    assert combine([a, b]) == pytest.approx(expected)
    assert expected == 1.0  # each seed errs once, on different items: together they do not
    # better than either seed alone (seed 1: 8/9)
    assert combine([a, b]) > json.loads((b / "results.json").read_text())["auroc"]


def test_runs_without_training_scores_or_other_test_items_are_not_combined(tmp_path):
    a = run_folder(tmp_path, "a", [0.1, 0.2, 0.5, 0.4, 0.8, 0.9], [0.0, 0.2, 0.4])
    evaluated = run_folder(tmp_path, "e", [0.1, 0.2, 0.5, 0.4, 0.8, 0.9], None, seed=1)
    other = run_folder(tmp_path, "o", [0.1, 0.2, 0.5, 0.4], [0.0, 1.0], seed=2, truth=np.array([0, 0, 1, 1]))
    assert combine([a, evaluated]) is None and combine([a, other]) is None


def test_table_gets_an_ensemble_column_per_method_asked(tmp_path, capsys):
    run_folder(tmp_path, "s0", [0.1, 0.2, 0.5, 0.4, 0.8, 0.9], [0.0, 0.2, 0.4], seed=0)
    run_folder(tmp_path, "s1", [60.0, 52.0, 53.0, 80.0, 90.0, 55.0], [50.0, 70.0, 90.0], seed=1)
    run_folder(tmp_path, "k0", [0, 1, 2, 3, 4, 5], [0.0, 1.0], method="knn", seed=0)
    run_folder(tmp_path, "k1", [0, 1, 2, 3, 4, 5], [0.0, 1.0], method="knn", seed=1)
    runs, failed = collect_runs([tmp_path])
    rows = ensemble_rows(runs, ["svdd_finch"])
    assert rows.method.tolist() == ["svdd_finch+seeds"] and rows.seed.tolist() == [2] and rows.auroc.tolist() == [1.0]
    md = write_table(runs, failed, tmp_path / "table", ensemble=["svdd_finch"])
    header = next(line for line in md.splitlines() if line.startswith("| group size"))
    assert header.split(" | ")[1:4] == ["Multi-radius (FINCH)", "Multi-radius (FINCH), seed ensemble", "kNN distance"]
    size_2 = next(line for line in md.splitlines() if line.startswith("| 2 |"))
    assert "100.00 ± — (n=1)" in size_2  # the ensemble of the one group: 2 seeds, AUROC 1.0
    assert "## Missing runs (includes those not counted above) (0)" in md  # ensembles are not runs that could miss
    assert main([str(tmp_path), "--ensemble", "svdd_finch,lof", "--quiet"]) == 2
    assert "--ensemble lof: no runs of that method; the runs hold knn, svdd_finch" in capsys.readouterr().err


def test_growth_with_the_number_of_seeds(tmp_path):
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 200)
    folders = []
    for seed in range(5):  # each seed: the signal plus its own noise, on its own scale
        test = (truth + rng.normal(0, 1.5, len(truth))) * (seed + 1)
        folders.append(run_folder(tmp_path, f"s{seed}", test, rng.normal(0, 1.5, 300) * (seed + 1), seed=seed,
                                  truth=truth))
    table = growth([folders], counts=(1, 3, 5, 7))
    assert list(table) == [1, 3, 5]  # 7 seeds: not every group has them
    assert table[1] == pytest.approx(json.loads((folders[0] / "results.json").read_text())["auroc"])
    assert table[1] < table[3] < table[5]  # independent noise averages out
    assert table[5] == pytest.approx(combine(folders))
    (folders[0] / "scores.npz").unlink()  # a run of older code: no scores to combine, no entry (no error)
    assert growth([folders], counts=(1, 3)) == {}
