"""What logger= costs a sweep: the same small digits table sweep timed with logger=none, logger=mlflow and,
given ``--before DIR`` (a checkout of msvdd before the logger group, e.g. ``git archive 4be5336 | tar -x -C DIR``),
without any logger at all. Each sweep starts from an empty outputs folder; the variants alternate so that a
change of machine load hits them alike. Prints each wall time and the median per variant, and whether the
logger=none sweep imported mlflow (it must not: ``-X importtime``).

    python scripts/bench_tracking.py [--before DIR] [--src DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["-m", "experiment=table_digits", "group.size=2", "group.index=0", "seed=0", "method=svdd_one,knn,lof",
         "pretrain.epochs=2", "train.epochs=2"]


def sweep(src: Path, extra: list[str], importtime: bool = False) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "MSVDD_OUTPUTS": out, "PYTHONPATH": str(src)}
        cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "msvdd", *SWEEP, *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout of msvdd without the logger group")
    parser.add_argument("--src", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    src = args.src.resolve()
    variants = {"logger=none": (src, []), "logger=mlflow": (src, ["logger=mlflow"])}
    if args.before:
        variants = {"before (no logger group)": (args.before.resolve(), []), **variants}
    print(f"load average before: {os.getloadavg()}")
    walls: dict[str, list[float]] = {name: [] for name in variants}
    for repeat in range(args.repeats):
        for name, (src, extra) in variants.items():
            wall, _ = sweep(src, extra)
            walls[name].append(wall)
            print(f"repeat {repeat}: {name:26s} {wall:6.1f} s", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for name, values in walls.items():
        print(f"{name:26s} median {statistics.median(values):6.1f} s  (min {min(values):.1f}, max {max(values):.1f})")
    _, log = sweep(src, [], importtime=True)
    imported = {line.split("|")[-1].strip() for line in log.splitlines() if line.startswith("import time:")}
    print("logger=none imported mlflow:", "mlflow" in imported)


if __name__ == "__main__":
    main()
