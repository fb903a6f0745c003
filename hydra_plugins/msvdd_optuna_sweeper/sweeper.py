"""msvdd's Hydra sweeper on the Optuna ask/tell API (Optuna >= 4): ``hydra/sweeper=msvdd_optuna``.

Usage: ``python -m msvdd -m hparams_search=NAME [fixed overrides] [key=choice(...) ...]`` where
``conf/hparams_search/NAME.yaml`` selects this sweeper and sets ``hydra.sweeper.params``.

How a sweep runs
----------------
* The search space is ``hydra.sweeper.params`` plus command-line sweeps (see
  :mod:`msvdd.tuning.search_space`); command-line plain overrides are applied to every trial.  Each trial
  runs ``fixed overrides + sampled params`` (times every combination of ``average_over``) as
  Hydra jobs through the configured ``hydra/launcher``, ``n_jobs`` trials per batch, and is
  scored by the mean of its jobs' return values.
* ``n_trials`` is the TOTAL size of the study.  Before each ask the trials in storage are
  counted: COMPLETE + RUNNING + WAITING + the FAIL trials whose own jobs failed (user attr
  ``fail_reason``).  Not counted: *lost* trials, recorded FAIL without a result (their worker
  killed, the launcher broken, Ctrl-C; see ``budget_count`` in ``trials.py``), and trials
  discarded as over-budget (PRUNED, see below).  Asking stops when the count reaches ``n_trials``.
  So running the same command again resumes the study (``load_if_exists=True``) and only runs the
  remainder, a lost trial's place included; raising ``n_trials`` extends it; trials that failed
  use up budget like completed ones.
* A study holds trials of one setting.  Its fixed overrides (command line and plain ``params``)
  and ``average_over`` jobs are recorded when it is created (:mod:`msvdd.tuning.study_settings`);
  a sweep of a stored study with other ones, or with another ``direction``, is refused in one line
  naming what differs and the overrides of a new study.  The sweeper's own settings (``sampler``,
  ``direction``, ``n_trials`` ...) are checked in ``setup``: one line naming the field, exit 2.
* Several workers (processes, or machines sharing a database) may run the same study at once.
  "fail stale trials + count + ask" runs under an exclusive ``flock`` on a side file next to a
  SQLite/journal file, so workers on one machine never over-ask.  Without a local file
  (PostgreSQL/MySQL) there is no lock; instead, after every ask the trial checks its rank: the
  number of counted trials whose number is <= its own.  Trial numbers are allocated in creation
  order, so a trial whose rank exceeds ``n_trials`` lost a race; it is discarded at once (told
  PRUNED with user attr ``discarded``, never run, not counted).  That check alone already
  guarantees at most ``n_trials`` counted trials, and none is lost: a trial is only discarded
  when ``n_trials`` lower-numbered trials exist that all run.  The lock just avoids discards.
* A killed worker: each asked trial records its process (system attr ``msvdd:process``: host,
  pid namespace, pid, start time).  When a sweep starts and before each ask, a RUNNING trial whose
  process was on this machine and is gone is marked FAIL at once, heartbeat or not (a resume right
  after a SIGKILL does not wait for the grace period).  Workers of other machines are told by:
* Heartbeat (``heartbeat_interval``, ``grace_period``): every RUNNING trial of this worker gets
  a heartbeat right after it is asked and then every ``heartbeat_interval`` s from a daemon
  thread, until it is told.  Before each ask, RUNNING trials whose last heartbeat is older than
  ``grace_period`` (default ``2 * heartbeat_interval``) are marked FAIL: a killed worker's trial
  is never counted as complete, it is lost (not counted), and with ``retry_stale_trials > 0``
  it is re-queued (WAITING, same params) via Optuna's ``RetryHeartbeatStaleTrialCallback``
  (``RetryFailedTrialCallback`` on older Optuna) and run by the next worker that asks.
  - RDB storages use Optuna's own heartbeat: ``RDBStorage(heartbeat_interval, grace_period,
    heartbeat_stale_trial_callback)``, ``storage.record_heartbeat`` and
    ``optuna.storages.fail_stale_trials`` (``study.optimize`` is not used, so this sweeper calls
    them itself).
  - ``JournalStorage`` does not support Optuna's heartbeat (Optuna 5.0: it does not implement
    ``BaseHeartbeat``), so the same scheme is done with a trial system attr
    ``msvdd:heartbeat`` (a ``time.time()`` stamp; compare clocks if workers are on several
    machines) and ``set_trial_state_values(FAIL)`` + the same retry callback.
  A stale-failed trial has no ``fail_reason`` (Optuna refuses attrs on finished trials): the
  sweeper stores its reason first (system attr ``msvdd:lost``) where it fails the trial itself; the
  report labels the others.  A worker whose own trial was failed meanwhile logs a warning on ``tell``.
* A trial whose job raised (``JobStatus.FAILED``; exception in ``JobReturn._return_value``), or
  returned None/NaN/a non-number, is told FAIL with user attr ``fail_reason`` (one line) and the
  study goes on.  Each trial also stores user attrs ``overrides`` (what it ran, without the
  ``average_over`` part), ``worker`` (host:pid), and with ``average_over``: ``average_over``
  and ``values`` (per job).  One log line per trial.  A launcher that breaks (a worker process
  killed) loses its batch: those trials are told FAIL with user attr ``lost`` and the search stops.
* Exit status: when a trial of this run failed or was lost, or the study ends with no complete
  trial, the sweeper prints one line on stderr (``N of M trials of study 'S' failed ...``, then one
  line per trial) and ``python -m msvdd`` exits 1 (:mod:`msvdd.tuning.failures`), as the grid sweeper.
* Job directories: with ``trial_subdir: null`` (default) jobs go to
  ``<hydra.sweep.dir>/trial_<number>[/<i>]`` when ``hydra.sweep.subdir`` is Hydra's default
  ``${hydra.job.num}`` (which restarts at 0 in every invocation, so resumed or concurrent
  workers sharing a sweep dir would overwrite each other's jobs); a custom ``hydra.sweep.subdir``
  (e.g. ``${hydra.job.override_dirname}``) is kept.  ``true``/``false`` force either way.
* ``seed``: trial ``i`` is sampled by a sampler seeded with ``seed + i``, so one worker's run is
  reproducible, a resumed study does not replay the samples of its first trials, and concurrent
  workers (different trial numbers) do not duplicate each other.  ``seed: null``: OS entropy.
* At the end (``report: true``), :func:`msvdd.reports.study.report` (what ``python -m msvdd.study
  show`` runs) writes ``trials.csv`` and, when the study has what they need, ``best.yaml``,
  ``best_experiment.yaml`` and the figures into the sweep dir; it logs the best params and names
  the files it wrote and those it did not.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from msvdd.tuning.search_space import SearchParam, expand_average_over, parse_search_space, without_class_groups
from msvdd.tuning.storage import StorageSpec, open_storage, storage_lock, storage_spec, unreadable
from msvdd.tuning.study_settings import check_fixed_settings, new_study_hint

from .trials import _Heartbeat, budget_count, one_line, superseded_numbers, value_or_reason

log = logging.getLogger(__name__)

SAMPLERS = ("tpe", "random", "cmaes")
DIRECTIONS = ("maximize", "minimize")
WORKER = f"{socket.gethostname()}:{os.getpid()}"


class MsvddOptunaSweeper(Sweeper):
    """Optuna ask/tell sweeper; see the module docstring for the semantics."""

    def __init__(
        self,
        sampler: str = "tpe",
        direction: str = "maximize",
        n_trials: int = 20,
        n_jobs: int = 1,
        storage: str | None = None,
        study_name: str | None = None,
        seed: int | None = None,
        params: Any = None,
        average_over: Any = None,
        sampler_kwargs: Any = None,
        heartbeat_interval: int | None = 60,
        grace_period: int | None = None,
        retry_stale_trials: int = 0,
        trial_subdir: bool | None = None,
        report: bool = True,
    ) -> None:
        super().__init__()
        self.sampler_name = str(sampler).lower()
        self.direction = str(direction).lower()
        self.n_trials = int(n_trials)
        self.n_jobs = int(n_jobs)
        self._settings = {"sampler": sampler, "direction": direction, "n_trials": n_trials, "n_jobs": n_jobs,
                          "heartbeat_interval": heartbeat_interval}
        self.storage = storage
        self.study_name = study_name
        self.seed = seed
        self.params = _container(params)
        self.average_over = _container(average_over)
        self.sampler_kwargs = _container(sampler_kwargs)
        self.heartbeat_interval = int(heartbeat_interval) if heartbeat_interval else None
        self.grace_period = int(grace_period) if grace_period else None
        self.retry_stale_trials = int(retry_stale_trials or 0)
        self.trial_subdir = trial_subdir
        self.report = bool(report)

        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.job_idx = 0
        self.study: Any = None
        self.spec: StorageSpec | None = None
        self.space: dict[str, SearchParam] = {}
        self.fixed: list[str] = []
        self.combos: list[list[str]] = [[]]
        self._heartbeat: _Heartbeat | None = None
        self._use_trial_subdir = bool(trial_subdir)
        self._failed: list[tuple[int, str, bool]] = []  # this run's trials without a value: number, why, lost
        self._told = 0  # this run's trials told a result (discarded ones aside)
        self._launcher_broke = False

    def check_settings(self) -> None:
        """The sweeper's own settings, as one line naming the field (a ConfigError: exit 2, no traceback).

        Called from :meth:`setup`, not ``__init__``: Hydra's instantiate would wrap the error in its own lines.
        """
        from msvdd.errors import ConfigError

        given = self._settings
        if self.sampler_name not in SAMPLERS:
            raise ConfigError("hydra.sweeper.sampler", given["sampler"], ", ".join(SAMPLERS))
        if self.direction not in DIRECTIONS:
            raise ConfigError("hydra.sweeper.direction", given["direction"], ", ".join(DIRECTIONS))
        if self.n_trials < 0:
            raise ConfigError("hydra.sweeper.n_trials", given["n_trials"], "an int >= 0 (the study's total)")
        if self.n_jobs < 1:
            raise ConfigError("hydra.sweeper.n_jobs", given["n_jobs"], "an int >= 1")
        beat = given["heartbeat_interval"]
        if beat is not None and int(beat) < 0:
            raise ConfigError("hydra.sweeper.heartbeat_interval", beat, "null (off) or an int >= 0 (seconds)")

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.check_settings()
        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    # ------------------------------------------------------------------ setup helpers
    def _study_name(self) -> str:
        assert self.config is not None
        if self.study_name:
            return str(self.study_name)
        choices = OmegaConf.select(self.config, "hydra.runtime.choices") or {}
        chosen = choices.get("hparams_search") if hasattr(choices, "get") else None
        if chosen:
            return str(chosen).replace("/", "_")
        return str(self.config.hydra.job.name)

    def _make_sampler(self, seed: int | None) -> Any:
        import optuna

        kwargs = dict(self.sampler_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if self.sampler_name == "tpe":
                return optuna.samplers.TPESampler(seed=seed, **kwargs)
            if self.sampler_name == "random":
                return optuna.samplers.RandomSampler(seed=seed, **kwargs)
            categorical = [name for name, p in self.space.items() if not p.is_numeric]
            if categorical:
                raise ValueError(
                    "sampler=cmaes only handles numeric search spaces (interval/range); categorical "
                    f"params: {', '.join(categorical)}. Use sampler=tpe or random."
                )
            try:
                import cmaes  # noqa: F401
            except ImportError as e:
                raise ImportError("sampler=cmaes needs the 'cmaes' package: pip install cmaes") from e
            return optuna.samplers.CmaEsSampler(seed=seed, **kwargs)

    def _trial_seed(self, number: int) -> int | None:
        """Seed for the sampler that samples trial ``number`` (see ``seed`` in the module docstring)."""
        return None if self.seed is None else (int(self.seed) + number) % 2**32

    def _retry_callback(self) -> Any:
        if self.retry_stale_trials <= 0:
            return None
        import optuna

        cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
        if cls is None:
            cls = optuna.storages.RetryFailedTrialCallback
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(max_retry=self.retry_stale_trials)

    def _group_params(self) -> list[str]:
        """Searched keys that are config groups (for the YAML snippet of the report)."""
        assert self.hydra_context is not None
        groups = []
        for key in self.space:
            base = key.lstrip("+~").split("@", 1)[0]
            try:
                if self.hydra_context.config_loader.get_group_options(base):
                    groups.append(key)
            except Exception as e:  # noqa: BLE001 - only cosmetic (the report's YAML snippet)
                log.debug("could not tell whether '%s' is a config group: %s", key, one_line(e))
        return groups

    def _subdir(self, number: int, index: int) -> list[str]:
        if not self._use_trial_subdir:
            return []
        sub = f"trial_{number:04d}" + (f"/{index}" if len(self.combos) > 1 else "")
        return [f"hydra.sweep.subdir={sub}"]

    def _check_composition(self, group_params: list[str]) -> None:
        """Fail fast, before any trial exists, on typos in keys and config-group options.

        Composes the fixed overrides with sample values once per ``average_over`` combination and
        once per option of every searched config group.  (Each trial is validated again before it
        is launched; a trial that cannot be composed is told FAIL with the reason.)
        """
        sample = {
            name: p.override(p.choices[0] if p.kind == "categorical" else p.low)
            for name, p in self.space.items()
        }
        base = self.fixed + list(sample.values())
        batch = [base + combo for combo in self.combos[:20]]
        for name in group_params:
            for text in self.space[name].choice_strings[1:]:
                batch.append([o for o in base if o != sample[name]] + [f"{name}={text}"] + self.combos[0])
        self.validate_batch_is_legal(batch)

    # ------------------------------------------------------------------ sweep
    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        loader = self.hydra_context.config_loader
        self.space, self.fixed = parse_search_space(self.params, arguments, config_loader=loader)
        self.average_over = without_class_groups(self.average_over, self.config)
        self.combos = expand_average_over(self.average_over, loader)
        for param in self.space.values():
            param.distribution()  # invalid bounds etc. fail here, before any trial exists
        if not self.space:
            log.warning("empty search space: every trial runs the same overrides %s", self.fixed)
        sampler = self._make_sampler(self._trial_seed(0))
        group_params = self._group_params()
        self._check_composition(group_params)  # before the study is created or loaded
        study_name = self._study_name()
        self.spec = storage_spec(self.storage, study_name)
        retry = self._retry_callback()

        try:
            with storage_lock(self.spec):
                storage = open_storage(
                    self.spec,
                    heartbeat_interval=self.heartbeat_interval,
                    grace_period=self.grace_period,
                    stale_trial_callback=retry,
                )
                study = optuna.create_study(
                    study_name=study_name,
                    storage=storage,
                    sampler=sampler,
                    direction=self.direction,
                    load_if_exists=True,
                )
        except Exception as err:  # noqa: BLE001 - a corrupt storage: one line and exit 2, not 79 lines
            from msvdd.errors import MsvddError, exit_with

            exit_with(err if isinstance(err, MsvddError) else unreadable(self.spec, err))
        sweep_dir = Path(self.config.hydra.sweep.dir)
        if study.direction.name.lower() != self.direction:
            from msvdd.errors import ConfigError

            stored = study.direction.name.lower()
            raise ConfigError(
                "hydra.sweeper.direction", self._settings["direction"],
                f"{stored}, or a new study: {new_study_hint(storage, study_name, sweep_dir)}",
                f"study '{study_name}' in {self.spec} was created to {stored}",
            )
        with storage_lock(self.spec):  # the first worker records the study's settings, the others compare
            check_fixed_settings(study, self.fixed, self.combos, where=str(self.spec),
                                 hint=lambda: new_study_hint(storage, study_name, sweep_dir))
        self.study = study
        study.set_user_attr(
            "msvdd_search_space", {k: p.source.partition("=")[2] for k, p in self.space.items()}
        )
        study.set_user_attr("msvdd_group_params", group_params)

        subdir = OmegaConf.to_container(self.config.hydra.sweep, resolve=False).get("subdir")  # type: ignore[union-attr]
        self._use_trial_subdir = (
            subdir == "${hydra.job.num}" if self.trial_subdir is None else bool(self.trial_subdir)
        )
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        self._heartbeat = _Heartbeat(study, storage, self.heartbeat_interval, self.grace_period, retry)
        with storage_lock(self.spec):
            self._heartbeat.fail_stale()  # a killed worker's trial, before it is counted as used
        stored = study.get_trials(deepcopy=False)
        log.info(
            "study '%s' in %s: %d trial(s) stored, %d of n_trials=%d used; search space: %s%s",
            study_name,
            self.spec,
            len(stored),
            budget_count(stored),
            self.n_trials,
            {k: p.describe() for k, p in self.space.items()},
            f"; each trial averages {len(self.combos)} jobs over {list(self.average_over)}"
            if len(self.combos) > 1
            else "",
        )

        ran = 0
        try:
            while True:
                batch: list[Any] = []
                try:
                    for _ in range(self.n_jobs):
                        trial = self._ask()
                        if trial is None:
                            break
                        batch.append(trial)
                except BaseException as e:  # e.g. Ctrl-C: do not leave asked trials RUNNING
                    for trial in batch:
                        self._finish(trial, reason=f"lost before it ran: {_why_lost(e)}", attr="lost")
                    raise
                if not batch:
                    break
                self._run_batch(batch)
                ran += len(batch)
                if self._launcher_broke:  # its trials are lost, not counted: asking on could never end
                    break
        finally:
            self._heartbeat.stop()

        log.info("study '%s': this worker ran %d trial(s); storage: %s", study_name, ran, self.spec)
        if self.report:
            self._report(sweep_dir)
        self._say_failures(study_name)
        return study

    def _say_failures(self, study_name: str) -> None:
        """A search in which a trial failed, or that has no result, ends with one line on stderr and exit 1."""
        from optuna.trial import TrialState

        from msvdd.tuning import failures

        states = [t.state for t in self.study.get_trials(deepcopy=False)]
        no_result = bool(states) and TrialState.COMPLETE not in states and TrialState.RUNNING not in states
        failures.record(len(self._failed) or int(no_result))  # msvdd.app.main exits 1 (after Hydra's callbacks)
        text = failures.search_summary(study_name, self._told, self._failed, states.count(TrialState.FAIL), no_result)
        if text:
            print(text, file=sys.stderr)

    def _report(self, sweep_dir: Path) -> None:
        try:
            from msvdd.reports.study import report  # pandas, matplotlib: only when a sweep reports

            report(self.study, sweep_dir, echo=log.info)
        except Exception as e:  # noqa: BLE001 - the study is stored; a failed report must not fail the sweep
            log.warning("writing the study report to %s failed: %s", sweep_dir, one_line(e))

    def _ask(self) -> Any:
        """Next trial to run (params suggested), or None when the study has used its budget."""
        import optuna
        from optuna.trial import TrialState

        assert self.spec is not None and self._heartbeat is not None
        study = self.study
        while True:
            with storage_lock(self.spec):
                self._heartbeat.fail_stale()
                trials = study.get_trials(deepcopy=False)
                waiting = any(t.state == TrialState.WAITING for t in trials)
                if budget_count(trials) >= self.n_trials and not waiting:
                    return None
                if self.seed is not None:
                    # a fresh sampler seeded with seed + the next trial number: reproducible for one
                    # worker, and neither a resume nor a concurrent worker replays earlier samples
                    study.sampler = self._make_sampler(self._trial_seed(len(trials)))
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*[Hh]eartbeat.*")
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    trial = study.ask()
                self._heartbeat.add(trial._trial_id, trial.number)
                trials = study.get_trials(deepcopy=False)
                superseded = superseded_numbers(trials)
                rank = budget_count([t for t in trials if t.number <= trial.number], superseded)
                if rank > self.n_trials:
                    reason = (
                        f"discarded before running: {rank - 1} earlier trials already fill n_trials="
                        f"{self.n_trials} (another worker asked at the same time)"
                    )
                    self._finish(trial, reason=reason, state=TrialState.PRUNED, attr="discarded")
                    return None
                try:
                    for param in self.space.values():
                        param.suggest(trial)
                except Exception as e:  # noqa: BLE001 - recorded as the trial's fail_reason
                    self._finish(trial, reason=f"could not sample parameters: {one_line(e)}")
                    continue
                return trial

    def _trial_overrides(self, trial: Any) -> list[str]:
        params = trial.params
        return list(self.fixed) + [
            p.override(params[name]) for name, p in self.space.items() if name in params
        ]

    def _run_batch(self, batch: list[Any]) -> None:
        assert self.launcher is not None
        jobs: list[list[str]] = []
        slots: list[tuple[Any, int]] = []
        for trial in batch:
            try:
                overrides = self._trial_overrides(trial)
                trial.set_user_attr("overrides", overrides)
                trial.set_user_attr("worker", WORKER)
                if len(self.combos) > 1:
                    trial.set_user_attr("average_over", [" ".join(c) for c in self.combos])
                trial_jobs = [
                    overrides + combo + self._subdir(trial.number, i) for i, combo in enumerate(self.combos)
                ]
                self.validate_batch_is_legal(trial_jobs)
            except Exception as e:  # noqa: BLE001 - recorded as the trial's fail_reason
                self._finish(trial, reason=f"invalid overrides: {one_line(e)}")
                continue
            jobs.extend(trial_jobs)
            slots.append((trial, len(trial_jobs)))
        if not jobs:
            return
        try:
            results = self.launcher.launch(jobs, initial_job_idx=self.job_idx)
        except BaseException as e:  # the batch has no result: its trials are lost, not failed by their params
            why = _why_lost(e)
            for trial, _ in slots:
                self._finish(trial, reason=f"lost: {why}", attr="lost")
            if not isinstance(e, Exception):  # Ctrl-C, SystemExit
                raise
            log.error("the launcher failed on the jobs of trial(s) %s: %s; the search stops here",
                      [trial.number for trial, _ in slots], why)
            self._launcher_broke = True
            return
        self.job_idx += len(jobs)
        position = 0
        for trial, count in slots:
            self._score(trial, list(results[position : position + count]))
            position += count

    def _score(self, trial: Any, results: list[JobReturn]) -> None:
        values: list[float | None] = []
        reason = None
        for combo, ret in zip(self.combos, results):
            if ret.status == JobStatus.COMPLETED:
                value, reason = value_or_reason(ret._return_value)
            elif ret.status == JobStatus.FAILED:
                value, reason = None, one_line(ret._return_value)
            else:
                value, reason = None, f"job finished with status {ret.status.name}"
            values.append(value)
            if reason is not None:
                if combo:
                    reason = f"[{' '.join(combo)}] {reason}"
                break
        attrs = {"values": values} if len(self.combos) > 1 else {}
        if reason is not None:
            self._finish(trial, reason=reason, attrs=attrs)
        else:
            self._finish(trial, value=sum(values) / len(values), attrs=attrs)  # type: ignore[arg-type]

    def _finish(
        self,
        trial: Any,
        value: float | None = None,
        reason: str | None = None,
        state: Any = None,
        attr: str = "fail_reason",
        attrs: dict[str, Any] | None = None,
    ) -> None:
        """Tell the study; a result for a trial that another worker already failed is logged, not raised.

        ``attr`` names the user attr that holds ``reason``: ``fail_reason`` (the trial's jobs failed: it
        counts toward ``n_trials``), ``lost`` (no result: launcher broken, interrupted; not counted) or
        ``discarded`` (over budget, never ran).
        """
        from optuna.trial import TrialState

        assert self._heartbeat is not None
        self._told += attr != "discarded"
        shown = " ".join(self.space[n].override(v) for n, v in trial.params.items() if n in self.space)
        try:
            for key, item in (attrs or {}).items():
                trial.set_user_attr(key, item)
            if reason is not None:
                trial.set_user_attr(attr, one_line(reason))
                self.study.tell(trial, state=state or TrialState.FAIL)
            else:
                self.study.tell(trial, value)
        except Exception as e:  # noqa: BLE001 - e.g. UpdateFinishedTrialError; logged, the sweep goes on
            log.warning(
                "trial %d: result not recorded (%s); another worker may have failed it after its "
                "heartbeat went stale",
                trial.number,
                one_line(e),
            )
            self._failed.append((trial.number, f"result not recorded ({one_line(e, 200)})", True))
            return
        finally:
            self._heartbeat.remove(trial._trial_id)
        if reason is not None and attr != "discarded":
            self._failed.append((trial.number, one_line(reason, 300), attr == "lost"))
        if reason is None:
            log.info("trial %d: value=%.6g  params: %s", trial.number, value, shown or "-")
        elif attr == "discarded":
            log.info("trial %d: %s", trial.number, reason)
        else:
            log.info("trial %d: FAIL (%s)  params: %s", trial.number, one_line(reason, 300), shown or "-")


def _why_lost(err: BaseException) -> str:
    return "interrupted" if isinstance(err, KeyboardInterrupt) else f"launcher error: {one_line(err)}"


def _container(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, DictConfig):
        return OmegaConf.to_container(value, resolve=True)  # type: ignore[return-value]
    return dict(value)
