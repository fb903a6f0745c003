"""Compare variants of one or more sweeps: AUROC, ARI, clusters found and seconds per group size.

    python -m msvdd.compare SWEEP_DIR... [--out FILE.md] [--ensemble]

The table step (msvdd.reports.table) refuses runs of different settings in one table; this is the step for a
sweep that varies them on purpose (``experiment=dev_clustering_*``, ``dev_deep_*``): each row is one method
(svdd_one, svdd_finch, svdd_finch_umap, ...) and, where one method's runs differ in their own options
(``model.score=knn``, ``model.clustering.n_clusters=20``), one row per value of those options.
``ensemble``: also a row per variant for its seed ensembles (msvdd.reports.ensemble).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from msvdd.methods import canonical
from msvdd.nested import flatten
from msvdd.reports import ensemble as seed_ensemble
from msvdd.reports.results import read_results as _read_results

ORDER = {"svdd_one": 0, "svdd_oracle": 1}


def variant(record: dict) -> str:
    """The run's method: each clustering variant is a method of its own (conf/method/svdd_finch_*.yaml)."""
    return canonical(record["method"])


def _options(record: dict) -> dict:
    """The run's own model options as text, but those that follow the seed (they differ in every sweep)."""
    model = (record.get("settings") or {}).get("model") or {}
    return {k: str(v) for k, v in flatten(model).items() if not k.split(".")[-1].endswith("seed")}


def with_options(runs: pd.DataFrame) -> pd.Series:
    """Each run's variant: its method, plus ``key=value`` for the options that differ between its method's runs."""
    names = runs.variant.copy()
    for method, g in runs.groupby("variant"):
        keys = sorted(k for k in set().union(*g.options) if len({o.get(k) for o in g.options}) > 1)
        if keys:
            names[g.index] = [method + " " + " ".join(f"{k}={o.get(k)}" for k in keys) for o in g.options]
    return names


def collect(paths, ensemble: bool = False) -> pd.DataFrame:
    """One row per complete run (and, with ``ensemble``, per variant and class group its seed ensemble)."""
    rows = []
    for root in map(Path, paths):
        for path in sorted(root.rglob("results.json")):
            record, _ = _read_results(path)
            if record is None:
                continue
            timings = record.get("timings_s") or {}
            rows.append({"variant": variant(record), "options": _options(record), "path": str(path.parent),
                         "size": len(record["normal_classes"]),
                         "classes": tuple(record["normal_classes"]), "seed": record["seed"],
                         "auroc": 100 * record["auroc"], "ari": record.get("ari"),
                         "n_clusters": record.get("n_clusters"), "moves": (record.get("assignment") or {}).get(
                             "total_moves"), "cluster_s": timings.get("cluster"), "total_s": timings.get("total"),
                         "score_s": timings.get("evaluate")})
    runs = pd.DataFrame(rows)
    if runs.empty:
        return runs
    runs["variant"] = with_options(runs)
    return pd.concat([runs, _ensembles(runs)], ignore_index=True) if ensemble else runs


def _ensembles(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant and class group with two or more seeds: the seed ensemble's AUROC and summed seconds."""
    return pd.DataFrame([
        {**g.iloc[0].to_dict(), "variant": seed_ensemble.name(variant), "seed": len(g), "auroc": 100 * auroc,
         "ari": None, "n_clusters": None, "moves": None,
         **{k: g[k].astype(float).sum() for k in ("cluster_s", "total_s", "score_s")}}
        for variant, g, auroc in seed_ensemble.per_group(runs, "variant")])


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per variant: AUROC mean ± std per group size and overall, ARI, exact counts, time share."""
    out, sizes = [], sorted(set(runs["size"]))
    for name, g in runs.groupby("variant"):
        row = {"variant": name, "n": len(g)}
        for size in sizes:
            s = g[g["size"] == size].auroc
            row[f"AUROC {size}"] = f"{s.mean():.2f} ± {s.std(ddof=1):.2f}" if len(s) > 1 else \
                (f"{s.mean():.2f}" if len(s) else None)
        row["AUROC mean"] = f"{g.auroc.mean():.2f}"
        clustered = g.ari.notna()
        row["ARI"] = round(g.ari[clustered].astype(float).mean(), 3) if clustered.any() else None
        row["clusters = classes"] = f"{int((g.n_clusters == g['size']).sum())}/{len(g)}" if clustered.any() else None
        row["clusters found (mean)"] = round(g.n_clusters.astype(float).mean(), 2) if clustered.any() else None
        row["cluster s (mean)"] = round(g.cluster_s.astype(float).mean(), 2)
        row["cluster / total"] = f"{100 * g.cluster_s.astype(float).sum() / g.total_s.astype(float).sum():.1f} %"
        row["run s (mean)"] = round(g.total_s.astype(float).mean(), 2)
        row["score s (mean)"] = round(g.score_s.astype(float).mean(), 3)
        out.append(row)
    table = pd.DataFrame(out)
    key = table.variant.map(lambda v: (ORDER.get(v, 2), v))
    return table.iloc[sorted(range(len(table)), key=lambda i: key.iloc[i])].reset_index(drop=True)


def seed_growth(runs: pd.DataFrame, counts=(1, 3, 5)) -> pd.DataFrame:
    """Per variant and group size: the mean AUROC (%) of the ensemble of the first n seeds of each group."""
    out = []
    single = runs[~runs.variant.str.endswith(seed_ensemble.SUFFIX)]
    for (name, size), g in single.groupby(["variant", "size"]):
        groups = [part.sort_values("seed").path for _, part in g.groupby("classes")]
        row = {"variant": name, "size": size}
        grown = seed_ensemble.growth(groups, counts)
        row.update({f"{n} seed{'s' * (n > 1)}": round(100 * a, 2) for n, a in grown.items()})
        out.append(row)
    return pd.DataFrame(out)


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)
