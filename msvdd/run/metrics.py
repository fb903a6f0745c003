"""Test-set metrics of one run."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def test_metrics(y_test: np.ndarray, scores: np.ndarray) -> dict:
    """AUROC and average precision with anomalies (label 1) as the positive class."""
    return {"auroc": float(roc_auc_score(y_test, scores)),
            "average_precision": float(average_precision_score(y_test, scores))}



def auroc_per_anomaly_class(labels: np.ndarray, anomaly: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    """AUROC (%) of the normal items against the items of each anomaly class on its own: where a group's
    mean AUROC loses its points (scripts/score_breakdown.py, scripts/class_breakdown.py)."""
    normal = scores[anomaly == 0]
    return {int(k): 100 * float(roc_auc_score(np.r_[np.zeros(len(normal)), np.ones((labels == k).sum())],
                                              np.r_[normal, scores[labels == k]]))
            for k in np.unique(labels[anomaly == 1])}
