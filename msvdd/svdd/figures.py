"""The figures a fitted DeepSVDD can draw of itself: training curves, its embeddings by sphere and by
class, and the clustering space its pseudo-labels were found in."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from msvdd import figures


def draw(model, folder: Path, X_train, y_train, trained: bool) -> None:
    if not model.history_.get("loss"):
        return
    figures.training_curves(model.history_, folder / "training.png")
    z, centers = model.embed(X_train), model.centers_.cpu().numpy()
    if trained:
        spheres, by = model.cluster_labels_.numpy(), "pseudo-label (sphere)"
    else:  # an evaluated checkpoint's training labels belong to other images (maybe other classes)
        spheres, by = ((z[:, None] - centers[None]) ** 2).sum(-1).argmin(1), "nearest sphere"
    y_train = np.asarray(y_train)
    figures.embedding_pca(z, spheres, y_train, centers, folder / "embeddings_pca.png", by)
    space = getattr(model.clustering, "space", None)
    if trained and getattr(space, "embedding_", None) is not None and space.embedding_.shape[1] >= 2:
        initial = getattr(model.clustering.assign, "initial_labels_", model.cluster_labels_.numpy())
        figures.embedding_space(space.embedding_, initial, y_train, space.label, folder / "embeddings_space.png")
