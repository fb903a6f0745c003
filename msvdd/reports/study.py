"""The report of an Optuna study written by the msvdd sweeper, on Optuna's own API.

:func:`report` is what ``python -m msvdd.study show`` runs and what the sweeper runs at the end of a
search (into the sweep dir). It prints the best trial and writes into ``out_dir``:

* ``trials.csv``: one row per trial, from ``study.trials_dataframe()``: number, state, value,
  duration_s, start/complete times, ``params_<name>`` columns, fail_reason, overrides, worker
* ``best.yaml``: best trial number, value, params, the override line and all its overrides
* ``best_experiment.yaml``: a ``# @package _global_`` config with the best params (config-group
  params as ``defaults: - override /group: option``), to drop into e.g. ``conf/experiment/``
* ``optimization_history.png`` (``optuna.visualization.matplotlib.plot_optimization_history``) and
  ``param_importances.png`` (``plot_param_importances``, fANOVA seeded with 0)

A file the study cannot give yet (no complete trial: no best params; fewer than two: no importances)
is not written, the printed summary says why, and an earlier report's file of that name is removed,
so the folder never pairs a new ``trials.csv`` with an old study's best params.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from msvdd.files import write_atomic
from msvdd.tuning.failures import lost_reason

STALE_REASON = "no result recorded (the worker died or its heartbeat went stale): lost, not counted toward n_trials"
TRIALS_CSV, BEST_YAML, BEST_EXPERIMENT = "trials.csv", "best.yaml", "best_experiment.yaml"
HISTORY_PNG, IMPORTANCES_PNG = "optimization_history.png", "param_importances.png"
REPORT_FILES = (TRIALS_CSV, BEST_YAML, BEST_EXPERIMENT, HISTORY_PNG, IMPORTANCES_PNG)
FIRST_COLUMNS = ["number", "state", "value", "duration_s", "datetime_start", "datetime_complete"]
LAST_COLUMNS = ["fail_reason", "overrides", "worker"]


# ---------------------------------------------------------------------------- trials
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
    if trial.state == TrialState.FAIL and not reason:  # lost: the sweeper's note, else it went stale
        reason = trial.user_attrs.get("lost") or lost_reason(trial) or STALE_REASON
    if superseded and trial.number in superseded:
        reason = f"{reason} (retried as trial {superseded[trial.number]})".strip()
    return reason


def _param_key(override: str) -> str:
    return override.split("=", 1)[0]


def best_overrides(trial: Any) -> list[str]:
    """The override strings of ``trial``'s params (as the sweeper ran them)."""
    from msvdd.tuning.overrides import format_value

    by_key = {_param_key(o): o for o in trial.user_attrs.get("overrides", None) or ()}
    return [by_key.get(name, f"{name}={format_value(value)}") for name, value in trial.params.items()]


def experiment_yaml(trial: Any, group_params: list[str] | None = None, header: str = "") -> str:
    """``# @package _global_`` config setting ``trial``'s params (groups via the defaults list)."""
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    from msvdd.tuning.overrides import parse_override

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


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype=object)


def trials_table(study: Any) -> pd.DataFrame:
    """The rows of ``trials.csv``: Optuna's ``study.trials_dataframe()`` in msvdd's columns.

    Number, state, value, times and user attrs come from Optuna's frame. Parameter cells are the
    trial's own values: the frame turns ``16`` into ``16.0`` beside a trial that lacks the parameter,
    and a ``null`` choice into a missing value; here ``null`` is written as ``null``, a missing one as ''.
    """
    frame = study.trials_dataframe(
        attrs=("number", "state", "value", "datetime_start", "datetime_complete", "duration", "params", "user_attrs"),
        multi_index=False,
    )
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}  # after the frame: holds all its rows
    params = [c for c in frame.columns if c.startswith("params_")]
    if frame.empty:
        return pd.DataFrame(columns=FIRST_COLUMNS + params + LAST_COLUMNS)
    rows = [trials[int(n)] for n in frame["number"]]
    superseded = _superseded(list(trials.values()))
    table = pd.DataFrame(index=frame.index)
    table["number"] = frame["number"]
    table["state"] = frame["state"]
    table["value"] = pd.to_numeric(_column(frame, "value"), errors="coerce")
    table["duration_s"] = pd.to_timedelta(_column(frame, "duration")).dt.total_seconds().round(3)
    for name in ("datetime_start", "datetime_complete"):
        table[name] = pd.to_datetime(_column(frame, name)).dt.strftime("%Y-%m-%dT%H:%M:%S")
    for column in params:
        name = column[len("params_") :]
        table[column] = [("null" if t.params[name] is None else t.params[name]) if name in t.params else ""
                         for t in rows]
    table["fail_reason"] = [fail_reason(t, superseded) for t in rows]
    table["overrides"] = [" ".join(o) if isinstance(o, list) else "" for o in _column(frame, "user_attrs_overrides")]
    table["worker"] = _column(frame, "user_attrs_worker").fillna("")
    return table.reset_index(drop=True)


def write_trials_csv(study: Any, path: Path) -> pd.DataFrame:
    """Write :func:`trials_table` to ``path`` (atomically); returns the table."""
    table = trials_table(study)
    write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))
    return table


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


# ---------------------------------------------------------------------------- figures
def param_importances(study: Any) -> tuple[dict[str, float] | None, str]:
    """fANOVA importances (seeded), or ``(None, why not)``."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    n_params = len({name for t in complete for name in t.params})
    if len(complete) < 2 or n_params < 1:
        return None, ("parameter importances need >= 2 complete trials and >= 1 parameter "
                      f"(have {len(complete)} complete trial(s), {n_params} parameter(s))")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importances = optuna.importance.get_param_importances(study, evaluator=_evaluator())
    except (ValueError, RuntimeError) as e:  # e.g. no parameter common to all complete trials
        return None, f"parameter importances unavailable: {' '.join(str(e).split())}"
    if not importances:
        return None, "no parameter varies across the complete trials"
    if any(not math.isfinite(v) for v in importances.values()):
        return None, "parameter importances undefined (all complete trials have the same value?)"
    return {name: float(value) for name, value in importances.items()}, ""


def _evaluator() -> Any:
    import optuna

    return optuna.importance.FanovaImportanceEvaluator(seed=0)  # the same numbers on every report


def _save_plot(draw: Callable[[], Any], title: str, path: Path) -> None:
    """Draw one ``optuna.visualization.matplotlib`` plot and save it as PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, as msvdd's run figures
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(), warnings.catch_warnings():  # Optuna sets the ggplot style for the process
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        ax = draw()
        fig = ax.figure
        try:
            placed = [loc for loc in ("left", "center", "right") if ax.get_title(loc)]
            ax.set_title(title, loc=placed[0] if placed else "center")  # in place of Optuna's generic title
            write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))
        finally:
            plt.close(fig)


def plot_history(study: Any, path: Path) -> str:
    """``optimization_history.png``; returns '' when written, else why not."""
    from optuna.trial import TrialState
    from optuna.visualization.matplotlib import plot_optimization_history

    trials = study.get_trials(deepcopy=False)
    if not any(t.state == TrialState.COMPLETE for t in trials):
        failed = sum(t.state == TrialState.FAIL for t in trials)
        return f"no completed trial yet ({failed} failed)"
    _save_plot(lambda: plot_optimization_history(study),
               f"optimization history: {study.study_name} ({study.direction.name.lower()})", path)
    return ""


def plot_importances(study: Any, path: Path) -> tuple[dict[str, float] | None, str]:
    """``param_importances.png``; returns ``(importances, '')`` when written, else ``(None, why not)``."""
    from optuna.visualization.matplotlib import plot_param_importances

    importances, why = param_importances(study)
    if importances is None:
        return None, why
    _save_plot(lambda: plot_param_importances(study, evaluator=_evaluator()),
               f"parameter importances (fANOVA): {study.study_name}", path)
    return importances, ""


# ---------------------------------------------------------------------------- report
def report(study: Any, out_dir: str | Path, *, echo: Callable[[str], Any] = print) -> dict[str, Any]:
    """Print the best trial and write trials.csv, best.yaml, best_experiment.yaml and the figures.

    Returns a summary dict (``study``, ``counts``, ``out_dir``, ``written`` (file names), ``not_written``
    (file name -> why), and with a complete trial ``best_trial``, ``best_value``, ``best_params``,
    ``override_line``, ``yaml``, and ``importances`` when they could be computed).
    """
    import yaml
    from optuna.trial import TrialState

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    counts = Counter(t.state.name for t in trials)
    written: list[str] = []
    missing: dict[str, str] = {}
    summary: dict[str, Any] = {"study": study.study_name, "counts": dict(counts), "out_dir": str(out)}
    lines = [f"study '{study.study_name}' ({study.direction.name.lower()}): {len(trials)} trial(s) "
             + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none")]

    write_trials_csv(study, out / TRIALS_CSV)
    written.append(TRIALS_CSV)
    if any(t.state == TrialState.COMPLETE for t in trials):
        best = study.best_trial
        overrides = best_overrides(best)
        line = " ".join(overrides)
        group_params = study.user_attrs.get("msvdd_group_params", None) or []
        header = f"# best of study '{study.study_name}': trial {best.number}, value {best.value!r}\n"
        snippet = experiment_yaml(best, group_params, header)
        summary.update(best_trial=best.number, best_value=best.value, best_params=dict(best.params),
                       override_line=line, yaml=snippet)
        best_doc = {"study": study.study_name, "direction": study.direction.name.lower(), "best_trial": best.number,
                    "value": best.value, "params": dict(best.params), "override_line": line,
                    "overrides": list(best.user_attrs.get("overrides", None) or overrides), "trials": dict(counts)}
        _write_text(out / BEST_YAML, yaml.safe_dump(best_doc, sort_keys=False, default_flow_style=False))
        _write_text(out / BEST_EXPERIMENT, snippet)
        written += [BEST_YAML, BEST_EXPERIMENT]
        lines += [
            f"best trial {best.number}: value={best.value!r}",
            "best params: " + ", ".join(f"{k}={v!r}" for k, v in best.params.items()),
            f"override line: {line}",
            "YAML (e.g. as conf/experiment/best.yaml):",
            snippet.rstrip(),
        ]
    else:
        lines.append("no completed trial yet: no best params")
        missing[BEST_YAML] = missing[BEST_EXPERIMENT] = "no completed trial yet"

    why = plot_history(study, out / HISTORY_PNG)
    if why:
        missing[HISTORY_PNG] = why
    else:
        written.append(HISTORY_PNG)
    importances, why = plot_importances(study, out / IMPORTANCES_PNG)
    if importances is None:
        missing[IMPORTANCES_PNG] = why
    else:
        written.append(IMPORTANCES_PNG)
        summary["importances"] = importances
        lines.append("importances: " + ", ".join(f"{k}={v:.3f}" for k, v in importances.items()))

    lines.append(f"wrote {', '.join(written)} to {out}")
    for name, reason in missing.items():
        stale = out / name
        removed = stale.exists()
        if removed:  # an earlier report's file: it would pair with this study's trials.csv
            stale.unlink()
        lines.append(f"not written: {name} ({reason})" + ("; removed the earlier one" if removed else ""))
    summary.update(written=written, not_written=missing)
    echo("\n".join(lines))
    return summary
