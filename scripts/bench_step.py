"""Benchmark: what makes a CPU training step of Ruff's MNIST LeNet faster? (issue 22: layout and bfloat16)

Times optimisation steps (batch 200, Adam) of the autoencoder (pretraining) and of the encoder alone
(Deep SVDD) on one fixed batch of random MNIST-sized images, with ``--threads`` torch threads, four ways:
float32 in the default NCHW layout, float32 channels-last (NHWC: ``pretrain/train.channels_last``), and
each under ``torch.autocast("cpu", dtype=torch.bfloat16)``. Prints the median milliseconds per step and
the ratio to the default, and whether this CPU reports native bfloat16 instructions (avx512_bf16, AMX).

    python scripts/bench_step.py [--steps 30] [--threads 1]
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


def seconds_per_step(module, loss_of, x, steps: int, bf16: bool, nhwc: bool) -> float:
    if nhwc:
        module, x = module.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
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
    phases = {"pretraining (autoencoder)": (lambda net: net, lambda out: ((out - x.float()) ** 2).mean()),
              "deep svdd (encoder)": (lambda net: net.encoder, lambda out: ((out - center) ** 2).sum(1).mean())}
    variants = {"float32 NCHW": (False, False), "float32 NHWC": (False, True), "bfloat16 NCHW": (True, False),
                "bfloat16 NHWC": (True, True)}
    for phase, (part, loss_of) in phases.items():
        row = {}
        for name, (bf16, nhwc) in variants.items():
            torch.manual_seed(0)
            row[name] = seconds_per_step(part(MNISTLeNetAutoEncoder()), loss_of, x, args.steps, bf16, nhwc)
        base = row["float32 NCHW"]
        print(f"{phase}: " + "   ".join(f"{name} {1e3 * s:.1f} ms ({s / base:.2f})" for name, s in row.items()))


if __name__ == "__main__":
    main()
