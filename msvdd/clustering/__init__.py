"""Pseudo-labels for multi-radius Deep SVDD: FINCH, k-means, the oracle, or none."""

from msvdd.clustering.pseudo_labels import (
    FinchClustering,
    KMeansClustering,
    NoClustering,
    OracleClustering,
    merge_small_clusters,
)

__all__ = ["FinchClustering", "KMeansClustering", "NoClustering", "OracleClustering", "merge_small_clusters"]
