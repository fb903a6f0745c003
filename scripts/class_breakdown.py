"""Where does one method lose to another? AUROC against each anomaly class, for every run of a sweep.

A group's AUROC averages over its anomaly classes; two methods with the same mean can fail on different
classes, and a gap of one point often sits in one or two of them. For each class group of a table sweep
this prints, per method (and per seed ensemble with ``--ensemble``), the AUROC of the normal test items
against each anomaly class alone, from the runs' own ``scores.npz`` (no model is loaded, nothing is
retrained; the test labels come from the dataset reader, as the run read them).

Usage: MSVDD_DATA=... python scripts/class_breakdown.py SWEEP... [--methods knn,svdd_many] [--ensemble svdd_many]
       [--size 4]
Reads only; writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from msvdd.data.datasets import BENCHMARKS
from msvdd.reports import ensemble
from msvdd.reports.compare import markdown
from msvdd.reports.table import collect_runs
from msvdd.run.metrics import auroc_per_anomaly_class


def _scores(paths) -> tuple[np.ndarray, np.ndarray]:
    """(score, anomaly) of one run, or the mean standardised score of several (a seed ensemble)."""
    if len(paths) == 1:
        with np.load(Path(paths[0]) / "scores.npz") as saved:
            return saved["test_score"], saved["anomaly"]
    parts = [ensemble.standardised(p) for p in paths]
    return np.mean([z for z, _ in parts], axis=0), parts[0][1]


def breakdown(runs: pd.DataFrame, methods: list[str], ensembles: list[str]) -> pd.DataFrame:
    rows = []
    for (_, _, classes), group in runs.groupby(["group_size", "group_index", "classes"], dropna=False):
        dataset = group.dataset.iloc[0]
        labels = BENCHMARKS[dataset](list(classes)).load().labels_test.numpy()
        entries = [(m, [p]) for m in methods for p in group[group.method == m].sort_values("seed").path[:1]]
        entries += [(ensemble.name(m), list(group[group.method == m].sort_values("seed").path))
                    for m in ensembles if (group.method == m).sum() >= 2]
        for name, paths in entries:
            if not all((Path(p) / "scores.npz").exists() for p in paths):
                print(f"skipped {name} of {list(classes)}: a run without scores.npz (none before commit b92eea3)")
                continue
            score, anomaly = _scores(paths)
            if not np.array_equal(anomaly, ~np.isin(labels, classes)):
                raise SystemExit(f"{paths[0]}: its test items are not {dataset}'s test set for {list(classes)}")
            rows.append({"size": len(classes), "classes": str(list(classes)), "method": name,
                         "all": 100 * roc_auc_score(anomaly, score), **auroc_per_anomaly_class(labels, anomaly, score)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="table sweep folders (their runs wrote scores.npz)")
    parser.add_argument("--methods", default="knn,svdd_many", help="single runs (the first seed), comma-separated")
    parser.add_argument("--ensemble", default="", help="methods whose seed ensemble to add, comma-separated")
    parser.add_argument("--size", type=int, help="only the groups of this size")
    args = parser.parse_args()
    runs, _ = collect_runs(args.sweeps)
    if args.size:
        runs = runs[runs.group_size == args.size]
    split = lambda text: [m for m in text.split(",") if m]  # noqa: E731
    table = breakdown(runs, split(args.methods), split(args.ensemble))
    columns = ["size", "classes", "method", "all"] + sorted(c for c in table.columns if isinstance(c, int))
    table = table[columns].round(2)
    print(markdown(table.rename(columns=lambda c: f"vs {c}" if isinstance(c, int) else c)))


if __name__ == "__main__":
    main()
