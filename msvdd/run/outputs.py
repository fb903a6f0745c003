"""The files a run writes besides its plots: model.pt, scores.npz, test_scores.csv and the results.json record.

results.json is written last, so its presence means the run is complete (a sweep skips such a job).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from msvdd.files import save_npz, write_csv
from msvdd.run.records import SCHEMA, settings_id, versions, write_json_atomic
from msvdd.run.settings import used_config


def save_model(job, data, train_scores, out: Path) -> None:
    """model.pt with what msvdd.predict needs to score new data like the test data, and the run itself."""
    accel = {k: v for k, v in OmegaConf.to_container(job.cfg.accel).items() if k != "_target_"}
    job.model.save(out / "model.pt", meta={
        "preprocessing": data.preprocessing, "dataset": job.dataset.name,
        "train_scores": torch.from_numpy(train_scores), "accel": accel,
        "run": {"dataset": job.dataset.name, "normal_classes": job.classes, "method": job.method,
                "settings": job.settings, "settings_id": settings_id(job.settings)}})


def write_scores(path: Path, test_scores, anomaly, train_scores=None) -> None:
    """scores.npz: every test item's score and truth, and the training points' scores (``train_scores_``).

    What the table step needs to combine runs without retraining (msvdd.reports.ensemble: each run's
    scores standardised by its own training scores); an evaluated checkpoint has no training scores.
    """
    arrays = {"test_score": np.asarray(test_scores, dtype=np.float64), "anomaly": np.asarray(anomaly, dtype=np.int8)}
    if train_scores is not None:
        arrays["train_score"] = np.asarray(train_scores, dtype=np.float64)
    save_npz(path, **arrays)


def write_test_scores(job, data, path: Path) -> None:
    """test_scores.csv (own data): name, the model's per-item columns, true class, anomaly (0/1)."""
    class_names = getattr(job.dataset, "class_names", None)
    labels = data.labels_test.tolist()
    write_csv(path, {"name": list(data.names_test), **job.model.item_columns(data.x_test),
                     "class": [class_names[c] for c in labels] if class_names else labels,
                     "anomaly": data.y_test.tolist()})


def write_results(job, data, metrics: dict, timings: dict, path: Path) -> None:
    cfg, model = job.cfg, job.model
    record = {
        "schema": SCHEMA, "status": "complete", "mode": "evaluate" if job.evaluating else "train",
        "dataset": job.dataset.name, "normal_classes": job.classes,
        "group": None if cfg.group.size is None else OmegaConf.to_container(cfg.group),
        "method": job.method, "seed": model.seed, **metrics,
        **model.describe(None if job.evaluating else data.y_train.numpy()),
        "n_classes": len(data.normal_classes), "n_train": len(data.x_train), "n_test": len(data.x_test),
        **({"split": data.split} if data.split else {}),
        "settings": job.settings, "settings_id": settings_id(job.settings),
        "timings_s": {k: round(v, 3) for k, v in timings.items()}, "versions": versions(),
        "config": used_config(cfg, job.evaluating),
    }
    if job.evaluating:
        trained = {k: v for k, v in job.trained_run.items() if k != "settings"}
        record["checkpoint"] = {"path": str(Path(cfg.ckpt_path).absolute()), **trained}
    write_json_atomic(path, record)
