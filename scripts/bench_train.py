"""Benchmark: where an epoch of Deep SVDD training goes, and the memory of a full digits run.

Prints per-epoch wall time on 12,000 MNIST-sized images (batch 200) split into the bare
forward/backward/optimiser step (the same number of steps on one fixed batch) and the rest
(batch gathering, shuffling, loss bookkeeping, radius updates: everything the training loop adds).
Target: the rest is at most 15 % of the epoch. Both figures are the minimum over epochs (the first
training epoch is a warm-up), since other processes on the machine only ever add time.
Then runs `python -m msvdd` on the digits in a subprocess and prints its peak RSS (ru_maxrss of the child).

    python scripts/bench_train.py [--n 12000] [--epochs 3] [--threads 1] [--objective soft_boundary]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from msvdd.clustering import OracleClustering
from msvdd.networks import MNISTLeNetAutoEncoder
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.objectives import OneClass, SoftBoundary
from msvdd.svdd.training import TrainSettings

ROOT = Path(__file__).resolve().parents[1]


def bare_steps(net, objective, x, n_steps, batch_size, n_clusters):
    """Forward, loss, backward and step only, on one fixed batch: the floor of an epoch."""
    enc = net.encoder.train()
    opt = torch.optim.Adam(enc.parameters(), lr=1e-4)
    xb, k = x[:batch_size], torch.arange(batch_size) % n_clusters
    centers, radii = torch.randn(n_clusters, net.rep_dim), torch.ones(n_clusters)
    t = time.perf_counter()
    for _ in range(n_steps):
        loss = objective.loss(((enc(xb) - centers[k]) ** 2).sum(1), k, radii)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12_000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--objective", choices=["one_class", "soft_boundary"], default="soft_boundary")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.n, 1, 28, 28, generator=g)
    y = torch.randint(0, 3, (args.n,), generator=g)  # three "classes": three spheres, per-cluster updates
    objective = SoftBoundary(warm_up_epochs=0) if args.objective == "soft_boundary" else OneClass()
    net = MNISTLeNetAutoEncoder()  # Ruff's MNIST LeNet; Deep SVDD trains its encoder only
    model = DeepSVDD(net, objective, OracleClustering(), train=TrainSettings(epochs=args.epochs,
                     batch_size=args.batch_size, device="cpu"), show_progress=False)
    model.fit(x, y)
    epoch = min(model.history_["epoch_s"][1:] or model.history_["epoch_s"])  # min: the least disturbed
    steps = -(-args.n // args.batch_size)
    bare = min(bare_steps(net, objective, x, steps, args.batch_size, 3) for _ in range(args.epochs))
    rest = epoch - bare
    figures = {"n": args.n, "batch_size": args.batch_size, "threads": args.threads, "objective": args.objective,
               "epoch_s": round(epoch, 3), "bare_step_s": round(bare, 3), "rest_s": round(rest, 3),
               "rest_pct": round(100 * rest / epoch, 1)}
    print(f"Deep SVDD epoch on {args.n} images of 28x28, batch {args.batch_size}, {args.threads} thread(s), "
          f"{args.objective}, 3 spheres")
    print(f"  epoch wall time          {epoch:7.3f} s")
    print(f"  forward/backward/step    {bare:7.3f} s")
    print(f"  rest (batching, shuffle, bookkeeping, radii) {rest:7.3f} s = {figures['rest_pct']:.1f} % "
          f"(target <= 15 %)")

    cmd = [sys.executable, "-m", "msvdd", "experiment=table_digits", "method=svdd_finch", "plots=true",
           "paths.root_dir=/tmp/msvdd-bench", "paths.cache_dir=null"]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    figures["digits_run_s"] = round(time.perf_counter() - t, 1)
    figures["digits_run_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print(f"full digits run (python -m msvdd experiment=table_digits method=svdd_finch): "
          f"{figures['digits_run_s']} s, peak RSS {figures['digits_run_peak_rss_mb']} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
