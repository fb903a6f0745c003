"""Test-set metrics of one run."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, average_precision_score, roc_auc_score


def test_metrics(y_test: np.ndarray, scores: np.ndarray) -> dict:
    """AUROC and average precision with anomalies (label 1) as the positive class."""
    return {"auroc": float(roc_auc_score(y_test, scores)),
            "average_precision": float(average_precision_score(y_test, scores))}


def pseudo_label_agreement(true_classes: np.ndarray, pseudo_labels: np.ndarray) -> float:
    """Adjusted Rand index of the clusters against the true normal classes (1 = same partition)."""
    return float(adjusted_rand_score(true_classes, pseudo_labels))
