"""The table step's refusal: runs of different datasets or settings never share one table.

A table compares methods under one protocol; whatever the methods share (dataset, network, schedule,
objective, class groups) must agree, and each method's own options (its ``settings.model``, its score
rule) must agree across that method's runs. The error names every key that differs and how often.
"""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd

from msvdd.nested import flatten


class MixedSettingsError(ValueError):
    """The runs given to one table differ in dataset or settings; the message names what differs."""


def _flatten(d: dict, prefix: str = "") -> dict:
    """Dotted keys with each value as text (JSON for numbers and lists), so that settings compare as typed."""
    return {k: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in flatten(d, prefix).items()}


def _differing(records: list[dict], absent: str | None = "<absent>") -> list[str]:
    """'key = a (3 runs), b (1 run)' for every key whose value is not the same in all records."""
    parts = []
    for key in sorted(set().union(*records)):
        counts = Counter(str(r.get(key, absent)) for r in records if key in r or absent is not None)
        if len(counts) > 1:
            values = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            parts.append(f"{key} = " + ", ".join(f"{v} ({n} run{'s' * (n != 1)})" for v, n in values))
    return parts


def check_consistent(runs: pd.DataFrame) -> None:
    """Raise MixedSettingsError naming the dataset, settings keys or group indices that differ."""
    parts = _differing([{"dataset": d} for d in runs.dataset])
    if not parts:  # recorded top-level fields count where present; settings keys also when absent
        top = runs[["objective", "group_split", "group_seed"]].rename(
            columns=lambda c: c.replace("group_", "group."))
        parts = _differing([r.dropna().to_dict() for _, r in top.iterrows()], absent=None)
        # the groups methods share (network, training...) must agree wherever recorded; a method's own
        # options (settings.model) must agree across that method's runs
        shared = [{k: v for k, v in _flatten(s, "settings.").items() if not k.startswith("settings.model.")}
                  for s in runs.settings]
        parts += _differing(shared, absent=None)
        for method, g in runs.groupby("method", sort=False):
            own = _differing([_flatten(s.get("model") or {}, "settings.model.") for s in g.settings])
            own = own or _differing([{"score_rule": r} for r in g.score_rule.dropna()])  # a method's own choice
            own = own or _differing([{"settings_id": s} for s in g.settings_id.dropna()])
            parts += [f"{method}: {p}" for p in own]
        for (size, index), g in runs[runs.group_index.notna()].groupby(["group_size", "group_index"]):
            parts += _differing([{f"group size {size} #{int(index)}": list(c)} for c in g.classes])
    if parts:
        raise MixedSettingsError("mixed settings in one table: " + "; ".join(parts))
