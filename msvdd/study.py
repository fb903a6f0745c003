"""Inspect an Optuna study written by the msvdd sweeper (``hydra/sweeper=msvdd_optuna``).

    python -m msvdd.study show --storage URL_OR_PATH [--study NAME] [--out DIR]
    python -m msvdd.study list --storage URL_OR_PATH

``--storage`` takes what ``hydra.sweeper.storage`` takes (an SQLAlchemy URL, a SQLite file path,
a ``.log``/``.journal`` journal file); ``--study`` may be left out when the storage holds one
study. ``show`` prints the best trial and writes the report of :mod:`msvdd.reports.study`
(trials.csv, best.yaml, best_experiment.yaml, optimization_history.png, param_importances.png),
the same report the sweeper writes into the sweep dir when a search ends.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from msvdd.errors import StorageError
from msvdd.tuning.storage import open_storage, storage_spec, unreadable


def _open(storage: str) -> Any:
    spec = storage_spec(storage)
    return spec, open_storage(spec, must_exist=True)


def _study_names(storage: Any) -> list[str]:
    return [s.study_name for s in storage.get_all_studies()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m msvdd.study", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the best trial and write trials.csv, best.yaml and plots")
    show.add_argument("--storage", required=True, help="SQLAlchemy URL, SQLite path or .log/.journal path")
    show.add_argument("--study", default=None, help="study name (optional if the storage holds one study)")
    show.add_argument("--out", default=None, help="output dir (default: $MSVDD_OUTPUTS or outputs, + /optuna/<study>)")
    lst = sub.add_parser("list", help="list the studies in a storage")
    lst.add_argument("--storage", required=True)
    args = parser.parse_args(argv)

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        spec, storage = _open(args.storage)
        names = _study_names(storage)
    except (FileNotFoundError, StorageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - opened, but unreadable: a corrupt file
        print(f"error: {unreadable(spec, e)}", file=sys.stderr)
        return 2
    if args.command == "list":
        for summary in optuna.get_all_study_summaries(storage):
            print(
                f"{summary.study_name}\t{summary.n_trials} trials\t"
                f"best={summary.best_trial and summary.best_trial.value}"
            )
        return 0
    name = args.study
    if name is None:
        if len(names) != 1:
            print(
                f"error: --study is required; studies in {spec}: {', '.join(names) or 'none'}",
                file=sys.stderr,
            )
            return 2
        name = names[0]
    if name not in names:
        print(f"error: no study '{name}' in {spec}; studies: {', '.join(names) or 'none'}", file=sys.stderr)
        return 2
    study = optuna.load_study(study_name=name, storage=storage)
    out = Path(args.out) if args.out else Path(os.environ.get("MSVDD_OUTPUTS") or "outputs") / "optuna" / name
    from msvdd.reports.study import report  # pandas and matplotlib: only for `show`

    try:
        report(study, out)
    except OSError as e:
        print(f"error: cannot write the report to {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
