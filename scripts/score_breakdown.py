"""Why does a Deep SVDD run score the way it does? A breakdown of one trained run's test scores.

Loads a run folder's model.pt, rebuilds its test set (same dataset, same normal classes, same
preprocessing) and prints:
  * the run's AUROC and the AUROC against each anomaly class on its own, so a "below chance" run shows
    which classes land inside the spheres;
  * per sphere, how many training points it holds, its center's norm, and the median squared distance of
    its own normal test points, so one tight and one loose sphere show up;
  * the AUROC of other scores of the same embeddings: the smallest distance (no radii), the distance to the
    mean of the centers (one sphere, no re-training), each distance divided by its sphere's median
    training distance, and the embedding's norm ||phi(x)|| (a bias-free network maps featureless inputs
    near 0, and the eps rule keeps centers near 0 too).

Usage: MSVDD_DATA=... python scripts/score_breakdown.py RUN_DIR [RUN_DIR ...]
Reads only; writes nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from msvdd.data.datasets import BENCHMARKS
from msvdd.run.checkpoint import load_checkpoint
from msvdd.run.metrics import auroc_per_anomaly_class
from msvdd.svdd.spheres import score, sq_distances


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    return 100.0 * roc_auc_score(y, s)


def breakdown(run_dir: Path) -> dict:
    """The numbers above for one run folder, printed as they come; returned for tests."""
    results = json.loads((run_dir / "results.json").read_text())
    name, classes = results["dataset"], results["normal_classes"]
    if name not in BENCHMARKS:
        raise SystemExit(f"{run_dir}: dataset {name!r} is not one of {sorted(BENCHMARKS)}")
    data = BENCHMARKS[name](classes).load()
    model, _ = load_checkpoint(run_dir / "model.pt", data.x_test.shape[1:])
    z_test = torch.from_numpy(model.embed(data.x_test))
    z_train = torch.from_numpy(model.embed(data.x_train))
    c, r2 = model.centers_.cpu(), model.score_radii_.cpu() ** 2
    d_test, d_train = sq_distances(z_test, c), sq_distances(z_train, c)
    y, labels = data.y_test.numpy(), data.labels_test.numpy()
    run_score = score(d_test, model.score_radii_.cpu(), model.score).numpy()

    run_auroc = auroc(y, run_score)
    print(f"== {run_dir.name}")
    print(f"{name} normal {classes}, method {results.get('method')}, {len(c)} sphere(s), "
          f"AUROC recorded {100 * results['auroc']:.2f}, recomputed {run_auroc:.2f}")
    names = BENCHMARKS[name].class_names
    per_class = auroc_per_anomaly_class(labels, y, run_score)
    print("AUROC against each anomaly class: " + ", ".join(f"{names[k]} {v:.1f}" for k, v in per_class.items()))
    # each sphere's median squared distance over the training points nearest to it (1 where none is)
    nearest_train = d_train.argmin(dim=1)
    held = [d_train[nearest_train == k, k] for k in range(len(c))]
    scale = torch.stack([own.median() if len(own) else torch.tensor(1.0) for own in held])
    for k, own in enumerate(held):
        print(f"  sphere {k}: {int((model.cluster_labels_ == k).sum())} training points, |c| "
              f"{c[k].norm():.3f}, R^2 {float(r2[k]):.4g}, median train d^2 {scale[k]:.4g}" if len(own) else
              f"  sphere {k}: no training point nearest")
    for k in classes:
        counts = torch.bincount(d_test[labels == k].argmin(dim=1), minlength=len(c)).tolist()
        print(f"  normal test class {names[k]}: nearest sphere counts {counts}, "
              f"median min d^2 {d_test[labels == k].min(dim=1).values.median():.4g}")
    print(f"  anomalies: median min d^2 {d_test[y == 1].min(dim=1).values.median():.4g}")
    alternatives = {
        "min distance (no radii)": d_test.min(dim=1).values,
        "distance to the mean center": sq_distances(z_test, c.mean(dim=0, keepdim=True))[:, 0],
        "min distance / sphere's median train distance": (d_test / scale).min(dim=1).values,
        "embedding norm |phi(x)|": z_test.norm(dim=1),
    }
    other = {label: auroc(y, s.numpy()) for label, s in alternatives.items()}
    print("other scores of the same embeddings: " + ", ".join(f"{label} {v:.2f}" for label, v in other.items()))
    return {"auroc": run_auroc, "per_class": per_class, "alternatives": other}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders holding model.pt and results.json")
    for run_dir in parser.parse_args().runs:
        breakdown(run_dir)


if __name__ == "__main__":
    main()
