"""Benchmark: does bfloat16 autocast make a CPU training step of Ruff's MNIST LeNet faster? (issue 22, item 4)

Times optimisation steps (batch 200, Adam) of the autoencoder (pretraining) and of the encoder alone
(Deep SVDD) in float32 and under ``torch.autocast("cpu", dtype=torch.bfloat16)``, on one fixed batch of
random MNIST-sized images, with ``--threads`` torch threads. Prints the median seconds per step of each
and their ratio, and whether this CPU reports native bfloat16 instructions (avx512_bf16, AMX). The
minimum over repeats would be the floor; the median says what a run sees.

    python scripts/bench_bf16.py [--steps 30] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from msvdd.networks import MNISTLeNetAutoEncoder


def cpu_flags() -> str:
    flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n")[0] if Path("/proc/cpuinfo").exists() \
        else ""
    return ", ".join(f"{f}: {'yes' if f in flags.split() else 'no'}" for f in ("avx512_bf16", "amx_bf16"))


def seconds_per_step(module, loss_of, x, steps: int, bf16: bool) -> float:
    opt = torch.optim.Adam(module.parameters(), lr=1e-4)
    cast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext()
    times = []
    for i in range(steps + 3):  # three warm-up steps (oneDNN picks and caches its kernels)
        t = time.perf_counter()
        with cast:
            loss = loss_of(module(x).float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.batch, 1, 28, 28)
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {args.batch}; {cpu_flags()}")
    center = torch.randn(32)
    phases = {"pretraining (autoencoder)": (lambda net: net, lambda out: ((out - x) ** 2).mean()),
              "deep svdd (encoder)": (lambda net: net.encoder, lambda out: ((out - center) ** 2).sum(1).mean())}
    for phase, (part, loss_of) in phases.items():
        row = {}
        for bf16 in (False, True):
            torch.manual_seed(0)
            row[bf16] = seconds_per_step(part(MNISTLeNetAutoEncoder()), loss_of, x, args.steps, bf16)
        print(f"{phase:27s} float32 {1e3 * row[False]:7.2f} ms/step   bfloat16 autocast {1e3 * row[True]:7.2f} "
              f"ms/step   bfloat16 / float32 {row[True] / row[False]:.2f}")


if __name__ == "__main__":
    main()
