"""Seed ensembles at table time: one method's runs of one class group, combined over seeds, no retraining.

A table sweep already trains several seeds per group. Each run wrote ``scores.npz`` (msvdd.run.outputs):
its test scores and its training points' scores. Runs of different seeds have different score scales
(another network, other centers), so each run's test scores are standardised by its own training
scores (z = (s - mean) / std), which needs no test label; the ensemble's score is the mean z over the
seeds, and its AUROC is computed on the same test items. An ensemble row is one more "method" of the
table (``svdd_finch+seeds``), one per group, beside the single runs it is built from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

SUFFIX = "+seeds"


def name(method: str) -> str:
    return method + SUFFIX


def label(method: str, labels: dict) -> str:
    return f"{labels.get(method, method)}, seed ensemble"


def standardised(path: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(test z-scores, anomaly truth) of one run folder; None when it has no scores.npz with training scores."""
    file = Path(path) / "scores.npz"
    if not file.exists():
        return None
    with np.load(file) as saved:
        if "train_score" not in saved:
            return None
        train, test, truth = saved["train_score"], saved["test_score"], saved["anomaly"]
    spread = train.std()
    return (test - train.mean()) / (spread if spread > 0 else 1.0), truth


def combine(paths) -> float | None:
    """AUROC of the mean standardised score of the runs at ``paths`` (the same test items), or None."""
    parts = [standardised(p) for p in paths]
    if not parts or any(p is None for p in parts):
        return None
    truth = parts[0][1]
    if any(len(t) != len(truth) or not np.array_equal(t, truth) for _, t in parts):
        return None  # not the same test items: nothing to combine
    return float(roc_auc_score(truth, np.mean([z for z, _ in parts], axis=0)))


def per_group(runs: pd.DataFrame, by: str = "method", n_seeds: int | None = None):
    """Yield (``by`` value, the group's runs in seed order, ensemble AUROC) for each (``by``, class group)
    with two or more seeds: the ensemble of the first ``n_seeds`` seeds (all when None)."""
    for (key, _), g in runs.groupby([by, "classes"], sort=False):
        g = g.sort_values("seed").iloc[:n_seeds]
        auroc = combine(g.path) if g.seed.nunique() >= 2 else None
        if auroc is not None:
            yield key, g, auroc


def ensemble_rows(runs: pd.DataFrame, methods, n_seeds: int | None = None) -> pd.DataFrame:
    """The table's ensemble rows, shaped like its run rows (seed = the seeds' count)."""
    rows = [{**g.iloc[0].to_dict(), "method": name(method), "seed": len(g), "auroc": auroc,
             "average_precision": None, "path": ";".join(g.path), "timings": _summed(g.timings)}
            for method, g, auroc in per_group(runs[runs.method.isin(list(methods))], "method", n_seeds)]
    return pd.DataFrame(rows, columns=runs.columns)


def growth(groups, counts=(1, 3, 5)) -> dict:
    """{n: mean AUROC} over ``groups`` (each a list of run folders in seed order) of the ensemble of the
    first n seeds, for each n in ``counts`` that every group has (n = 1: the first seed's run alone); runs
    without scores.npz (older runs) give no entry."""
    groups = [list(g) for g in groups]
    have = min(map(len, groups)) if groups else 0
    out = {}
    for n in (c for c in counts if c <= have):
        values = [combine(g[:n]) if n > 1 else _single(g[0]) for g in groups]
        if all(v is not None for v in values):
            out[n] = float(np.mean(values))
    return out


def _single(path) -> float | None:
    found = standardised(path)
    return None if found is None else float(roc_auc_score(found[1], found[0]))


def _summed(timings) -> dict:
    out: dict = {}
    for t in timings:
        for k, v in (t or {}).items():
            out[k] = out.get(k, 0.0) + v
    return out
