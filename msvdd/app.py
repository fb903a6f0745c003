"""The Hydra app: ``python -m msvdd [overrides]`` (one run) or ``python -m msvdd -m ...`` (a sweep).

It composes the config, hands it to :func:`msvdd.run.job.run` and turns the errors a user can fix
into one line and a non-zero exit. Nothing else happens here.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from msvdd.errors import MsvddError, OutputError, exit_with, portable
from msvdd.run import hydra_errors, retired
from msvdd.run.job_dirs import job_dirname, short_dirname

log = logging.getLogger("msvdd")
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM, errno.ENOTDIR, errno.EISDIR}
CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")  # conf/ at the repository root


OmegaConf.register_new_resolver("msvdd_short", short_dirname, replace=True)
OmegaConf.register_new_resolver("msvdd_job_dir", job_dirname, replace=True)  # sweep job folders (run/job_dirs.py)
OmegaConf.register_new_resolver("msvdd_pid", os.getpid, replace=True)  # run folders: one per process


def user_error(err: Exception) -> MsvddError | None:
    """The errors a user fixes outside msvdd (a full disk, a folder without write permission) as one line."""
    if isinstance(err, MsvddError):
        return err
    if isinstance(err, OSError) and err.errno in WRITE_ERRNOS:
        what = err.filename or "the run's files"
        return OutputError(f"cannot write {what}: {err.strerror}; free space or fix the permissions, or "
                           "write elsewhere (MSVDD_OUTPUTS, paths.root_dir); complete runs are kept")
    return None


def main() -> None:
    """``python -m msvdd`` and the ``msvdd`` console script.

    Hydra prints a traceback for errors outside the job (its own writes into the run folder on a
    full disk, say); with HYDRA_FULL_ERROR it re-raises them instead, and those a user can fix end
    here as one line with exit 2, as do Hydra's errors about the command line (msvdd.run.hydra_errors:
    a misspelled key, an option that does not exist). Bugs keep their traceback. Ctrl-C is one line, exit 130.
    """
    try:
        retired.check(sys.argv[1:])  # an old spelling: the new one, before Hydra's longer error
    except MsvddError as err:
        exit_with(err)
    try:
        _main()
    except KeyboardInterrupt:
        sweep = any(a in ("-m", "--multirun") for a in sys.argv[1:])
        print("msvdd: interrupted (Ctrl-C): " + ("complete jobs are kept; run the same command again to resume"
              if sweep else "the run stopped before results.json was written; run it again to start over"),
              file=sys.stderr)
        raise SystemExit(130) from None
    from msvdd.tuning import failures

    if failures.failed_jobs():  # recorded and listed, one line each, by the grid sweeper
        raise SystemExit(1)


def _main() -> None:
    if os.environ.get("HYDRA_FULL_ERROR") == "1":  # the user asked for full tracebacks
        hydra_main()
        return
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        hydra_main()
    except Exception as err:  # noqa: BLE001 - sorted below
        mine = user_error(err) or hydra_errors.as_user_error(err)
        if mine is not None:
            exit_with(mine)
        if isinstance(err, CompactHydraException):  # as Hydra prints it
            cause = err.__cause__ if isinstance(err.__cause__, OmegaConfBaseException) else None
            print(str(err) + (f"\n{cause}" if cause else ""), file=sys.stderr)
            raise SystemExit(1) from None
        raise
    finally:
        os.environ.pop("HYDRA_FULL_ERROR", None)


def _shown(folder: str) -> str:
    """``folder`` relative to the working directory when it lies below it (outputs/runs/...), else absolute."""
    path, here = Path(folder).absolute(), Path.cwd()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def hydra_main(cfg: DictConfig) -> float:
    from msvdd.run.job import run

    hydra_cfg = HydraConfig.get()
    sweep_job = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        auroc = run(cfg, hydra_cfg.runtime.output_dir)
        if not sweep_job:  # the last line: where the results are (a sweep's jobs say so in the sweep's table)
            print(f"msvdd: wrote {_shown(hydra_cfg.runtime.output_dir)}")
        return auroc
    except KeyboardInterrupt:
        log.error("interrupted (Ctrl-C): no results.json was written for this run")  # app.log says why it ended
        raise
    except Exception as err:  # noqa: BLE001 - sorted below: a user's error, or a bug with its traceback
        mine = user_error(err)
        if mine is None:
            if not sweep_job:
                raise
            log.exception("job failed")  # the traceback goes to this job's log file
            raise portable(err) from None  # the sweeper records the reason and goes on
        if sweep_job:
            log.error("job failed: %s", mine)
            raise mine from None
        exit_with(mine)


if __name__ == "__main__":
    main()
