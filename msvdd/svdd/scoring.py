"""Per-item scores of a fitted DeepSVDD: its score, nearest sphere and verdict (a run's test items, msvdd.predict).

Both a run and predict score through ``score_items``, in the estimator's own chunks and on the model's
device, so predict reproduces a run's test scores bit for bit on the same machine and device. On a GPU
that needs the same batches too (matrix products depend on the batch size) and the run's TF32 setting,
which predict applies; a GPU model scored on the CPU agrees to TF32's ~1e-3 relative (float32 rounding
with ``accel.deterministic=true``).
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from msvdd.svdd.embedding import EVAL_BATCH
from msvdd.svdd.score_rules import rule_scores
from msvdd.svdd.spheres import sq_distances


def score_items(model, X: torch.Tensor, show_progress: bool = False) -> dict[str, np.ndarray]:
    """score (model.score_samples), the nearest sphere (smallest ||phi(x) - c_k||^2 - R_k^2 with the
    fitted radii) and outside (1 when outside every fitted sphere: model.predict)."""
    scores, spheres, margins = [], [], []
    device = model.centers_.device  # where score_samples computes, so the numbers are the same
    for start in tqdm(range(0, len(X), EVAL_BATCH), desc="score", leave=False, disable=not show_progress):
        z = torch.from_numpy(model.embed(X[start:start + EVAL_BATCH])).to(device)
        d = sq_distances(z, model.centers_)
        margin = d - model.radii_.to(device, d.dtype) ** 2
        scores.append(rule_scores(model, z).cpu())
        spheres.append(margin.argmin(dim=1).cpu())
        margins.append(margin.min(dim=1).values.cpu())
    margin = torch.cat(margins).numpy()
    return {"score": torch.cat(scores).numpy(), "sphere": torch.cat(spheres).numpy(),
            "outside": (margin > 0).astype(np.int64)}
