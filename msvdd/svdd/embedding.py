"""The network's input checks and embeddings phi(X), shared by training, scoring and the figures."""

from __future__ import annotations

import torch

EVAL_BATCH = 1024


def as_images(X) -> torch.Tensor:
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim < 2:
        raise ValueError(f"X must be a batch (n, ...) of images (n, channels, height, width) or feature rows "
                         f"(n, features); got shape {tuple(X.shape)}")
    if len(X) == 0:
        raise ValueError("X holds no images")
    bad = (~torch.isfinite(X.flatten(1))).any(1).sum().item()
    if bad:
        raise ValueError(f"X has NaN or infinite values in {bad} images")
    return X


@torch.no_grad()
def embed(encoder, X: torch.Tensor, device) -> torch.Tensor:
    """phi(X) in eval mode (BatchNorm running statistics), in chunks to bound memory."""
    was_training = encoder.training
    encoder.eval()
    out = torch.cat([encoder(X[i:i + EVAL_BATCH].to(device)) for i in range(0, len(X), EVAL_BATCH)])
    encoder.train(was_training)
    return out
