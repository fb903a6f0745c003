"""A run's PNGs: all of them or none, drawn into a hidden folder and moved in only when every one succeeded."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from msvdd import figures


def write_plots(job, data, scores: np.ndarray, metrics: dict, out: Path) -> None:
    """roc.png, the model's own figures (training curves, embeddings...) and, for images, extremes.png."""
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".plots-"))
    try:
        title = f"{data.name} {list(data.normal_classes)} · {job.method}"
        figures.roc(data.y_test.numpy(), scores, metrics["auroc"], title, staging / "roc.png")
        job.model.figures(staging, data.x_train, data.y_train.numpy(), trained=not job.evaluating)
        if data.x_test.dim() == 4:  # images (a table has no picture to show)
            figures.extreme_images(data.x_test.numpy(), scores, data.labels_test.numpy(), staging / "extremes.png",
                                   names=getattr(job.dataset, "class_names", None))
        for png in sorted(staging.iterdir()):
            os.replace(png, out / png.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
