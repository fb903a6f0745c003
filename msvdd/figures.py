"""Drawing primitives for the PNGs of a run (ROC, training curves, embeddings, extreme images): no msvdd logic here."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def roc(y_test, scores, auroc: float, title: str, path: Path) -> None:
    fpr, tpr, _ = roc_curve(y_test, scores)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, lw=2, label=f"AUROC {100 * auroc:.2f} %")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (anomalies found)", title=title)
    ax.legend(loc="lower right")
    _save(fig, path)


def training_curves(history: dict, path: Path) -> None:
    """Loss per epoch and, per sphere, its radius per epoch (flat at 0 before the warm-up)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    if history.get("pretrain_loss"):
        a.plot(history["pretrain_loss"], label="autoencoder (pretrain)")
    a.plot(history["loss"], label="Deep SVDD")
    a.set(xlabel="epoch", ylabel="loss", yscale="log", title="training loss")
    a.legend()
    radii = np.asarray(history["radii"])
    for k in range(radii.shape[1] if radii.ndim == 2 else 0):
        b.plot(radii[:, k], label=f"sphere {k}")
    b.set(xlabel="epoch", ylabel="radius R_k", title="radius per epoch")
    if radii.ndim == 2 and radii.shape[1] <= 10:
        b.legend(fontsize=8)
    _save(fig, path)


def embedding_pca(z: np.ndarray, clusters: np.ndarray, classes: np.ndarray, centers: np.ndarray,
                  path: Path, clusters_by: str = "pseudo-label (sphere)") -> None:
    """2-D PCA of the training embeddings, coloured by sphere (left) and by true class (right)."""
    pca = PCA(n_components=2, random_state=0).fit(z)
    p, c = pca.transform(z), pca.transform(centers)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
    for ax, colour, title in ((axes[0], clusters, clusters_by), (axes[1], classes, "true class")):
        for value in np.unique(colour):
            m = colour == value
            ax.scatter(p[m, 0], p[m, 1], s=4, alpha=0.5, label=str(value))
        ax.scatter(c[:, 0], c[:, 1], marker="x", c="k", s=60, label="centers")
        ax.set(title=f"training embeddings by {title}", xlabel="PC 1", ylabel="PC 2")
        ax.legend(markerscale=3, fontsize=7, loc="best")
    _save(fig, path)


def embedding_space(points: np.ndarray, clusters: np.ndarray, classes: np.ndarray, space: str, path: Path) -> None:
    """The first two coordinates of the clustering space, coloured by FINCH cluster and by true class."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
    for ax, colour, title in ((axes[0], clusters, "pseudo-label"), (axes[1], classes, "true class")):
        for value in np.unique(colour):
            m = colour == value
            ax.scatter(points[m, 0], points[m, 1], s=4, alpha=0.5, label=str(value))
        ax.set(title=f"clustering space ({space}) by {title}", xlabel=f"{space} 1", ylabel=f"{space} 2")
        ax.legend(markerscale=3, fontsize=7, loc="best")
    _save(fig, path)


def extreme_images(x_test: np.ndarray, scores: np.ndarray, classes: np.ndarray, path: Path, n: int = 16,
                   names=None) -> None:
    """The n most normal (lowest score) and n most anomalous test images, with their true class: its name
    (``names[class]``: an own folder's subfolder, "Sandal") where the data has names, else its index."""
    order = np.argsort(scores)
    rows = (("most normal", order[:n]), ("most anomalous", order[::-1][:n]))
    fig, axes = plt.subplots(2, n, figsize=(n * 0.8, 2.2))
    for r, (label, idx) in enumerate(rows):
        for j, i in enumerate(idx):
            img = np.moveaxis(x_test[i], 0, -1)
            img = (img - img.min()) / (np.ptp(img) or 1)
            axes[r, j].imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray")  # a 1-pixel-high row too
            c = int(classes[i])
            axes[r, j].set_title(str(names[c])[:12] if names else str(c), fontsize=6 if names else 7)
            axes[r, j].axis("off")
        axes[r, 0].text(-0.5, 0.5, label, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=8)
    _save(fig, path)
