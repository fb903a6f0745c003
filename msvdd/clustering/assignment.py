"""Which sphere each training point trains towards, during Deep SVDD (the ``model/clustering/assign`` config group).

``fixed``: the pseudo-labels of the clustering stage, for the whole training (msvdd's default).
``nearest``: hard-EM re-assignment as in Deep Multi-sphere SVDD (Ghafoori & Leckie 2020): every
``every`` epochs each point moves to the sphere whose margin ||phi(x) - c_k||^2 - R_k^2 is smallest
(under the one-class objective R = 0 while training: the nearest center), and a sphere left with
fewer than ``nu`` x the largest sphere's points is dropped, from training and from scoring, its
points moving to the remaining spheres (their rule; an emptied sphere is the extreme case).
Centers stay where the clustering stage put them: moving them with the points would let the
spheres chase a collapsing embedding.
"""

from __future__ import annotations

import numpy as np
import torch

from msvdd.errors import ConfigError

RULES = ("fixed", "nearest")


class Assignment:
    """``start(labels, K)``, ``after_epoch(...)`` at the end of each training epoch (re-assigns in
    place when due), then ``finish(labels, centers, radii)`` compacts away dropped spheres.
    ``describe()`` records the moves per re-assignment and the dropped spheres (in the clustering
    stage's numbering).
    """

    def __init__(self, rule: str = "fixed", every: int = 1, nu: float = 0.1):
        if rule not in RULES:
            raise ConfigError("model.clustering.assign.rule", rule, ", ".join(RULES))
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError("model.clustering.assign.every", every, "an int >= 1 (epochs between re-assignments)")
        if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not 0 <= nu < 1:
            raise ConfigError("model.clustering.assign.nu", nu, "a number in [0, 1)")
        self.rule, self.every, self.nu = rule, every, float(nu)
        self.info: dict = {}

    def start(self, labels: torch.Tensor, n_clusters: int) -> None:
        self.active_ = torch.ones(n_clusters, dtype=torch.bool, device=labels.device)
        self.initial_labels_ = labels.detach().cpu().numpy().copy()
        self.info = {"rule": self.rule, **({"every": self.every, "nu": self.nu} if self.rule != "fixed" else {}),
                     "moves": [], "moved_epochs": [], "dropped": []}

    def after_epoch(self, epoch: int, embed, centers: torch.Tensor, radii: torch.Tensor,
                    labels: torch.Tensor) -> None:
        """Re-assign ``labels`` in place when due (a captured CUDA-graph step reads that tensor).

        ``embed()`` returns phi of the training data: only called when a re-assignment is due.
        """
        if self.due(epoch):
            labels.copy_(self.reassign(embed(), centers, radii, labels, epoch))

    def due(self, epoch: int) -> bool:
        return self.rule == "nearest" and (epoch + 1) % self.every == 0

    @torch.no_grad()
    def reassign(self, z: torch.Tensor, centers: torch.Tensor, radii: torch.Tensor, labels: torch.Tensor,
                 epoch: int) -> torch.Tensor:
        """Each point to its smallest-margin active sphere; drop spheres under nu x the largest."""
        margin = ((z.unsqueeze(1) - centers.unsqueeze(0)) ** 2).sum(-1) - radii.to(z.dtype) ** 2
        while True:
            new = margin.masked_fill(~self.active_, float("inf")).argmin(1)
            counts = torch.bincount(new, minlength=len(centers))
            small = self.active_ & ((counts == 0) | (counts < self.nu * counts.max()))
            if not small.any():
                break
            self.active_ &= ~small  # dropped for good; their points move on the next pass
            self.info["dropped"] += [{"sphere": k, "epoch": epoch + 1, "points": int(counts[k])}
                                     for k in small.nonzero().flatten().tolist()]
        self.info["moves"].append(int((new != labels).sum()))
        self.info["moved_epochs"].append(epoch + 1)
        return new

    def finish(self, labels: torch.Tensor, centers: torch.Tensor, radii: torch.Tensor):
        """(labels, centers, radii) without the dropped spheres, labels renumbered 0..K'-1."""
        if bool(self.active_.all()):
            return labels, centers, radii
        keep = self.active_.nonzero().flatten()
        new_index = torch.full_like(self.active_, -1, dtype=torch.long)
        new_index[keep] = torch.arange(len(keep), device=keep.device)
        self.info["kept"] = keep.tolist()
        return new_index[labels], centers[keep], radii[keep]

    @property
    def total_moves(self) -> int:
        return int(np.sum(self.info.get("moves", [])))

    def describe(self) -> dict:
        return {**self.info, "total_moves": self.total_moves} if self.info else {}
