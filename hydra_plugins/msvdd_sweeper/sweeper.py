"""The default sweeper of ``python -m msvdd -m``: every job runs, failures are summed up at the end.

Hydra's basic sweeper raises the first failed job's error after its batch, so later batches never
run, and it prints a traceback. Here every batch runs; each failed job is reported with its
one-line reason, and ``python -m msvdd`` exits with status 1 when any job failed (after the
end-of-sweep callbacks, so a table sweep still writes its table). A launcher that breaks
(a worker killed, a result that cannot travel back) loses only its batch: its jobs are reported
as failed and the next batch runs. Rerunning the same command resumes: complete jobs are skipped.
"""

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


@dataclass
class MsvddSweeperConf:
    _target_: str = "hydra_plugins.msvdd_sweeper.sweeper.MsvddSweeper"
    # (no `from __future__ import annotations`: Hydra imports plugin modules outside sys.modules,
    # where dataclasses cannot resolve string annotations)
    max_batch_size: Optional[int] = None  # noqa: UP045 - jobs handed to the launcher at once (null: all)
    params: Optional[dict[str, str]] = None  # noqa: UP045


ConfigStore.instance().store(group="hydra/sweeper", name="msvdd", node=MsvddSweeperConf, provider="msvdd")


def _one_line(err: Any) -> str:
    from msvdd.errors import one_line

    return one_line(err) if isinstance(err, BaseException) else " ".join(str(err).split())


class MsvddSweeper(Sweeper):
    """Grid sweep over the command line's comma lists (as Hydra's basic sweeper) that outlives failed jobs."""

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None) -> None:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

        self._grid = BasicSweeper(max_batch_size=max_batch_size, params=params)  # its batching, reused

    def setup(self, *, hydra_context, task_function, config) -> None:
        self._grid.setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.config, self.launcher, self.hydra_context = config, self._grid.launcher, hydra_context

    def sweep(self, arguments: list[str]) -> Any:
        grid = self._grid
        params = [f"{k}={v}" for k, v in (grid.params or {}).items()] + list(arguments)
        grid.overrides = grid.split_arguments(
            OverridesParser.create(config_loader=self.hydra_context.config_loader).parse_overrides(params),
            grid.max_batch_size)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        returns, failed, n_jobs = [], [], 0
        while not grid.is_done():
            batch = grid.get_job_batch()
            grid.validate_batch_is_legal(batch)  # a typo in a key or group fails here, before any job
            tic = time.perf_counter()
            try:
                results = self.launcher.launch(batch, initial_job_idx=n_jobs)
            except Exception as err:  # noqa: BLE001 - lose this batch, not the sweep
                log.error("the launcher failed on jobs #%d-#%d: %s", n_jobs, n_jobs + len(batch) - 1, _one_line(err))
                failed += [(n_jobs + i, job, f"launcher error: {_one_line(err)}") for i, job in enumerate(batch)]
            else:
                for i, (job, ret) in enumerate(zip(batch, results)):
                    if ret.status != JobStatus.COMPLETED:
                        failed.append((n_jobs + i, job, _one_line(ret._return_value)))
                returns.append(results)
            log.debug("batch of %d jobs took %.1f s", len(batch), time.perf_counter() - tic)
            n_jobs += len(batch)
        from msvdd.tuning import failures

        failures.record(len(failed))  # msvdd.app.main exits 1 after Hydra's end-of-sweep callbacks
        if failed:
            lines = [f"msvdd: error: {len(failed)} of {n_jobs} sweep jobs failed (the others ran; "
                     "run the same command again to redo only the missing jobs):"]
            lines += [f"  #{num} {' '.join(job)}: {reason}" for num, job, reason in failed]
            print("\n".join(lines), file=sys.stderr)
        return returns
