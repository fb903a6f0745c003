"""``hydra/launcher=stacked``: Hydra's basic launcher (one process, jobs in order), except that the Deep SVDD
jobs of a batch that can train together are first fitted as stacks (msvdd.stack).

1. Each job's config is composed and its data loaded, as its run will (msvdd.stack.jobs.plan); jobs
   with one stack key (network, batch size, epochs, optimiser settings, training-set shape) form stacks
   of at most ``max_stack``.
2. Each stack is fitted as one model (msvdd.stack.fit.fit_stack): pretraining and Deep SVDD stacked,
   the clustering model by model.
3. Every job then runs exactly as under the basic launcher (Hydra's run_job: its own run folder, logs,
   callbacks, results.json, model.pt, plots); a stacked job's run takes its fitted model instead of
   fitting (msvdd.stack.registry).

Failures stay the job's own: a job whose config or data fails, or whose model fails or diverges in the
stack, leaves the stack and runs alone in step 3, where it fails (or not) exactly as with the basic
launcher; the sweeper (hydra/sweeper=msvdd) records it and the sweep goes on. A complete job is
skipped in step 1 and again by its run: resume works as with every launcher. The per-epoch log lines
of a stacked fit go to the sweep's log (the launcher's process), not to each job's app.log; the losses
themselves are in each job's model.pt and results.json as usual.
"""

import copy
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

log = logging.getLogger(__name__)


@dataclass
class StackedLauncherConf:
    _target_: str = "hydra_plugins.msvdd_stacked_launcher.launcher.StackedLauncher"
    # (no `from __future__ import annotations`: Hydra imports plugin modules outside sys.modules)
    max_stack: int = 32  # most models trained as one


ConfigStore.instance().store(group="hydra/launcher", name="stacked", node=StackedLauncherConf, provider="msvdd")


class StackedLauncher(Launcher):
    def __init__(self, max_stack: int = 32) -> None:
        if isinstance(max_stack, bool) or not isinstance(max_stack, int) or max_stack < 1:
            from msvdd.errors import ConfigError

            raise ConfigError("hydra.launcher.max_stack", max_stack, "an int >= 1 (1: no stacking)")
        self.max_stack = max_stack
        self.config: Optional[DictConfig] = None  # noqa: UP045
        self.task_function = None
        self.hydra_context = None

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        configs = []
        for idx, overrides in enumerate(job_overrides):
            num = initial_job_idx + idx
            sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = num
                sweep_config.hydra.job.num = num
            configs.append((num, overrides, sweep_config))
        self._fit_stacks(configs)
        runs = []
        for num, overrides, sweep_config in configs:
            log.info(f"\t#{num} : {' '.join(filter_overrides(overrides))}")
            runs.append(run_job(hydra_context=self.hydra_context, task_function=self.task_function,
                                config=sweep_config, job_dir_key="hydra.sweep.dir",
                                job_subdir_key="hydra.sweep.subdir"))
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return runs

    def _fit_stacks(self, configs) -> None:
        from msvdd.stack import jobs, registry

        registry.clear()
        if self.max_stack < 2:
            return
        t = time.perf_counter()
        saved = HydraConfig.instance().cfg
        planned = []
        try:
            for num, _, sweep_config in configs:
                HydraConfig.instance().set_config(sweep_config)  # the job's overrides, as its run sees them
                task_cfg = copy.deepcopy(sweep_config)
                with read_write(task_cfg), open_dict(task_cfg):
                    del task_cfg["hydra"]
                planned.append(jobs.plan(num, task_cfg, _output_dir(sweep_config)))
        finally:
            if saved is not None:
                HydraConfig.instance().set_config(saved)
        stacks = jobs.stacks(planned, self.max_stack)
        fitted = sum(jobs.fit_and_register(s) for s in stacks)
        log.info("stacked launcher: %d of %d jobs fitted in %d stacks (%.1f s); the others run alone",
                 fitted, len(configs), len(stacks), time.perf_counter() - t)


def _output_dir(sweep_config: DictConfig) -> Path:
    """The job's run folder as Hydra's run_job computes it."""
    out = str(OmegaConf.select(sweep_config, "hydra.sweep.dir"))
    return Path(os.path.abspath(os.path.join(out, str(OmegaConf.select(sweep_config, "hydra.sweep.subdir")))))
