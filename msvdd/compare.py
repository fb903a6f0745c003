"""``python -m msvdd.compare SWEEP_DIR... [--out FILE.md] [--ensemble] [--seeds 1,3,5]``: the variants of sweeps
side by side (built in msvdd.reports.compare).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from msvdd.reports.compare import collect, markdown, seed_growth, summary
from msvdd.reports.ensemble import SUFFIX


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m msvdd.compare",
                                     description="The clustering variants of sweeps side by side.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="sweep folders, searched recursively")
    parser.add_argument("--out", metavar="FILE", help="also write the markdown table there")
    parser.add_argument("--ensemble", action="store_true",
                        help="also a row per variant for its seed ensembles (runs of 2+ seeds per group)")
    parser.add_argument("--seeds", metavar="N,N,...", default="",
                        help="also how the seed ensemble's AUROC grows with its number of seeds (e.g. 1,3,5)")
    args = parser.parse_args(argv)
    runs = collect(args.paths, ensemble=args.ensemble)
    if runs.empty:
        print(f"msvdd.compare: no complete results.json under {', '.join(args.paths)}", file=sys.stderr)
        return 2
    groups = sorted(set(zip(runs["size"], runs.classes)))
    single = runs[~runs.variant.str.endswith(SUFFIX)]  # an ensemble row's seed is its count of seeds
    md = "\n".join([markdown(summary(runs)), "",
                    f"groups: {', '.join(str(list(c)) for _, c in groups)}; seeds: {sorted(set(single.seed))}; "
                    "AUROC in %, mean ± std over groups x seeds; ARI and clusters: of the pseudo-labels after "
                    "training (re-assignment included); cluster / total: share of the runs' wall time; run s: a run's "
                    "wall time (a seed ensemble: the sum over its seeds), score s: scoring the test set"])
    if args.seeds:
        counts = [int(n) for n in args.seeds.split(",")]
        md += "\n\n" + markdown(seed_growth(runs, counts)) + ("\n\nseed ensembles of the first n seeds of each group "
                                                            "(1: the first seed alone), mean AUROC % per group size")
    print(md)
    if args.out:
        Path(args.out).write_text(md + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
