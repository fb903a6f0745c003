"""Check, on the GPU, that captured CUDA-graph steps train the same model as eager steps, and time both.

Fits one Deep SVDD (pretraining included) twice with the same seed, ``cuda_graphs`` on and off, and prints
the largest relative difference of the per-epoch losses, the two test AUROCs and the seconds per epoch of
each phase. Run with MSVDD_DATA set for MNIST (classes 0 and 1), else it uses the embedded digits.

    python scripts/gpu_selfcheck.py [--epochs 5] [--soft-boundary]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from msvdd.clustering import OracleClustering
from msvdd.data import MNIST, Digits
from msvdd.networks import LeNetAutoEncoder
from msvdd.svdd.accel import AccelSettings
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.objectives import OneClass, SoftBoundary
from msvdd.svdd.training import TrainSettings


def fit(data, net, objective, epochs, graphs, device):
    phase = dict(epochs=epochs, lr=1e-4, milestones=[max(1, epochs // 2)], batch_size=200, device=device,
                 cuda_graphs=graphs)
    model = DeepSVDD(net, objective, OracleClustering(), pretrain=TrainSettings("pretrain", **phase),
                     train=TrainSettings("train", **phase), seed=0, show_progress=False)
    t = time.perf_counter()
    model.fit(data.x_train, data.y_train)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall = time.perf_counter() - t
    auroc = roc_auc_score(data.y_test.numpy(), model.score_samples(data.x_test))
    return model, wall, auroc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--soft-boundary", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    AccelSettings(tf32=False).apply()  # compare like with like: TF32 off for this check
    if os.environ.get("MSVDD_DATA"):
        data, net = MNIST([0, 1]).load(), LeNetAutoEncoder((1, 28, 28), (8, 4), 5, 32)
    else:
        data, net = Digits([0, 1]).load(), LeNetAutoEncoder((1, 8, 8), (8, 4), 3, 32)
    objective = SoftBoundary(warm_up_epochs=1) if args.soft_boundary else OneClass()
    print(f"device {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}, torch {torch.__version__}, "
          f"{data.name} {list(data.normal_classes)}: {len(data.x_train)} training images, {args.epochs}+{args.epochs} "
          f"epochs, {objective.name}")
    fit(data, net, objective, 1, True, device)  # warm-up: CUDA context, cuDNN, allocator
    results = {}
    for graphs in (False, True):
        model, wall, auroc = fit(data, net, objective, args.epochs, graphs, device)
        results[graphs] = model
        per_epoch = np.mean(model.history_["epoch_s"])
        print(f"  cuda_graphs={graphs!s:5}  fit {wall:6.2f} s  deep-svdd epoch {per_epoch * 1e3:7.1f} ms  "
              f"AUROC {100 * auroc:.2f}")
    eager, graph = results[False].history_, results[True].history_
    rel = max(abs(a - b) / max(abs(a), 1e-12) for key in ("pretrain_loss", "loss")
              for a, b in zip(eager[key], graph[key]))
    print(f"  largest relative difference of per-epoch losses, graph vs eager: {rel:.2e} "
          f"({'OK' if rel < 1e-3 else 'MISMATCH'}: < 1e-3 expected)")


if __name__ == "__main__":
    main()
