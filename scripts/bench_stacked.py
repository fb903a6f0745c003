"""Benchmark: a sweep under Hydra's basic launcher (one process, one job after the other) vs ``hydra/launcher=stacked``.

Each sweep runs from an empty output folder (so both pretrain every autoencoder once), with ``threads``
fixed, in a subprocess; prints the wall time of each, their ratio, the machine's load (``uptime``)
before and after each sweep, and the largest AUROC difference of a job between the two.

    python scripts/bench_stacked.py digits        # table_digits, Deep SVDD methods: 3 sizes x 3 groups x 2 seeds x 3
    MSVDD_DATA=... python scripts/bench_stacked.py mnist   # table_mnist_quick: size 2, 3 groups, 3 seeds, 3 methods
    python scripts/bench_stacked.py digits --threads 2 --keep DIR
    MSVDD_DATA=... python scripts/bench_stacked.py mnist --epochs 2    # both phases cut to 2 epochs (a loaded CPU)
    MSVDD_DATA=... python scripts/bench_stacked.py mnist_group --epochs 1   # 6 jobs of one class group
    MSVDD_DATA=... python scripts/bench_stacked.py mnist --side-by-side     # both sweeps at once, a core each

``--side-by-side`` runs the two one-thread sweeps at the same time on a machine with two free cores: half
the wall time, and both see the same neighbour (the other sweep), so their ratio stays fair.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = "method=svdd_one,svdd_finch,svdd_oracle"
SWEEPS = {
    "digits": ["experiment=table_digits", METHODS],
    "mnist": ["experiment=table_mnist_quick", METHODS, "group.size=2", "group.index=0,1,2", "seed=0,1,2"],
    # what fits a loaded 2-core machine: one group, three seeds, one radius and oracle (one stack of 6)
    "mnist_group": ["experiment=table_mnist_quick", "method=svdd_one,svdd_oracle", "group.size=2", "group.index=0",
                    "seed=0,1,2"],
}


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1].strip()


def sweep(name: str, root: Path, threads: int, stacked: bool, epochs: int | None) -> subprocess.Popen:
    """Start one sweep; ``finish`` waits for it."""
    cmd = [sys.executable, "-m", "msvdd", "-m", *SWEEPS[name], f"threads={threads}", f"paths.root_dir={root}"]
    cmd += [f"pretrain.epochs={epochs}", f"train.epochs={epochs}", "pretrain.milestones=[]", "train.milestones=[]"] \
        if epochs else []
    cmd += ["hydra/launcher=stacked"] if stacked else []
    env = {**os.environ, "MSVDD_NUMBA_CACHE": str(ROOT / "outputs" / "cache" / "numba")}  # compiled once, shared
    root.mkdir(parents=True, exist_ok=True)
    log = open(root / "sweep.log", "w+")  # a file, not a pipe: a pipe nobody reads yet would stall the sweep
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    proc.started, proc.load_before, proc.log = time.perf_counter(), load(), log
    return proc


def finish(proc: subprocess.Popen) -> float:
    """Wait for a sweep; its wall time in seconds."""
    proc.wait()
    seconds, proc.load_after = time.perf_counter() - proc.started, load()
    if proc.returncode != 0:
        proc.log.seek(0)
        sys.exit(f"sweep failed ({' '.join(proc.args)}):\n{proc.log.read()[-3000:]}")
    return seconds


def aurocs(root: Path) -> dict:
    out = {}
    for path in (root / "sweeps").rglob("results.json"):
        r = json.loads(path.read_text())
        out[(r["method"], r["seed"], tuple(r["normal_classes"]))] = r["auroc"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", choices=sorted(SWEEPS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="epochs of both phases (default: the experiment's)")
    parser.add_argument("--keep", help="write the sweeps here (default: a temporary folder, removed)")
    parser.add_argument("--side-by-side", action="store_true", help="run both sweeps at once (two free cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep or tmp)
        times = {}
        launchers = {"basic": False, "stacked": True}
        roots = {launcher: base / launcher for launcher in launchers}
        running = {}
        for launcher, stacked in launchers.items():
            running[launcher] = sweep(args.sweep, roots[launcher], args.threads, stacked, args.epochs)
            if not args.side_by_side:
                times[launcher] = finish(running[launcher])
        for launcher, proc in running.items():
            times[launcher] = times.get(launcher) or finish(proc)
            print(f"{args.sweep} {launcher:8s} {times[launcher]:8.1f} s  (load before: {proc.load_before}; after: "
                  f"{proc.load_after})", flush=True)
        a, b = aurocs(roots["basic"]), aurocs(roots["stacked"])
        if set(a) != set(b):
            sys.exit(f"the sweeps ran different jobs: {sorted(set(a) ^ set(b))}")
        worst = max(abs(a[k] - b[k]) for k in a)
        epochs = f", epochs={args.epochs}" if args.epochs else ""
        print(f"{args.sweep}: {len(a)} jobs, threads={args.threads}{epochs}; stacked/basic wall time "
              f"{times['stacked'] / times['basic']:.2f} (basic/stacked {times['basic'] / times['stacked']:.2f}x); "
              f"largest AUROC difference of a job {worst:.1e}")


if __name__ == "__main__":
    main()
