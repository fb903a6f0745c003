"""Benchmark: issue 22's quick MNIST table on this CPU: 27 Deep SVDD runs in one sweep, from an empty folder.

The 27 runs: table_mnist_quick's nine class groups (sizes 2-4, groups 0-2, seed 0) x one radius / FINCH /
oracle, with the protocol of issue 21 (20 + 20 epochs, Adam lr 1e-4, no lr drop, batch 200), two joblib
workers of one thread each. Prints the sweep's wall time with the machine's load (``uptime``) before and
after, the run time of each phase summed over the jobs' results.json, and each method's mean AUROC per
size (to check that a faster setting left the numbers alone).

    MSVDD_DATA=... python scripts/bench_quick_table.py
    MSVDD_DATA=... python scripts/bench_quick_table.py --keep /tmp/quick27 --workers 2 -- train.epochs=10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["experiment=table_mnist_quick", "method=svdd_one,svdd_finch,svdd_oracle", "group.size=2,3,4",
         "group.index=0,1,2", "seed=0", "pretrain.epochs=20", "train.epochs=20", "pretrain.lr=1e-4",
         "train.lr=1e-4", "pretrain.milestones=[]", "train.milestones=[]", "threads=1"]


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.split("load average:")[-1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="joblib workers (1: Hydra's basic launcher)")
    parser.add_argument("--keep", help="write the sweep here (default: a temporary folder, removed)")
    parser.add_argument("overrides", nargs="*", help="more Hydra overrides, after --")
    args = parser.parse_args()
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.workers}"] if args.workers > 1 else []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        cmd = [sys.executable, "-m", "msvdd", "-m", *SWEEP, *launcher, *args.overrides, f"paths.root_dir={root}"]
        env = {**os.environ, "MSVDD_NUMBA_CACHE": str(ROOT / "outputs" / "cache" / "numba")}  # compiled once
        before, t = load(), time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            sys.exit(f"sweep failed ({' '.join(cmd)}):\n{proc.stderr[-3000:]}")
        results = [json.loads(p.read_text()) for p in (root / "sweeps").rglob("results.json")]
    print(f"{len(results)} runs, {args.workers} workers: {wall:.1f} s = {wall / 60:.1f} min "
          f"(load before: {before}; after: {load()})")
    phases = defaultdict(float)
    for r in results:
        for phase, seconds in r["timings_s"].items():
            if phase not in ("total", "stack_size"):
                phases[phase] += seconds
    print("summed over the runs: " + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(phases.items())))
    aurocs = defaultdict(list)
    for r in results:
        aurocs[(r["method"], len(r["normal_classes"]))].append(r["auroc"])
    for method in sorted({m for m, _ in aurocs}):
        means = [f"size {s}: {100 * sum(v) / len(v):.2f}" for (m, s), v in sorted(aurocs.items()) if m == method]
        print(f"  {method:12s} mean AUROC  " + "  ".join(means))


if __name__ == "__main__":
    main()
