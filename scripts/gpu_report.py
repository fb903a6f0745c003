"""Summarise a timed sweep (scripts/gpu_check.sh): runs/minute, per-phase times, GPU utilisation, and the
extrapolated wall time of a whole table on the same machine.

The extrapolation scales the measured wall time by training-set size: every (group, seed) of a table runs
the same methods, and each method's time grows linearly with the number of training images, so
    full wall = slice wall x sum over the table's (group, seed) of n_train / the same sum over the slice.

    python scripts/gpu_report.py SWEEP_DIR --wall SECONDS [--util gpu_util.csv] [--sizes 2 3 4]
                                 [--groups 10] [--seeds 3] [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np

from msvdd.run.groups import group_classes


def load_runs(sweep: Path) -> list[dict]:
    runs = []
    for path in sorted(sweep.glob("*/results.json")):
        record = json.loads(path.read_text())
        if record.get("status") == "complete":
            runs.append(record)
    return runs


def class_counts(runs: list[dict]) -> dict[int, float]:
    """Training images per class, solved from the runs' (classes, n_train): exact for MNIST-like data
    where each run's n_train is the sum of its classes' counts."""
    pairs = {tuple(r["normal_classes"]): r["n_train"] for r in runs}
    classes = sorted({c for g in pairs for c in g})
    a = np.array([[c in g for c in classes] for g in pairs], dtype=float)
    counts, *_ = np.linalg.lstsq(a, np.array(list(pairs.values()), dtype=float), rcond=None)
    known = dict(zip(classes, counts))
    mean = float(np.mean(list(pairs.values()))) / float(np.mean([len(g) for g in pairs]))
    return {c: known.get(c, mean) for c in range(10)}


def extrapolate(runs, wall, sizes, groups, seeds, group_cfg) -> tuple[float, int]:
    counts = class_counts(runs)
    slice_pairs = {(tuple(r["normal_classes"]), r["seed"]) for r in runs}
    slice_work = sum(sum(counts[c] for c in g) for g, _ in slice_pairs)
    full_work, full_pairs = 0.0, 0
    for size in sizes:
        for index in range(groups):
            g = group_classes(size, index, count=groups, seed=group_cfg.get("seed", 0))
            full_work += seeds * sum(counts[c] for c in g)
            full_pairs += seeds
    return wall * full_work / slice_work, full_pairs


def gpu_util(path: Path | None) -> dict:
    if path is None or not path.exists():
        return {}
    util, mem = [], []
    for line in path.read_text().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[0].replace(".", "").isdigit():
            util.append(float(parts[0]))
            mem.append(float(parts[1]))
    if not util:
        return {}
    busy = [u for u in util if u > 0] or [0.0]
    return {"samples": len(util), "mean_util_pct": statistics.mean(util), "median_util_pct": statistics.median(util),
            "mean_util_while_busy_pct": statistics.mean(busy), "max_mem_mib": max(mem)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep", type=Path)
    ap.add_argument("--wall", type=float, required=True, help="wall seconds of the sweep")
    ap.add_argument("--util", type=Path, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    runs = load_runs(args.sweep)
    n_jobs = len(list(args.sweep.glob("*/.hydra")))
    if not runs:
        raise SystemExit(f"gpu_report: no complete results.json under {args.sweep}")
    phases = defaultdict(lambda: defaultdict(list))
    for r in runs:
        for phase, seconds in r["timings_s"].items():
            phases[r["method"]][phase].append(seconds)
    full_wall, full_pairs = extrapolate(runs, args.wall, args.sizes, args.groups, args.seeds, runs[0]["group"] or {})
    methods = sorted(phases)
    report = {
        "runs_complete": len(runs), "jobs": n_jobs, "wall_s": args.wall,
        "runs_per_minute": 60 * len(runs) / args.wall,
        "per_method_phase_mean_s": {m: {p: statistics.mean(v) for p, v in phases[m].items()} for m in methods},
        "gpu": gpu_util(args.util),
        "full_table": {"sizes": args.sizes, "groups": args.groups, "seeds": args.seeds,
                       "group_seed_pairs": full_pairs, "runs": full_pairs * len(methods),
                       "extrapolated_wall_min": full_wall / 60},
        "device": runs[0].get("versions", {}).get("device"),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    print(f"\n{len(runs)} runs complete ({n_jobs} launched) in {args.wall:.0f} s: "
          f"{report['runs_per_minute']:.1f} runs/minute")
    print("mean seconds per run and phase:")
    cols = sorted({p for m in methods for p in phases[m]})
    print("  " + "method".ljust(14) + "".join(c.rjust(10) for c in cols))
    for m in methods:
        row = report["per_method_phase_mean_s"][m]
        print("  " + m.ljust(14) + "".join((f"{row[c]:.1f}" if c in row else "-").rjust(10) for c in cols))
    if report["gpu"]:
        g = report["gpu"]
        print(f"GPU utilisation: mean {g['mean_util_pct']:.0f} %, median {g['median_util_pct']:.0f} % "
              f"({g['samples']} samples), peak memory {g['max_mem_mib']:.0f} MiB")
    f = report["full_table"]
    print(f"extrapolated full table ({f['runs']} runs: sizes {f['sizes']}, {f['groups']} groups, {f['seeds']} seeds, "
          f"same methods and epochs): {f['extrapolated_wall_min']:.1f} minutes")


if __name__ == "__main__":
    main()
