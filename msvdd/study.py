"""Inspect an Optuna study written by the msvdd sweeper (``hydra/sweeper=msvdd_optuna``).

    python -m msvdd.study show --storage URL_OR_PATH [--study NAME] [--out DIR]
    python -m msvdd.study list --storage URL_OR_PATH

``--storage`` takes what ``hydra.sweeper.storage`` takes (an SQLAlchemy URL, a SQLite file path,
a ``.log``/``.journal`` journal file); ``--study`` may be left out when the storage holds one
study.  :func:`report` is also what the sweeper calls at the end of a sweep (into the sweep dir).

Files written by :func:`report`:

* ``trials.csv``: one row per trial: number, state, value, duration_s, start/complete times,
  ``params_<name>`` columns, fail_reason, overrides, worker
* ``best.yaml``: best trial number, value, params, the override line and all its overrides
* ``best_experiment.yaml``: a ``# @package _global_`` config with the best params (config-group
  params as ``defaults: - override /group: option``), to drop into e.g. ``conf/experiment/``
* ``optimization_history.png`` and ``param_importances.png`` (a placeholder saying why, when
  importances cannot be computed)
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from msvdd.errors import StorageError
from msvdd.tuning.storage import open_storage, storage_spec, unreadable

STALE_REASON = "no result recorded (the worker died or its heartbeat went stale)"


# ---------------------------------------------------------------------------- helpers
def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write through a temp file + rename (concurrent workers may report into one dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_text(path: Path, text: str) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    _atomic_write(path, write)


def _superseded(trials: list[Any]) -> dict[int, int]:
    """Stale trial number -> number of the trial that retried it."""
    out: dict[int, int] = {}
    for t in trials:
        for n in t.system_attrs.get("retry_history", None) or ():
            out.setdefault(int(n), t.number)
    return out


def fail_reason(trial: Any, superseded: dict[int, int] | None = None) -> str:
    """Why a trial has no value ('' for complete trials)."""
    from optuna.trial import TrialState

    reason = trial.user_attrs.get("fail_reason") or trial.user_attrs.get("discarded") or ""
    if trial.state == TrialState.FAIL and not reason:
        reason = STALE_REASON
    if superseded and trial.number in superseded:
        reason = f"{reason} (retried as trial {superseded[trial.number]})".strip()
    return reason


def _param_key(override: str) -> str:
    return override.split("=", 1)[0]


def best_overrides(trial: Any) -> list[str]:
    """The override strings of ``trial``'s params (as the sweeper ran them)."""
    from msvdd.tuning.search_space import format_value

    by_key = {_param_key(o): o for o in trial.user_attrs.get("overrides", None) or ()}
    return [by_key.get(name, f"{name}={format_value(value)}") for name, value in trial.params.items()]


def experiment_yaml(trial: Any, group_params: list[str] | None = None, header: str = "") -> str:
    """``# @package _global_`` config setting ``trial``'s params (groups via the defaults list)."""
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    from msvdd.tuning.search_space import parse_override

    groups = set(group_params or ())
    defaults: list[dict[str, Any]] = []
    cfg = OmegaConf.create({})
    for override in best_overrides(trial):
        key = _param_key(override)
        try:
            parsed, used_placeholder = parse_override(override)
            value = None if used_placeholder else parsed.value()
        except HydraException:
            value = trial.params.get(key)
        plain_key = key.lstrip("+~")
        if key in groups:
            prefix = "" if key.startswith("+") else "override "
            defaults.append({f"{prefix}/{plain_key}": value})
        else:
            OmegaConf.update(cfg, plain_key, value, force_add=True)
    body = OmegaConf.to_container(cfg)
    doc: dict[str, Any] = {"defaults": defaults} if defaults else {}
    doc.update(body)  # type: ignore[arg-type]
    text = OmegaConf.to_yaml(OmegaConf.create(doc)) if doc else "{}\n"
    return f"# @package _global_\n{header}{text}"


def _duration(trial: Any) -> float | None:
    d = trial.duration
    return None if d is None else round(d.total_seconds(), 3)


def write_trials_csv(trials: list[Any], path: Path) -> None:
    superseded = _superseded(trials)
    names: list[str] = []
    for t in trials:
        for name in t.params:
            if name not in names:
                names.append(name)
    header = ["number", "state", "value", "duration_s", "datetime_start", "datetime_complete"]
    header += [f"params_{n}" for n in names] + ["fail_reason", "overrides", "worker"]

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for t in trials:
                row = [
                    t.number,
                    t.state.name,
                    "" if t.value is None else t.value,
                    _duration(t),
                    t.datetime_start.isoformat(timespec="seconds") if t.datetime_start else "",
                    t.datetime_complete.isoformat(timespec="seconds") if t.datetime_complete else "",
                ]
                row += [
                    "null" if t.params.get(n) is None and n in t.params else t.params.get(n, "")
                    for n in names
                ]
                row += [fail_reason(t, superseded), " ".join(t.user_attrs.get("overrides", None) or ())]
                row.append(t.user_attrs.get("worker", ""))
                w.writerow(["" if v is None else v for v in row])

    _atomic_write(path, write)


# ---------------------------------------------------------------------------- plots
def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> None:
    def write(tmp: str) -> None:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")

    _atomic_write(path, write)


def _placeholder(path: Path, title: str, message: str) -> None:
    fig = _figure(6, 2.5)
    ax = fig.add_subplot(111)
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, transform=ax.transAxes)
    _save(fig, path)


def plot_history(study: Any, trials: list[Any], path: Path) -> None:
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    failed = [t.number for t in trials if t.state == TrialState.FAIL]
    title = f"optimization history: {study.study_name}"
    if not complete:
        _placeholder(path, title, f"no completed trials yet ({len(failed)} failed)")
        return
    maximize = study.direction == StudyDirection.MAXIMIZE
    xs = [t.number for t in complete]
    ys = [t.value for t in complete]
    best, running = [], None
    for y in ys:
        running = y if running is None else (max(running, y) if maximize else min(running, y))
        best.append(running)
    fig = _figure()
    ax = fig.add_subplot(111)
    ax.scatter(xs, ys, s=18, label="trial value", color="tab:blue")
    ax.step(xs, best, where="post", color="tab:red", label="best so far")
    if failed:
        low = min(ys)
        ax.scatter(failed, [low] * len(failed), marker="x", color="grey", label=f"failed ({len(failed)})")
    ax.set_xlabel("trial number")
    ax.set_ylabel(f"objective ({'maximize' if maximize else 'minimize'})")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    _save(fig, path)


def param_importances(study: Any) -> tuple[dict[str, float] | None, str]:
    """fANOVA importances (seeded), or ``(None, why not)``."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    n_params = len({name for t in complete for name in t.params})
    if len(complete) < 2 or n_params < 1:
        return None, (
            "parameter importances need >= 2 complete trials and >= 1 parameter "
            f"(have {len(complete)} complete trial(s), {n_params} parameter(s))"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
            importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError) as e:  # e.g. no parameter common to all complete trials
        return None, f"parameter importances unavailable: {' '.join(str(e).split())}"
    if not importances:
        return None, "no parameter varies across the complete trials"
    if any(not math.isfinite(v) for v in importances.values()):
        return None, "parameter importances undefined (all complete trials have the same value?)"
    return {name: float(value) for name, value in importances.items()}, ""


def plot_importances(study: Any, path: Path) -> dict[str, float] | None:
    importances, why = param_importances(study)
    title = f"parameter importances (fANOVA): {study.study_name}"
    if importances is None:
        _placeholder(path, title, why)
        return None
    names = list(importances)[::-1]
    fig = _figure(7, 0.8 + 0.45 * len(names))
    ax = fig.add_subplot(111)
    ax.barh(names, [importances[n] for n in names], color="tab:blue")
    ax.set_xlabel("importance")
    ax.set_title(title)
    _save(fig, path)
    return importances


# ---------------------------------------------------------------------------- report
def report(study: Any, out_dir: str | Path, *, echo: Callable[[str], Any] = print) -> dict[str, Any]:
    """Print the best trial and write trials.csv, best.yaml, best_experiment.yaml and the plots.

    Returns a summary dict (``best_trial``, ``best_value``, ``best_params``, ``override_line``,
    ``yaml``, ``counts``, ``out_dir``).
    """
    import yaml
    from optuna.trial import TrialState

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    counts = Counter(t.state.name for t in trials)
    summary: dict[str, Any] = {"study": study.study_name, "counts": dict(counts), "out_dir": str(out)}
    lines = [
        f"study '{study.study_name}' ({study.direction.name.lower()}): {len(trials)} trial(s) "
        + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none")
    ]

    write_trials_csv(trials, out / "trials.csv")
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if complete:
        best = study.best_trial
        overrides = best_overrides(best)
        line = " ".join(overrides)
        group_params = study.user_attrs.get("msvdd_group_params", None) or []
        header = f"# best of study '{study.study_name}': trial {best.number}, value {best.value!r}\n"
        snippet = experiment_yaml(best, group_params, header)
        summary.update(
            best_trial=best.number,
            best_value=best.value,
            best_params=dict(best.params),
            override_line=line,
            yaml=snippet,
        )
        best_doc = {
            "study": study.study_name,
            "direction": study.direction.name.lower(),
            "best_trial": best.number,
            "value": best.value,
            "params": dict(best.params),
            "override_line": line,
            "overrides": list(best.user_attrs.get("overrides", None) or overrides),
            "trials": dict(counts),
        }
        _write_text(out / "best.yaml", yaml.safe_dump(best_doc, sort_keys=False, default_flow_style=False))
        _write_text(out / "best_experiment.yaml", snippet)
        lines += [
            f"best trial {best.number}: value={best.value!r}",
            "best params: " + ", ".join(f"{k}={v!r}" for k, v in best.params.items()),
            f"override line: {line}",
            "YAML (e.g. as conf/experiment/best.yaml):",
            snippet.rstrip(),
        ]
    else:
        lines.append("no completed trial yet: no best params")
    plot_history(study, trials, out / "optimization_history.png")
    importances = plot_importances(study, out / "param_importances.png")
    if importances:
        summary["importances"] = importances
        lines.append("importances: " + ", ".join(f"{k}={v:.3f}" for k, v in importances.items()))
    lines.append(f"wrote trials.csv, best.yaml, best_experiment.yaml and plots to {out}")
    echo("\n".join(lines))
    return summary


# ---------------------------------------------------------------------------- CLI
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
    try:
        report(study, out)
    except OSError as e:
        print(f"error: cannot write the report to {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
