"""Command-line spellings that msvdd no longer reads, each stopped with the spelling that replaced it.

``method=`` is the one way to say what a run is; FINCH's options, the clustering space and the
re-assignment rule live under the clustering the method chooses (``model.clustering``), and the score
rule under the Deep SVDD model. Without this, Hydra would answer an old spelling with a long error that
does not say what to type instead.
"""

from __future__ import annotations

import re

from msvdd.errors import ConfigError

VARIANTS = {"one_radius": "svdd_one", "oracle": "svdd_oracle", "finch_umap_input": "svdd_finch",
            "kmeans_umap_input": "svdd_kmeans"}  # other variant=finch_X became method=svdd_finch_X
GROUPS = {"clustering": {"none": "svdd_one", "finch": "svdd_finch", "kmeans": "svdd_kmeans", "oracle": "svdd_oracle"}}
KEYS = {"finch": "model.clustering", "clustering_space": "model.clustering.space", "assign": "model.clustering.assign",
        "clustering": "model.clustering", "score": "model.score"}
OVERRIDE = re.compile(r"^(?:\+\+|\+|~)?([\w/]+)((?:\.[\w]+)*)(?:@[\w.]+)?=(.*)$")


def check(overrides: list[str]) -> None:
    """ConfigError naming the new spelling for the first retired one in ``overrides``."""
    for item in overrides:
        m = OVERRIDE.match(item)
        if not m:
            continue
        key, sub, value = m.group(1), m.group(2), m.group(3)
        new = _replacement(key, sub, value)
        if new:
            raise ConfigError(f"{key}{sub}", value, new, "a spelling msvdd no longer reads")


def _replacement(key: str, sub: str, value: str) -> str | None:
    first = value.split(",")[0]  # a sweep lists several values: name the first one's new spelling
    if not sub and key == "variant":
        return f"method={VARIANTS.get(first, 'svdd_' + first)} (conf/method)"
    if not sub and key == "model":
        return f"method={first} (the method chooses its model)"
    if not sub and key in GROUPS:
        return f"method={GROUPS[key].get(first, 'svdd_' + first)} (the method chooses its clustering)"
    if not sub and key == "clustering_space":
        return f"model/clustering/space={first}"
    if not sub and key == "assign":
        return f"model/clustering/assign={first}"
    if key in KEYS and (sub or key == "score"):
        return f"{KEYS[key]}{sub}={value}"
    return None
