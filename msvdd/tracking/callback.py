"""The Hydra callback of ``logger=...`` (conf/logger/): it hands each finished job, and each sweep's table or
Optuna study, to the tracker that ``logger`` builds.

It runs after the job's own files are written (``on_job_end``), so the run itself never depends on the
tracker: any tracker failure (an unreachable server, a locked database, a missing package) is one
warning line and the run's folder stays as it is. A store that fails when the sweep starts is not tried
again by its jobs (one warning, not one per job); running the sweep again logs what was missed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from msvdd.tracking.record import trial_number

log = logging.getLogger("msvdd")
OFF = "MSVDD_TRACKING_OFF"  # set by the sweep's main process when the store failed; its workers inherit it
OPTUNA = "msvdd_optuna"


def _line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _select(config: DictConfig, key: str, default=None):
    return OmegaConf.select(config, key, default=default, throw_on_missing=False)


def is_search(config: DictConfig) -> bool:
    return OPTUNA in str(_select(config, "hydra.sweeper._target_", ""))


def study_name(config: DictConfig) -> str | None:
    """An Optuna search's study name, as the sweeper names it (``study_name``, else the ``hparams_search`` option)."""
    if not is_search(config):
        return None
    study = _select(config, "hydra.sweeper.study_name") or (_select(config, "hydra.runtime.choices") or {}).get(
        "hparams_search") or _select(config, "hydra.job.name")
    return str(study).replace("/", "_")


def experiment_name(config: DictConfig) -> str:
    """``logger.experiment``, else an Optuna search's study name, else the sweep's (or run's) ``name``."""
    return str(_select(config, "logger.experiment") or study_name(config) or _select(config, "name", "run"))


def where(config: DictConfig) -> dict[str, str]:
    """The tags that say where a job ran: experiment, sweep folder and, in a search, its study and trial."""
    found = {"experiment": str(_select(config, "name", "")), "launcher": str(
        (_select(config, "hydra.runtime.choices") or {}).get("hydra/launcher", ""))}
    if str(_select(config, "hydra.mode", "")).endswith("MULTIRUN"):
        found["sweep"] = str(Path(_select(config, "hydra.sweep.dir")).absolute())
    if is_search(config):
        found["study"] = study_name(config)
        trial = trial_number(_select(config, "hydra.sweep.subdir"))
        if trial is not None:
            found["trial"] = str(trial)
    return found


class TrackingCallback(Callback):
    """``hydra.callbacks.logger`` of conf/logger/mlflow.yaml."""

    def _tracker(self, config: DictConfig):
        return instantiate(config.logger)

    def _guard(self, what: str, config: DictConfig, step, main: bool = False) -> None:
        if os.environ.get(OFF):
            return
        try:
            step()
        except Exception as err:  # noqa: BLE001 - any tracker failure: one line, the run's files stay
            uri = _select(config, "logger.tracking_uri") or _select(config, "logger.store")
            log.warning("logger: %s not tracked by %s (%s); %s", what, uri, _line(err),
                        "its jobs will not be tracked either; their files are complete" if main
                        else "its files are complete")
            if main:
                os.environ[OFF] = _line(err)

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        os.environ.pop(OFF, None)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        os.environ.pop(OFF, None)  # the store is created here once, not by concurrent workers
        self._guard("the sweep", config, lambda: self._tracker(config).experiment_id(experiment_name(config)),
                    main=True)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs) -> None:
        folder = Path(_select(config, "hydra.runtime.output_dir"))
        if job_return.status != JobStatus.COMPLETED or not (folder / "results.json").is_file():
            return  # a failed job has no (new) record: the sweep lists it; its folder keeps the log
        tracker = self._tracker(config)
        self._guard(f"job {folder}", config, lambda: tracker.log_job(folder, experiment_name(config), where(config)))

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep = Path(_select(config, "hydra.sweep.dir"))
        tracker, name = self._tracker(config), experiment_name(config)
        if is_search(config):
            study = study_name(config)
            self._guard(f"study {study}", config, lambda: tracker.log_study(name, _study(config, study), sweep))
            return
        table = _select(config, "hydra.callbacks.table.out_dir")
        self._guard(f"sweep {sweep}", config,
                    lambda: tracker.log_sweep(name, sweep, Path(table) if table else None))


def _study(config: DictConfig, name: str):
    import optuna

    from msvdd.tuning.storage import open_storage, storage_spec

    spec = storage_spec(_select(config, "hydra.sweeper.storage"), name)
    return optuna.load_study(study_name=name, storage=open_storage(spec, must_exist=True))
