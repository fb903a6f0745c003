"""``python -m msvdd.table PATH... [--out DIR] [--ensemble M,...] [--quiet]`` (console script ``msvdd-table``):
the AUROC table of one or more sweeps (the table itself is built in msvdd.reports.table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from msvdd.reports.table import MixedSettingsError, _failed_lines, collect_runs, write_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="msvdd-table", description="Collect the results.json files of sweeps into one AUROC table.",
        epilog="Writes table.md, table.csv, table.tex, table_detail.csv and auroc.png, and prints table.md. "
        "Exit code 2: no complete results, or runs of different datasets or settings.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="sweep folders, searched recursively")
    parser.add_argument("--out", metavar="DIR", help="where to write the table (default: the first PATH)")
    parser.add_argument("--ensemble", metavar="METHODS", default="",
                        help="comma-separated methods that also get a seed-ensemble column (e.g. svdd_finch,svdd_one)")
    parser.add_argument("--quiet", action="store_true", help="print only where the table was written")
    args = parser.parse_args(argv)
    ensemble = [m for m in args.ensemble.split(",") if m]
    out = args.out or args.paths[0]
    try:
        runs, failed = collect_runs(args.paths)
        if runs.empty:
            extra = "".join(f"\n  not counted: {line}" for line in _failed_lines(failed))
            raise FileNotFoundError(f"no complete results.json under {', '.join(args.paths)}{extra}")
        absent = sorted(set(ensemble) - set(runs.method))
        if absent:
            raise ValueError(f"--ensemble {','.join(absent)}: no runs of that method; the runs hold "
                             f"{', '.join(sorted(set(runs.method)))}")
        md = write_table(runs, failed, out, ensemble=ensemble)
    except (FileNotFoundError, MixedSettingsError, ValueError) as err:
        print(f"msvdd-table: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # --out is a file, or not writable
        print(f"msvdd-table: cannot write the table to {out}: {err.strerror or err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(md)
    elif failed:
        print(f"{len(failed)} runs not counted: see {Path(out) / 'table.md'}")
    print(f"table written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
