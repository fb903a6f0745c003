"""Test-set metrics of one run."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def test_metrics(y_test: np.ndarray, scores: np.ndarray) -> dict:
    """AUROC and average precision with anomalies (label 1) as the positive class."""
    return {"auroc": float(roc_auc_score(y_test, scores)),
            "average_precision": float(average_precision_score(y_test, scores))}

