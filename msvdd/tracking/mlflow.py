"""``logger=mlflow``: runs, sweep tables and Optuna trials as MLflow runs, through MLflow's own client.

Configured by conf/logger/mlflow.yaml (``_target_: MlflowTracker``) and driven by the Hydra callback of
msvdd.tracking.callback. mlflow is imported on first use only, so ``logger=none`` never loads it (it
takes seconds). Every method here may raise; the callback turns any failure into one warning line:
by then the run's own folder is complete, and a later sweep of the same folders logs what is missing
(a run is found again by its folder and its results.json, so nothing is logged twice).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from msvdd.tracking import record as rec

log = logging.getLogger(__name__)
QUIET = ("mlflow", "alembic")  # they log their database migrations at INFO into every job's log
KIND = {"mlflow.experimentKind": "custom_model_development"}  # the UI opens on training runs, not GenAI traces
BATCH = 100  # MLflow's most params or tags per log_batch call (metrics: 1000)
_CLIENTS: dict[str, object] = {}  # one client per store and process (a basic-launcher sweep runs every job in one)


class MlflowTracker:
    """An MLflow tracking store and the experiment runs go to.

    ``tracking_uri`` null is the local SQLite store ``<store>/mlflow.db`` with artifacts in
    ``<store>/artifacts`` (``store`` is under ``paths.root_dir``); any other MLflow URI (``http://host:5000``,
    ``sqlite:///...``, ``databricks``) is used as given. ``experiment`` null: the sweep's name, or an
    Optuna search's study name (the callback says which). ``timeout_s`` bounds each request to an HTTP
    server (MLflow would retry for minutes by default).
    """

    def __init__(self, tracking_uri: str | None = None, store: str = "outputs/mlflow", experiment: str | None = None,
                 artifact_location: str | None = None, artifacts: bool = True, timeout_s: float = 10):
        self.store = Path(store).expanduser().absolute()
        self.uri = str(tracking_uri) if tracking_uri else f"sqlite:///{self.store / 'mlflow.db'}"
        self.local = not tracking_uri
        self.experiment = experiment
        self.artifact_location = artifact_location or ((self.store / "artifacts").as_uri() if self.local else None)
        self.artifacts = bool(artifacts)
        self.timeout_s = float(timeout_s)

    # ------------------------------------------------------------------ store
    def client(self):
        if self.uri not in _CLIENTS:
            if self.uri.startswith(("http://", "https://")):
                os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(max(1, self.timeout_s))))
                os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # urllib3 logs each retry
                os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
            if self.local:
                self.store.mkdir(parents=True, exist_ok=True)
            try:
                from mlflow.tracking import MlflowClient
            except ImportError as err:
                raise ImportError(f"logger=mlflow needs the MLflow client: pip install 'msvdd[mlflow]' ({err})") \
                    from None
            for name in QUIET:  # after the import: mlflow sets its own level when imported
                logging.getLogger(name).setLevel(logging.WARNING)
            _CLIENTS[self.uri] = MlflowClient(tracking_uri=self.uri)
        return _CLIENTS[self.uri]

    def experiment_id(self, name: str) -> str:
        """The experiment ``name`` (created when missing; another worker creating it meanwhile is fine)."""
        client = self.client()
        found = client.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                client.restore_experiment(found.experiment_id)
            for key, value in KIND.items():
                if key not in found.tags:
                    client.set_experiment_tag(found.experiment_id, key, value)
            return found.experiment_id
        try:
            return client.create_experiment(name, artifact_location=self.artifact_location, tags=KIND)
        except Exception:  # noqa: BLE001 - created by another worker between the two calls: use it
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def _find(self, experiment_id: str, **tags) -> list:
        where = " and ".join(f"tags.{k} = '{_quoted(v)}'" for k, v in tags.items())
        runs, token = [], None
        while True:  # pages of 1000: a full table sweep has 720 jobs, a long search more
            page = self.client().search_runs([experiment_id], filter_string=where, max_results=1000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def _log(self, run_id: str, params: dict | None = None, metrics: dict | None = None, tags: dict | None = None,
             steps: dict | None = None, when: int | None = None) -> None:
        from mlflow.entities import Metric, Param, RunTag

        client, when = self.client(), when or _ms(time.time())
        items = [Param(k, v) for k, v in (params or {}).items()]
        for start in range(0, len(items), BATCH):
            client.log_batch(run_id, params=items[start:start + BATCH])
        items = [RunTag(k, v) for k, v in (tags or {}).items()]
        for start in range(0, len(items), BATCH):
            client.log_batch(run_id, tags=items[start:start + BATCH])
        values = [Metric(k, v, when, 0) for k, v in (metrics or {}).items()]
        values += [Metric(k, v, when, step) for k, curve in (steps or {}).items() for step, v in enumerate(curve)]
        for start in range(0, len(values), 10 * BATCH):
            client.log_batch(run_id, metrics=values[start:start + 10 * BATCH])

    def _files(self, run_id: str, files) -> None:
        for path, folder in files:
            self.client().log_artifact(run_id, str(path), folder)

    # ------------------------------------------------------------------ what is logged
    def log_job(self, folder: Path, experiment: str, where: dict[str, str]) -> str | None:
        """One run for the job in ``folder`` (complete: its results.json); None when already logged."""
        results = folder / "results.json"
        record, why = _record(results)
        if record is None:
            raise ValueError(why)
        experiment_id = self.experiment_id(experiment)
        where = {**where, "kind": "job", "run_dir": str(folder.absolute()), "results_sha": rec.digest(results)}
        if self._find(experiment_id, run_dir=where["run_dir"], results_sha=where["results_sha"]):
            return None
        end = results.stat().st_mtime
        start = end - float((record.get("timings_s") or {}).get("total") or 0)
        client = self.client()
        run = client.create_run(experiment_id, start_time=_ms(start), run_name=rec.run_name(record))
        run_id = run.info.run_id
        self._log(run_id, params=rec.params(record), metrics=rec.metrics(record), tags=rec.tags(record, where),
                  steps=rec.histories(folder / "model.pt"), when=_ms(end))
        if self.artifacts:
            self._files(run_id, rec.artifacts(folder))
        client.set_terminated(run_id, "FINISHED", end_time=_ms(end))
        return run_id

    def log_sweep(self, experiment: str, sweep: Path, table_dir: Path | None) -> str:
        """A grid sweep as a parent run of its job runs: a table sweep's ``table`` run holds its table (table.md,
        table.csv, auroc.png ...) and mean AUROCs; any other sweep's is a ``sweep`` run."""
        experiment_id = self.experiment_id(experiment)
        kind = "table" if table_dir else "sweep"
        where = {"kind": kind, "sweep": str(sweep.absolute())}
        found = self._find(experiment_id, **where)
        client = self.client()
        run_id = found[0].info.run_id if found else client.create_run(
            experiment_id, run_name=f"{kind} {experiment}", tags=where).info.run_id
        files = sorted(p for p in table_dir.iterdir() if p.is_file()) if table_dir and table_dir.is_dir() else []
        if table_dir:
            self._log(run_id, tags={"table_dir": str(table_dir.absolute())}, metrics=_table_metrics(table_dir))
        self._files(run_id, [(p, None) for p in files])
        self._adopt(experiment_id, run_id, kind="job", sweep=where["sweep"])
        client.set_terminated(run_id, "FINISHED")
        return run_id

    def log_study(self, experiment: str, study, sweep: Path) -> int:
        """One run per trial of ``study`` (its sampled params, value, state) with its job runs nested under it,
        and the study's report files (trials.csv, best.yaml, plots) on a ``study`` run. Returns the trials logged."""
        experiment_id = self.experiment_id(experiment)
        client = self.client()
        for trial in study.get_trials(deepcopy=False):
            where = {"kind": "trial", "study": study.study_name, "trial": str(trial.number)}
            found = self._find(experiment_id, **where)
            run_id = found[0].info.run_id if found else client.create_run(
                experiment_id, run_name=f"trial {trial.number}", tags=where,
                start_time=_ms(trial.datetime_start.timestamp()) if trial.datetime_start else None).info.run_id
            values = {f"value.{i}": v for i, v in enumerate(trial.user_attrs.get("values") or []) if v is not None}
            self._log(run_id, params={k: str(v) for k, v in trial.params.items()},
                      metrics={**({"value": trial.value} if trial.value is not None else {}), **values},
                      tags={"state": trial.state.name, "sweep": str(sweep.absolute()),
                            **({"fail_reason": trial.user_attrs["fail_reason"][:500]}
                               if "fail_reason" in trial.user_attrs else {})})
            self._adopt(experiment_id, run_id, kind="job", study=study.study_name, trial=str(trial.number))
            if trial.datetime_complete is not None:
                client.set_terminated(run_id, "FINISHED" if trial.state.name == "COMPLETE" else "FAILED",
                                      end_time=_ms(trial.datetime_complete.timestamp()))
        where = {"kind": "study", "study": study.study_name}
        found = self._find(experiment_id, **where)
        run_id = found[0].info.run_id if found else client.create_run(
            experiment_id, run_name=f"study {study.study_name}", tags=where).info.run_id
        report = [p for p in sorted(sweep.iterdir()) if p.is_file() and p.suffix in (".csv", ".yaml", ".png")]
        self._files(run_id, [(p, None) for p in report])
        client.set_terminated(run_id, "FINISHED")
        return len(study.trials)

    def _adopt(self, experiment_id: str, parent: str, **tags) -> None:
        """Nest the runs with ``tags`` under ``parent`` (MLflow's own parent tag: the UI shows them as children)."""
        for run in self._find(experiment_id, **tags):
            if run.data.tags.get("mlflow.parentRunId") != parent:
                self.client().set_tag(run.info.run_id, "mlflow.parentRunId", parent)


def _record(path: Path) -> tuple[dict | None, str]:
    from msvdd.reports.results import read_results

    return read_results(path) if path.is_file() else (None, f"no results.json in {path.parent}")


def _table_metrics(table_dir: Path | None) -> dict[str, float]:
    """table.csv's mean AUROC (%) per method and group size: ``<method>_mean.size<k>``."""
    path = table_dir / "table.csv" if table_dir else None
    if path is None or not path.is_file():
        return {}
    import pandas as pd

    table = pd.read_csv(path)
    size = table.columns[0]
    return {f"{col}.size{int(row[size])}": float(row[col]) for _, row in table.iterrows()
            for col in table.columns if col.endswith("_mean") and pd.notna(row[col])}


def _quoted(value) -> str:
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
