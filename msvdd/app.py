"""The Hydra app: ``python -m msvdd [overrides]`` (one run) or ``python -m msvdd -m ...`` (a sweep).

It composes the config, hands it to :func:`msvdd.run.run` and turns the errors a user can fix
into one line and a non-zero exit. Nothing else happens here.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from msvdd.errors import MsvddError

log = logging.getLogger("msvdd")
CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")  # conf/ at the repository root
USER_ERRORS = (MsvddError,)


def short_dirname(name: str, limit: int = 160) -> str:
    """A job folder name from its overrides, cut to ``limit`` characters plus a hash when longer.

    Sweep jobs are found again by their folder (resume), so the name must be stable and unique;
    a tuned override line easily passes the 255-byte limit of a file name.
    """
    if len(name) <= limit:
        return name
    return f"{name[:limit]}~{hashlib.sha1(name.encode()).hexdigest()[:12]}"


OmegaConf.register_new_resolver("msvdd_short", short_dirname, replace=True)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> float:
    from msvdd.run import run

    hydra_cfg = HydraConfig.get()
    try:
        return run(cfg, hydra_cfg.runtime.output_dir)
    except USER_ERRORS as err:
        if hydra_cfg.mode == RunMode.MULTIRUN:  # the sweeper records the failure and goes on
            log.error("job failed: %s", err)
            raise
        print(f"msvdd: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
