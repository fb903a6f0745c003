"""scripts/class_breakdown.py: the AUROC of the normal test items against each anomaly class alone."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from msvdd.run.metrics import auroc_per_anomaly_class

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("class_breakdown", ROOT / "scripts" / "class_breakdown.py")
class_breakdown = importlib.util.module_from_spec(spec)
spec.loader.exec_module(class_breakdown)


def test_each_anomaly_class_against_the_normal_items_alone():
    labels, anomaly = np.array([0, 0, 5, 5, 7]), np.array([0, 0, 1, 1, 1])
    score = np.array([0.0, 1.0, 2.0, 0.5, 3.0])
    got = auroc_per_anomaly_class(labels, anomaly, score)
    assert got == {5: pytest.approx(75.0), 7: pytest.approx(100.0)}  # 5: 0.5 ranks below the normal 1.0


def test_a_seed_ensemble_is_the_mean_standardised_score(tmp_path):
    for i, (train, test) in enumerate([([0.0, 2.0], [1.0, 3.0]), ([10.0, 30.0], [30.0, 10.0])]):
        (tmp_path / str(i)).mkdir()
        np.savez(tmp_path / str(i) / "scores.npz", train_score=train, test_score=test, anomaly=[0, 1])
    score, anomaly = class_breakdown._scores([tmp_path / "0", tmp_path / "1"])
    assert score.tolist() == [0.5, 0.5] and anomaly.tolist() == [0, 1]  # (0, 2) and (1, -1), averaged
