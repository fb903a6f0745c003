"""Benchmark: first and second (cached) load of a folder of 10,000 PNG images made from MNIST.

Writes the first N MNIST training images as PNGs into a class-per-subfolder layout under /tmp (once;
kept for later calls), then loads it twice with ``dataset=folder`` (``msvdd.data.Folder``), each load in
a fresh process as two runs would be: the first decodes every image and writes the decoded-image cache,
the second finds the cache. Prints both wall times (the load only, imports excluded) and the machine's
load average, since other processes on the machine only ever add time.

    MSVDD_DATA=/path/to/data python scripts/bench_folder_load.py [--n 10000] [--folder /tmp/msvdd_bench_png]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def make_folder(folder: Path, n: int) -> None:
    from msvdd.data.sources import raw_arrays

    if folder.is_dir() and sum(1 for _ in folder.rglob("*.png")) == n:
        return
    shutil.rmtree(folder, ignore_errors=True)
    x, y, _, _ = raw_arrays("mnist", os.environ.get("MSVDD_DATA") or "data")
    for i in range(n):
        sub = folder / str(int(y[i]))
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(x[i, 0])).save(sub / f"{i:05d}.png")


def load_once(folder: str, cache: str) -> None:
    """Child process: one load as a run does it; prints JSON with the seconds and the shapes."""
    import torch

    from msvdd.data import Folder

    torch.set_num_threads(1)
    t = time.perf_counter()
    data = Folder(folder, normal_classes=[0], cache_dir=cache).load()
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "train": list(data.x_train.shape), "test": list(data.x_test.shape)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--folder", default="/tmp/msvdd_bench_png")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return load_once(*args.child)
    folder = Path(args.folder)
    make_folder(folder, args.n)
    with tempfile.TemporaryDirectory(prefix="msvdd_bench_cache_") as cache:
        load = os.getloadavg()[0]
        results = []
        for _ in range(2):
            proc = subprocess.run([sys.executable, __file__, "--child", str(folder), cache], capture_output=True,
                                  text=True, check=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        size = sum(p.stat().st_size for p in Path(cache).glob("*.pt"))
    first, second = results
    print(f"{args.n} PNG images ({folder}), 1-min load average {load:.1f} on {os.cpu_count()} cores")
    print(f"first load (decode + write cache): {first['seconds']:.2f} s; train {first['train']}, "
          f"test {first['test']}")
    print(f"second load (cached):              {second['seconds']:.2f} s; cache entry {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
