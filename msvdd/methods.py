"""The methods a run can be (``conf/method``), in table order, and which one a fitted model is.

A method is a name for a model config: the Deep SVDD variants differ in their clustering, the
baselines in their estimator. Order here is the order of the table's columns: Deep SVDD variants
first (one radius, then multi-radius unsupervised, then the oracle), then the baselines.
"""

from __future__ import annotations

METHODS = {  # name: column label, in table order
    "svdd_one": "Deep SVDD (one radius)",
    "svdd_finch": "Multi-radius (FINCH)",
    "svdd_kmeans": "Multi-radius (k-means)",
    "svdd_oracle": "Multi-radius (oracle labels)",
    "knn": "kNN distance",
    "lof": "LOF",
    "iforest": "Isolation Forest",
    "ocsvm": "OC-SVM",
    "ae_recon": "AE reconstruction",
}
# results.json files written before the method group named Deep SVDD runs by their clustering alone
LEGACY = {"none": "svdd_one", "finch": "svdd_finch", "kmeans": "svdd_kmeans", "oracle": "svdd_oracle"}
CLUSTERED = ("svdd_finch", "svdd_kmeans")  # methods whose cluster count and ARI are worth showing per group
SHORT = {"svdd_finch": "FINCH", "svdd_kmeans": "k-means"}  # in per-group column names


def canonical(name: str) -> str:
    """The method's name today, for a name read from any results.json."""
    return LEGACY.get(name, name)


def method_of(model) -> str:
    """The method name of an (unfitted or fitted) estimator built from ``conf/model``."""
    clustering = getattr(model, "clustering", None)
    if hasattr(model, "name"):
        return model.name
    return "svdd_one" if clustering is None else canonical(clustering.name)


def is_deep_svdd(name: str) -> bool:
    return name.startswith("svdd_")
