"""Compare clustering variants of one sweep: AUROC, ARI, clusters found and clustering time per group size.

    python -m msvdd.compare SWEEP_DIR... [--out FILE.md]

The table step (msvdd.reports.table) refuses runs of different settings in one table; this is the step for a
sweep that varies them on purpose (``experiment=dev_clustering_*``): each row is one method
(svdd_one, svdd_finch, svdd_finch_umap, ...: each clustering variant is a method), read from results.json.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from msvdd.methods import canonical
from msvdd.reports.results import read_results as _read_results

ORDER = {"svdd_one": 0, "svdd_oracle": 1}


def variant(record: dict) -> str:
    """The run's method: each clustering variant is a method of its own (conf/method/svdd_finch_*.yaml)."""
    return canonical(record["method"])


def collect(paths) -> pd.DataFrame:
    rows = []
    for root in map(Path, paths):
        for path in sorted(root.rglob("results.json")):
            record, _ = _read_results(path)
            if record is None:
                continue
            timings = record.get("timings_s") or {}
            rows.append({"variant": variant(record), "size": len(record["normal_classes"]),
                         "classes": tuple(record["normal_classes"]), "seed": record["seed"],
                         "auroc": 100 * record["auroc"], "ari": record.get("ari"),
                         "n_clusters": record.get("n_clusters"), "moves": (record.get("assignment") or {}).get(
                             "total_moves"), "cluster_s": timings.get("cluster"), "total_s": timings.get("total")})
    return pd.DataFrame(rows)


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
        row["cluster / total"] = f"{100 * g.cluster_s.sum() / g.total_s.sum():.1f} %"
        out.append(row)
    table = pd.DataFrame(out)
    key = table.variant.map(lambda v: (ORDER.get(v, 2), v))
    return table.iloc[sorted(range(len(table)), key=lambda i: key.iloc[i])].reset_index(drop=True)


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)
