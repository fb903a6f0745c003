"""A fitted DeepSVDD as plain state (tensors and values) and back: its part of model.pt (msvdd.model_file).

Rebuilding checks what a foreign or damaged file would get wrong (shapes that do not fit the network,
an unknown score rule), so that loading fails with one line instead of a matrix-product error later.
"""

from __future__ import annotations

import torch

from msvdd.networks import build_network
from msvdd.svdd.objectives import OBJECTIVES
from msvdd.svdd.score_rules import NEEDS_TRAINING_EMBEDDINGS, SCORE_RULES


def state(model) -> dict:
    """Everything scoring needs, on the CPU so that the file loads anywhere."""
    return {"network": model.network_.hparams,
            "weights": {k: v.cpu() for k, v in model.network_.state_dict().items()},
            "centers": model.centers_.cpu(), "radii": model.radii_.cpu(), "score_radii": model.score_radii_.cpu(),
            "score": model.score, "seed": model.seed, "cluster_labels": model.cluster_labels_.cpu(),
            "history": model.history_, "objective": {"name": model.objective_.name, **vars(model.objective_)},
            "score_neighbors": model.score_neighbors,
            **({"train_embeddings": model.train_embeddings_.cpu()} if hasattr(model, "train_embeddings_") else {})}


def rebuild(cls, state: dict, device: str = "cpu"):
    """A ``cls`` (DeepSVDD) ready to score, from ``state``; ValueError/KeyError when the state is not one."""
    net = build_network(state["network"])
    net.load_state_dict(state["weights"])
    centers, radii = state["centers"].float(), state["radii"].float()
    score_radii, labels = state["score_radii"].float(), state["cluster_labels"].long()
    k = len(centers)
    if centers.ndim != 2 or centers.shape[1] != net.rep_dim or not radii.shape == score_radii.shape == (k,):
        raise ValueError(f"centers {tuple(centers.shape)} and radii {tuple(radii.shape)} do not fit "
                         f"a network of rep_dim {net.rep_dim}")
    if state["score"] not in SCORE_RULES:
        raise ValueError(f"unknown score rule {state['score']!r}")
    objective = dict(state["objective"])
    model = cls(net, score=state["score"], seed=state["seed"], score_neighbors=state.get("score_neighbors", 5))
    model.objective_ = OBJECTIVES[objective.pop("name")](**objective)
    model.network_ = net.to(device).eval()
    model.centers_, model.radii_, model.score_radii_ = centers.to(device), radii.to(device), score_radii.to(device)
    model.cluster_labels_, model.n_clusters_ = labels, k
    model.cluster_sizes_ = torch.bincount(labels, minlength=k).tolist()
    model.history_ = state["history"]
    if state["score"] in NEEDS_TRAINING_EMBEDDINGS:
        bank = state.get("train_embeddings")
        if bank is None or bank.ndim != 2 or bank.shape[1] != net.rep_dim:
            raise ValueError(f"score rule {state['score']!r} needs the training embeddings (n, {net.rep_dim})")
        model.train_embeddings_ = bank.float().to(device)
    return model
