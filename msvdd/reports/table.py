"""The table step: the results.json files of one or more sweeps -> one AUROC table.

    python -m msvdd.table PATH... [--out DIR] [--quiet]        (console script: msvdd-table)

Writes table.md, table.csv, table.tex, table_detail.csv and auroc.png. Runs that did not finish are
listed, never dropped silently; runs of different datasets or settings are refused (exit code 2).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import yaml

from msvdd.methods import CLUSTERED, METHODS, SHORT, canonical
from msvdd.reports import ensemble as seed_ensemble
from msvdd.reports.results import read_results as _read_results
from msvdd.reports.table_checks import MixedSettingsError, check_consistent  # noqa: F401 (the error callers catch)
from msvdd.reports.table_plot import detail_view, latex, main_view, markdown, plot_auroc

# The seed's reported AUROC (%) by dataset, method and group size; source: docs/method.md, "Numbers"
# (MNIST: the seed's table; CIFAR-10: the seed's report). The seed's multi-radius code used true labels.
SEED_REPORTED = {
    "mnist": {"svdd_one": {2: 94.34, 3: 91.22, 4: 89.23}, "svdd_oracle": {2: 96.32, 3: 94.13, 4: 93.36}},
    "cifar10": {"svdd_one": {2: 57, 3: 54}, "svdd_oracle": {2: 60.2, 3: 59.31}},
}
SEED_COLUMNS = {"svdd_one": "seed: one radius", "svdd_oracle": "seed: multi-radius (oracle)"}
COLUMNS = ["path", "dataset", "method", "objective", "score_rule", "seed", "group_size", "group_index",
           "group_split", "group_seed", "classes", "auroc", "average_precision", "n_clusters", "ari",
           "settings", "settings_id", "pretrain_cached", "timings"]


def seed_reference(dataset: str) -> dict:
    """The seed's numbers for ``dataset`` ({method: {size: auroc %}}), {} when it reported none."""
    return SEED_REPORTED.get(str(dataset).lower().replace("-", "").replace("_", ""), {})


# ---------------------------------------------------------------------------------------- collect
def _overrides(job: Path) -> list[str] | None:
    try:
        found = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        return [str(o) for o in found] if isinstance(found, list) else None
    except (OSError, yaml.YAMLError, TypeError):
        return None


def _class(value):
    """A normal class as results.json records it: an id (0, "3") as an int, an own-data name as itself."""
    try:
        return int(value)
    except (TypeError, ValueError):  # a folder or label name ("screws"): shown as named
        return str(value)


def _row(data: dict, job: Path) -> dict:
    group, classes = data.get("group") or {}, tuple(_class(c) for c in data["normal_classes"])
    return {"path": str(job), "dataset": data.get("dataset"), "method": canonical(data["method"]),
            "objective": data.get("objective"), "score_rule": data.get("score_rule"), "seed": data["seed"],
            "group_size": group.get("size", len(classes)), "group_index": group.get("index"),
            "group_split": group.get("split"), "group_seed": group.get("seed"), "classes": classes,
            "auroc": float(data["auroc"]), "average_precision": data.get("average_precision"),
            "n_clusters": data.get("n_clusters"), "ari": data.get("ari"),
            "settings": data.get("settings") or {}, "settings_id": data.get("settings_id"),
            "pretrain_cached": bool(data.get("pretrain_cached")), "timings": data.get("timings_s") or {}}


def collect_runs(paths) -> tuple[pd.DataFrame, list[dict]]:
    """Every run folder under ``paths``: (complete runs, one row each; runs not counted, with reasons).

    A run folder is one with .hydra/config.yaml or results.json. Not counted: no results.json,
    unreadable or incomplete results, and repeats of a (dataset, settings, group, seed, method).
    """
    jobs: set[Path] = set()
    for root in map(Path, paths):
        if not root.exists():
            raise FileNotFoundError(f"no such sweep folder: {root}")
        jobs |= {p.parent.parent for p in root.rglob(".hydra/config.yaml")}
        jobs |= {p.parent for p in root.rglob("results.json")}
    rows, failed, seen = [], [], {}
    for job in sorted(jobs):
        data, reason = _read_results(job / "results.json") if (job / "results.json").exists() else (
            None, "no results.json (job did not finish)")
        if data is not None:
            row = _row(data, job)
            key = (row["dataset"], row["settings_id"], row["classes"], row["seed"], row["method"])
            if key in seen:
                data, reason = None, f"duplicate of {seen[key]}"
            else:
                seen[key] = job
                rows.append(row)
        if data is None:
            failed.append({"path": str(job), "reason": reason, "overrides": _overrides(job)})
    return pd.DataFrame(rows, columns=COLUMNS), failed


# ---------------------------------------------------------------------------------------- numbers
def methods_of(runs: pd.DataFrame) -> list[str]:
    """The methods present, in column order; a seed ensemble right after the method it combines."""
    present = set(runs.method)
    singles = {m for m in present if not m.endswith(seed_ensemble.SUFFIX)}
    order = [m for m in METHODS if m in singles] + sorted(singles - set(METHODS))
    return [c for m in order for c in (m, seed_ensemble.name(m)) if c in present]


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per group size: mean, std (ddof=1) and n of AUROC in % for each method, and the seed's numbers."""
    stats = (runs.auroc * 100).groupby([runs.group_size, runs.method]).agg(["mean", "std", "count"])
    table = pd.DataFrame(index=pd.Index(sorted(runs.group_size.unique()), name="group_size"))
    for m in methods_of(runs):
        part = stats.xs(m, level="method")
        table[f"{m}_mean"], table[f"{m}_std"] = part["mean"], part["std"]
        table[f"{m}_n"] = part["count"].reindex(table.index).fillna(0).astype(int)
    for m, by_size in seed_reference(runs.dataset.iloc[0]).items():
        table[f"seed_{m}"] = [by_size.get(s) for s in table.index]
    return table


def _groups(runs: pd.DataFrame) -> list[tuple[int, object, tuple]]:
    """(size, index or None, classes) of every group, in table order."""
    first = runs.sort_values("group_index").groupby(["group_size", "classes"], sort=False).group_index.first()
    keys = [(int(s), None if pd.isna(i) else int(i), c) for (s, c), i in first.items()]
    return sorted(keys, key=lambda k: (k[0], k[1] is None, k[1] or 0, [(isinstance(c, str), c) for c in k[2]]))


def show_classes(classes) -> str:
    """[0, 1, 3] or [screws, nuts]: class names without quotes."""
    return "[" + ", ".join(map(str, classes)) + "]"


def _label(index, classes) -> str:
    return ("" if index is None else f"#{index} ") + show_classes(classes)


def detail(runs: pd.DataFrame) -> pd.DataFrame:
    """Per group: mean AUROC % and n over seeds for each method; cluster count and ARI where clustered."""
    rows = []
    for size, index, classes in _groups(runs):
        row = {"group_size": size, "group_index": index, "classes": show_classes(classes)}
        for m in methods_of(runs):
            g = runs[runs.classes.map(classes.__eq__) & (runs.method == m)]
            row[f"{m}_mean"], row[f"{m}_n"] = g.auroc.mean() * 100, len(g)
            if m in CLUSTERED:
                row[f"{m}_clusters"] = g.n_clusters.astype(float).mean()
                row[f"{m}_ari"] = g.ari.astype(float).mean()
        rows.append(row)
    return pd.DataFrame(rows)


def missing(runs: pd.DataFrame) -> list[str]:
    """Every (group, seed, method) absent from the product of the groups of each size, seeds and methods."""
    have = set(zip(runs.classes, runs.seed, runs.method))
    return [f"size {size}, group {_label(index, classes)}, seed {seed}, method {m}"
            for size, index, classes in _groups(runs) for seed in sorted(set(runs.seed))
            for m in methods_of(runs) if (classes, seed, m) not in have]


# ---------------------------------------------------------------------------------------- write
def _epochs(settings: dict, part: str) -> str:
    section = settings.get(part) if isinstance(settings.get(part), dict) else {}
    found = [section[k] for k in ("n_epochs", "epochs", "max_epochs") if k in section]
    return str(found[0]) if found else "not recorded"


def notes(runs: pd.DataFrame, failed: list[dict], n_missing: int, date: str) -> list[str]:
    """The lines under the table: what was run, on which groups and seeds, and when."""
    settings = {}  # the groups the runs recorded (a kNN run records no training schedule)
    for recorded in runs.settings:
        settings = {**recorded, **settings}
    def joined(col: str) -> str:
        return ", ".join(str(v) for v in sorted(set(runs[col].dropna()), key=lambda v: (type(v).__name__, v)))

    groups = {}
    for size, index, classes in _groups(runs):
        groups.setdefault(size, []).append(_label(index, classes))
    split = f" (split {joined('group_split')})" if runs.group_split.notna().any() else ""
    return [(f"dataset: {joined('dataset')}; objective: {joined('objective')}; "
             f"score rule: {joined('score_rule')}"),
            f"epochs: train {_epochs(settings, 'train')}, pretrain {_epochs(settings, 'pretrain')}",
            *(f"groups of size {s}{split}: " + ", ".join(labels) for s, labels in groups.items()),
            f"seeds: {joined('seed')}",
            "cells: mean ± std (ddof=1) of test AUROC in % over groups × seeds; n = number of runs",
            *(["seed: numbers the seed reported (docs/method.md); it did not say which groups or seeds"]
              if seed_reference(runs.dataset.iloc[0]) else []),
            f"runs: {len(runs)} counted, {len(failed)} not counted, {n_missing} missing; date: {date}",
            *_count_lines(runs), *_time_lines(runs)]


def _count_lines(runs: pd.DataFrame) -> list[str]:
    """How often a clustering found as many clusters as the group has classes (telling for req_clusters=null)."""
    lines = []
    for m in CLUSTERED:
        g = runs[(runs.method == m) & runs.n_clusters.notna()]
        if len(g):
            exact = int((g.n_clusters.astype(int) == g.group_size.astype(int)).sum())
            lines.append(f"{METHODS[m]}: clusters found = number of classes in {exact} of {len(g)} runs "
                         f"(mean found {g.n_clusters.astype(float).mean():.2f}, classes {g.group_size.mean():.2f})")
    return lines


def _time_lines(runs: pd.DataFrame) -> list[str]:
    """Compute time, and what the shared pretraining cache saved (cached runs would each have pretrained)."""
    total = sum(t.get("total", 0.0) for t in runs.timings)
    fresh = [t.get("pretrain", 0.0) for t, c in zip(runs.timings, runs.pretrain_cached) if not c]
    n_cached = int(runs.pretrain_cached.sum())
    if not total:
        return []
    clustering = sum(t.get("cluster", 0.0) for t in runs.timings)
    line = (f"compute: {total:.1f} s over {len(runs)} runs ({sum(fresh):.1f} s of it pretraining, "
            f"{clustering:.1f} s = {100 * clustering / total:.1f} % clustering)")
    if n_cached and fresh:
        saved = n_cached * sum(fresh) / len(fresh)
        line += (f"; {n_cached} runs reused a cached autoencoder, saving about {saved:.0f} s "
                 f"({100 * saved / (total + saved):.0f} % of the time without the cache)")
    return [line]


def _listing(title: str, items: list[str]) -> str:
    return f"## {title} ({len(items)})\n\n" + ("\n".join(f"- {i}" for i in items) if items else "none")


def _failed_lines(failed: list[dict]) -> list[str]:
    return [f"{f['path']}: {f['reason']}" + (f"; overrides: {' '.join(f['overrides'])}"
                                              if f.get("overrides") else "") for f in failed]


def write_table(runs: pd.DataFrame, failed: list[dict], out_dir, date: str | None = None, ensemble=()) -> str:
    """Check, summarise and write every table file into ``out_dir``; returns the markdown text.

    ``ensemble``: methods that also get a seed-ensemble column (msvdd.reports.ensemble), where a group
    has two or more seeds."""
    check_consistent(runs)
    out, date = Path(out_dir), date or datetime.date.today().isoformat()
    out.mkdir(parents=True, exist_ok=True)
    combined = seed_ensemble.ensemble_rows(runs, ensemble) if len(ensemble) else runs.iloc[:0]
    shown = pd.concat([runs, combined], ignore_index=True) if len(combined) else runs
    labels = {**METHODS, **{seed_ensemble.name(m): seed_ensemble.label(m, METHODS) for m in ensemble}}
    methods, summary, det, miss = methods_of(shown), summarise(shown), detail(shown), missing(runs)
    dataset, note_lines = runs.dataset.iloc[0], notes(runs, failed, len(miss), date)
    if len(combined):
        note_lines.append("seed ensemble: per group, the mean over its seeds of each run's test scores standardised "
                          "by that run's training scores (msvdd.reports.ensemble); its n counts groups")
    view = main_view(summary, methods, labels, SEED_COLUMNS)
    md = "\n\n".join([f"# AUROC (%) on {dataset}", markdown(view), "\n".join(f"- {n}" for n in note_lines),
                      "## Per group (mean over seeds)",
                      markdown(detail_view(det, methods, labels, CLUSTERED, SHORT)),
                      _listing("Failed, incomplete or duplicate runs (not counted)", _failed_lines(failed)),
                      _listing("Missing runs (includes those not counted above)", miss)]) + "\n"
    (out / "table.md").write_text(md)
    summary.reset_index().to_csv(out / "table.csv", index=False)
    det.to_csv(out / "table_detail.csv", index=False)
    caption = "Test AUROC (%) by group size and method. " + "; ".join(
        n for n in note_lines if n.startswith(("dataset", "epochs", "seeds", "cells")))
    (out / "table.tex").write_text(latex(view, caption, note_lines))
    plot_auroc(shown, out / "auroc.png", methods=methods, labels=labels,
               reference=seed_reference(dataset), title=f"{dataset}: AUROC by group size ({len(runs)} runs)")
    return md
