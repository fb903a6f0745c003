"""The methods a table knows (``conf/method``), in column order, with their column labels.

A method is a named config (conf/method/NAME.yaml) that picks the model and, for Deep SVDD, its
clustering; its name is recorded in results.json. Order here is the order of the table's columns:
Deep SVDD first (one radius, multi-radius unsupervised, the oracle), then the baselines. A method not
listed here (a clustering variant such as svdd_finch_umap) gets a column named after it, after these.
"""

from __future__ import annotations

METHODS = {  # name: column label, in table order
    "svdd_one": "Deep SVDD (one radius)",
    "svdd_finch": "Multi-radius (FINCH)",
    "svdd_kmeans": "Multi-radius (k-means)",
    "svdd_oracle": "Multi-radius (oracle labels)",
    "svdd_many": "Many spheres (FINCH, kNN score)",
    "svdd_many_short": "Many spheres, 5 epochs, 1-NN score",
    "svdd_kmeans_many": "Many spheres (k-means, 30)",
    "knn": "kNN distance",
    "lof": "LOF",
    "iforest": "Isolation Forest",
    "ocsvm": "OC-SVM",
    "ae_recon": "AE reconstruction",
}
# results.json files written before the method group named Deep SVDD runs by their clustering alone
LEGACY = {"none": "svdd_one", "finch": "svdd_finch", "kmeans": "svdd_kmeans", "oracle": "svdd_oracle"}
# methods whose cluster count and ARI are worth showing per group
CLUSTERED = ("svdd_finch", "svdd_kmeans", "svdd_many", "svdd_many_short", "svdd_kmeans_many")
SHORT = {"svdd_finch": "FINCH", "svdd_kmeans": "k-means", "svdd_many": "many", "svdd_many_short": "many short",
         "svdd_kmeans_many": "k-means 30"}


def canonical(name: str) -> str:
    """The method's name today, for a name read from any results.json."""
    return LEGACY.get(name, name)

