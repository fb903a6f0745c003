"""Hydra callbacks (``hydra.callbacks`` in conf/hydra/default.yaml): what must happen around jobs.

* :class:`OutputCheck`: before Hydra creates the run or sweep folder (and writes ``.hydra/`` and
  ``app.log`` in it), every output must lie outside the input data (msvdd.run.places) and the folder
  must be writable, else Hydra's own ``mkdir`` ends in a traceback; here it is msvdd's one line and exit 2.
* :class:`StopWithSweep`: a sweep job in a process the sweep started on this machine (joblib's
  worker, submitit_local's job under its controller) stops when the sweep's main process is gone
  (killed), instead of training on for hours unseen. Cluster jobs (submitit_slurm) are left alone.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from msvdd.errors import MsvddError, OutputError, exit_with
from msvdd.run import places

log = logging.getLogger("msvdd")
SWEEP_PID = "MSVDD_SWEEP_PID"  # set by the sweep's main process, inherited by its workers


def check_writable(folder: str | os.PathLike, what: str) -> None:
    """Create ``folder`` and a file in it, or raise OutputError naming the folder and the reason."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputError(f"{what} {folder} cannot be written ({err.strerror or err}); set MSVDD_OUTPUTS "
                          "or paths.root_dir to a writable folder") from None


class OutputCheck(Callback):
    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        self._check(config, "hydra.run.dir", "the run folder")

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self._check(config, "hydra.sweep.dir", "the sweep folder")

    @staticmethod
    def _check(config: DictConfig, key: str, what: str) -> None:
        folder = OmegaConf.select(config, key)
        try:
            places.check(config, {key: folder})  # before anything is created
            check_writable(folder, what)
        except MsvddError as err:
            exit_with(err)


class StopWithSweep(Callback):
    """The main process marks itself; a job in a worker it started watches it and exits when it dies."""

    def __init__(self, poll_s: float = 2.0) -> None:
        self.poll_s = poll_s

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        os.environ[SWEEP_PID] = str(os.getpid())

    def on_job_start(self, config: DictConfig, **kwargs) -> None:
        # only a worker the sweep started itself (joblib, submitit_local); a cluster job (SLURM) is
        # meant to outlive the process that submitted it, and runs elsewhere anyway
        sweep_pid = int(os.environ.get(SWEEP_PID) or 0)
        if not sweep_pid or sweep_pid == os.getpid():
            return
        link = sweep_link(sweep_pid)
        if link is not None:
            threading.Thread(target=_watch, args=(sweep_pid, link, self.poll_s), name="msvdd-stop-with-sweep",
                             daemon=True).start()
        elif lost_its_sweep(config):  # killed before this call (Hydra writes app.log first): reparented already
            stop(sweep_pid)


def sweep_link(sweep_pid: int):
    """A check that stays true while the sweep lives, or None when this process does not descend from it.

    A joblib worker is the sweep's child; a submitit_local job is its grandchild, under submitit's
    controller process, which does not stop its job when the sweep dies. Either is reparented (to init)
    the moment the process above it dies, so the parent link is the signal; no pid is polled that the
    system could hand to another process.
    """
    if os.getppid() == sweep_pid:
        return lambda: os.getppid() == sweep_pid
    controller = os.getppid()
    if parent_of(controller) == sweep_pid:
        return lambda: parent_of(controller) == sweep_pid
    return None


def parent_of(pid: int) -> int | None:
    """The parent pid of another process (Linux /proc; None elsewhere or once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def lost_its_sweep(config: DictConfig) -> bool:
    """Whether this job, which no longer descends from the sweep, ran in a process the sweep started here.

    joblib: always (its worker was the sweep's child). submitit_local: when its controller can be seen
    (Linux /proc) to have been reparented; elsewhere nothing can be told, so the job runs.
    """
    target = str(OmegaConf.select(config, "hydra.launcher._target_") or "")
    if target.endswith("JoblibLauncher"):
        return True
    return target.endswith("LocalLauncher") and parent_of(os.getppid()) is not None


def _watch(sweep_pid: int, link, poll_s: float) -> None:
    while link():
        time.sleep(poll_s)
    stop(sweep_pid)


def stop(sweep_pid: int) -> None:
    """End this worker process at once: its sweep is gone, so nobody would collect what it computes."""
    log.error("the sweep's main process (pid %d) is gone: stopping this job (no results written)", sweep_pid)
    logging.shutdown()
    os._exit(3)
