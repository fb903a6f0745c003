"""Structured config of the msvdd Optuna sweeper: ``hydra/sweeper=msvdd_optuna``."""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class MsvddOptunaSweeperConf:
    _target_: str = "hydra_plugins.msvdd_optuna_sweeper.sweeper.MsvddOptunaSweeper"

    # "tpe" | "random" | "cmaes" (cmaes: numeric search spaces only; needs the `cmaes` package)
    sampler: str = "tpe"
    # "maximize" | "minimize"
    direction: str = "maximize"
    # TOTAL trials in the study (complete + failed + running, including those already stored; a
    # lost trial, whose worker was killed, does not count): a resumed sweep only runs the remainder
    n_trials: int = 20
    # trials launched per batch through hydra/launcher
    n_jobs: int = 1
    # null -> sqlite file outputs/optuna/<study_name>.db; an SQLAlchemy URL; or a *.log/*.journal
    # path -> Optuna JournalStorage (file backend); any other path -> sqlite file
    storage: str | None = None
    # null -> the hparams_search choice, else hydra.job.name
    study_name: str | None = None
    # sampler seed: trial i is sampled with seed + i (reproducible, no replay on resume or
    # between concurrent workers); null -> OS entropy
    seed: int | None = None
    # override key -> Hydra sweep string: choice(a,b) | a,b | interval(lo,hi) |
    # tag(log, interval(lo,hi)) | range(lo,hi[,step]) ; a YAML list = choice ; a plain value = fixed
    params: dict[str, Any] = field(default_factory=dict)
    # override key -> list of values: each trial runs the product as separate jobs and scores the mean
    average_over: dict[str, Any] = field(default_factory=dict)
    # extra keyword arguments for the Optuna sampler (e.g. {n_startup_trials: 5, multivariate: true})
    sampler_kwargs: dict[str, Any] = field(default_factory=dict)
    # seconds between heartbeats of running trials; null/0 disables stale-trial detection
    heartbeat_interval: int | None = 60
    # a RUNNING trial without heartbeat for this long is marked FAIL; null -> 2 * heartbeat_interval
    grace_period: int | None = None
    # re-queue a heartbeat-stale trial with the same params up to this many times (0: never)
    retry_stale_trials: int = 0
    # job dirs <sweep.dir>/trial_<number>[/<i>] instead of hydra.sweep.subdir, so resumed and
    # concurrent workers sharing a sweep dir never overwrite each other's jobs.  null: only when
    # hydra.sweep.subdir is Hydra's default ${hydra.job.num}; a custom subdir is kept
    trial_subdir: bool | None = None
    # at the end, write trials.csv and (when there is a complete trial) best.yaml,
    # best_experiment.yaml and plots into the sweep dir, and log the best params (msvdd.reports.study)
    report: bool = True


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="msvdd_optuna",
    node=MsvddOptunaSweeperConf,
    provider="msvdd_optuna_sweeper",
)
