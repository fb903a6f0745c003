"""How the table step looks: table cells, markdown, LaTeX and auroc.png.

msvdd.reports.table decides what the numbers are; this module only turns them into text and a figure.
The figure uses matplotlib's object API with the Agg canvas (no pyplot state, no display needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_TEX = str.maketrans({**{c: "\\" + c for c in "&%_#${}"}, "~": r"\textasciitilde{}",
                      "^": r"\textasciicircum{}", "\\": r"\textbackslash{}", "±": r"$\pm$", "—": "--",
                      "×": r"$\times$"})
WIDTH = 0.6  # share of the space between two group sizes that the methods of one size spread over


def cell(mean, std, n, spread: bool = True) -> str:
    """'96.31 ± 1.20 (n=30)'; '—' for the std of one run, '' where nothing ran."""
    if pd.isna(n) or not n:
        return ""
    n = int(n)
    return f"{mean:.2f}" + (f" ± {'—' if n < 2 else f'{std:.2f}'}" if spread else "") + f" (n={n})"


def _number(v, fmt: str) -> str:
    return "" if v is None or pd.isna(v) else format(v, fmt)


def main_view(summary: pd.DataFrame, methods: list[str], labels: dict, seed_labels: dict) -> pd.DataFrame:
    """The main table as text: one row per group size, one column per method, then the seed's numbers."""
    view = pd.DataFrame({"group size": summary.index})
    for m in methods:
        view[labels.get(m, m)] = [cell(*r) for r in summary[[f"{m}_mean", f"{m}_std", f"{m}_n"]].values]
    for m, label in seed_labels.items():
        if f"seed_{m}" in summary:
            view[label] = [_number(v, "g") for v in summary[f"seed_{m}"]]
    return view


def detail_view(det: pd.DataFrame, methods: list[str], labels: dict, clustered, short: dict) -> pd.DataFrame:
    """The per-group table as text: mean over seeds per method, cluster count and ARI where clustered."""
    view = pd.DataFrame({"size": det.group_size, "classes": det.classes})
    # a table group has its index; a group given by its classes (dataset.normal_classes) is named by them
    view.insert(1, "group", [f"#{int(i)}" if pd.notna(i) else c for i, c in zip(det.group_index, det.classes)])
    for m in methods:
        means = det[[f"{m}_mean", f"{m}_n"]].values
        view[labels.get(m, m)] = [cell(a, None, n, spread=False) for a, n in means]
        if m in clustered:
            name = short.get(m, m)
            view[f"{name} clusters"] = [_number(v, ".1f") for v in det[f"{m}_clusters"]]
            view[f"{name} ARI"] = [_number(v, ".2f") for v in det[f"{m}_ari"]]
    return view


def markdown(df: pd.DataFrame) -> str:
    rows = [list(map(str, df.columns)), *([str(v) for v in r] for r in df.fillna("").values)]
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join([lines[0], "|" + "---|" * len(df.columns), *lines[1:]])


def _tex(value) -> str:
    return str(value).translate(_TEX)


def latex(df: pd.DataFrame, caption: str, comments: list[str]) -> str:
    """A booktabs table; ``comments`` go above it as % lines."""
    body = [" & ".join(map(_tex, r)) + r" \\" for r in df.fillna("").values]
    return "\n".join([*(f"% {c}" for c in comments), r"\begin{table}[t]", r"\centering",
                      rf"\caption{{{_tex(caption)}}}", r"\begin{tabular}{" + "l" * len(df.columns) + "}",
                      r"\toprule", " & ".join(map(_tex, df.columns)) + r" \\", r"\midrule", *body,
                      r"\bottomrule", r"\end{tabular}", r"\end{table}", ""])


def plot_auroc(
    runs: pd.DataFrame,
    path,
    *,
    methods: list[str],
    labels: dict[str, str],
    reference: dict[str, dict[int, float]] | None = None,
    title: str = "",
) -> Path:
    """Write the figure to ``path``: jittered points per run, mean ± std bars, the seed's numbers.

    ``runs`` needs the columns group_size, method and auroc (0..1); ``reference`` maps a method to
    {group size: AUROC %} reported by the seed, drawn as hollow markers joined by dashed lines.
    """
    fig = Figure(figsize=(10, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    sizes = sorted(int(s) for s in runs.group_size.unique())
    step = WIDTH / max(len(methods), 1)
    offsets = {m: (i - (len(methods) - 1) / 2) * step for i, m in enumerate(methods)}
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    jitter = np.random.default_rng(0)  # fixed: the same runs give the same picture
    for m in methods:
        own = runs[runs.method == m]
        x = own.group_size.to_numpy(float) + offsets[m]
        ax.scatter(x + jitter.uniform(-step / 4, step / 4, len(x)), own.auroc * 100, s=12, alpha=0.45,
                   color=colours[m], linewidths=0)
        stats = (own.auroc * 100).groupby(own.group_size).agg(["mean", "std", "count"])
        ax.errorbar(stats.index.to_numpy(float) + offsets[m], stats["mean"], yerr=stats["std"].fillna(0),
                    fmt="D", color=colours[m], markeredgecolor="black", capsize=4,
                    label=f"{labels.get(m, m)} (n={len(own)})")
    for m, by_size in (reference or {}).items():
        shown = [s for s in sizes if s in by_size]
        if shown and m in offsets:
            ax.plot([s + offsets[m] for s in shown], [by_size[s] for s in shown], "o--", color=colours[m],
                    markerfacecolor="none", markersize=9, label=f"seed's reported: {labels.get(m, m)}")
    ax.set_xticks(sizes)
    ax.set_xlabel("group size (number of normal classes)")
    ax.set_ylabel("test AUROC (%)")
    ax.set_title(title or "AUROC by group size")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.subplots_adjust(left=0.07, right=0.68, bottom=0.11, top=0.92)  # legend to the right
    fig.savefig(path, dpi=120)
    return Path(path)
