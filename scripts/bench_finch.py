"""Benchmark finch(): wall time, the peak memory a call adds, and the clusters per partition.

Data: 32-d PCA projections (seeded) of the first n Fashion-MNIST training images when MSVDD_DATA
is set and n <= 60,000, otherwise seeded 32-d Gaussian blobs (50 centres). Sizes above finch's
`ann_above` (70,000) go through pynndescent; the others through the exact blockwise search.

How memory is measured: every size runs in a fresh process (multiprocessing 'spawn'), so no
size inherits another's allocations, allocator caches or compiled numba kernels. In that process
the imports, the data and a warm-up call on 2,000 points through the same path (which compiles
pynndescent's kernels) come first; then the kernel's peak-RSS mark (VmHWM) is reset by writing 5
to /proc/self/clear_refs, VmRSS is read, finch() runs, and VmHWM is read again. Added memory =
VmHWM after - VmRSS before: the most the call held beyond what was already resident, even if it
was freed before returning, with no sampling gaps. Where clear_refs is not available the peak is
ru_maxrss, which may include the warm-up's peak (flagged in the output). The table also gives the
call's CPU seconds (all threads) and the 1-minute load average before it: on a shared machine a
wall time well above CPU seconds / cores means the call waited for the cores.

    MSVDD_DATA=/work/shared/data .venv/bin/python scripts/bench_finch.py --json bench.json
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import multiprocessing as mp
import os
import platform
import resource
import struct
import time
from pathlib import Path

import numpy as np

TARGETS = {24_000: (1.5, 300), 48_000: (5.0, None), 1_000_000: (600.0, 4096)}  # seconds, added MiB
ANN_ABOVE = 70_000


def read_idx_images(path: Path) -> np.ndarray:
    """n x (rows * cols) uint8 from a gzipped IDX image file (big-endian header, magic 2051)."""
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">4i", f.read(16))
        if magic != 2051:
            raise ValueError(f"{path}: magic {magic}, expected 2051 (IDX images)")
        return np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows * cols)


def make_data(n: int, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, str]:
    root = os.environ.get("MSVDD_DATA")
    images = Path(root or ".") / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    if root and n <= 60_000 and images.is_file():
        from sklearn.decomposition import PCA

        pixels = read_idx_images(images)[:n].astype(np.float32) / 255.0
        return PCA(dim, random_state=seed).fit_transform(pixels).astype(np.float32), "fashion-mnist pca32"
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(50, dim))
    x = centres[rng.integers(0, 50, n)] + rng.normal(size=(n, dim))
    return x.astype(np.float32), "gaussian blobs 32-d"


def _status_mib(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_one(n: int, metric: str) -> dict:
    """One size, in its own process: data, warm-up, then the measured call."""
    import torch

    from msvdd.clustering.finch import finch

    x, source = make_data(n)
    ann = n > ANN_ABOVE
    finch(x[:2000], metric=metric, ann_above=1000 if ann else ANN_ABOVE)  # warm-up, same path
    exact_peak = _reset_peak()
    load = os.getloadavg()[0]
    before = _status_mib("VmRSS") or 0.0
    start, cpu = time.perf_counter(), time.process_time()
    res = finch(x, metric=metric, ann_above=ANN_ABOVE)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _status_mib("VmHWM") if exact_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "data": source, "path": "pynndescent" if ann else "exact", "metric": metric,
            "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "load_before": round(load, 2),
            "added_mib": round(peak - before, 1), "peak_exact": exact_peak,
            "n_clusters": res.n_clusters, "torch_threads": torch.get_num_threads()}


def machine() -> dict:
    mem = next((int(line.split()[1]) / 2**20 for line in open("/proc/meminfo") if line.startswith("MemTotal")), None)
    return {"machine": platform.machine(), "cpus": os.cpu_count(), "mem_gib": round(mem, 1) if mem else None,
            "python": platform.python_version()}


def verdict(row: dict) -> str:
    if row["n"] not in TARGETS:
        return ""
    secs, mib = TARGETS[row["n"]]
    ok = row["seconds"] <= secs and (mib is None or row["added_mib"] <= mib)
    goal = f"<= {secs:g} s" + (f", <= {mib} MiB" if mib else "")
    return f"{goal}: {'met' if ok else 'MISSED'}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12_000, 24_000, 48_000, 1_000_000])
    ap.add_argument("--metric", default="cosine", choices=["cosine", "euclidean"])
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    ctx = mp.get_context("spawn")
    rows = []
    head = (f"{'n':>9} {'data':<20} {'path':<11} {'seconds':>8} {'cpu s':>8} {'load':>5} {'added MiB':>9}"
            "  clusters per partition")
    print(head, flush=True)
    for n in args.sizes:
        with ctx.Pool(1) as pool:  # a fresh process per size
            row = pool.apply(run_one, (n, args.metric))
        row["target"] = verdict(row)
        rows.append(row)
        mark = "" if row["peak_exact"] else "*"
        print(f"{n:>9} {row['data']:<20} {row['path']:<11} {row['seconds']:>8.2f} {row['cpu_seconds']:>8.2f}"
              f" {row['load_before']:>5.2f} {row['added_mib']:>8.1f}{mark:1}  {row['n_clusters']}  {row['target']}",
              flush=True)
    if not all(r["peak_exact"] for r in rows):
        print("* peak from ru_maxrss (no /proc/self/clear_refs): may include the warm-up")
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "results": rows}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
