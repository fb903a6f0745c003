"""What results.json records about a fitted DeepSVDD: spheres, radii, the clustering and how well it
found the classes (adjusted Rand index against the true normal classes, when the run knows them)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score


def describe_fit(model, y=None) -> dict:
    info, assignment = getattr(model, "clustering_info_", {}), getattr(model, "assignment_info_", {})
    ari = ari_initial = None
    clustered = info.get("method", "none") != "none"
    if y is not None and clustered:  # a partition to compare (not one radius, not an evaluated checkpoint)
        y = np.asarray(y)
        ari = float(adjusted_rand_score(y, model.cluster_labels_.numpy()))
        if assignment.get("moves"):  # the labels moved while training: also the clustering stage's ARI
            ari_initial = float(adjusted_rand_score(y, model.clustering.assign.initial_labels_))
    history = getattr(model, "history_", {})
    return {"n_clusters": model.n_clusters_, "cluster_sizes": model.cluster_sizes_, "radii": model.radii_.tolist(),
            "ari": ari, "ari_initial": ari_initial, "clustering": info, "assignment": assignment,
            "single_sphere_fallback": bool(info.get("single_cluster_fallback", False)),
            "final_loss": history["loss"][-1] if history.get("loss") else None,
            "pretrain_cached": bool(getattr(model, "pretrain_cached_", False)), "score_rule": model.score,
            "objective": model.objective_.name}
