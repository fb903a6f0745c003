"""Toy Hydra app for tests/test_optuna_sweeper.py: value = -(x-2)^2 + y + bonus.value + k."""

import math
import os
import sys
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig):
    if cfg.marker_dir:  # lets a test see that a trial has started (and kill the worker)
        Path(cfg.marker_dir).mkdir(parents=True, exist_ok=True)
        first = not any(Path(cfg.marker_dir).iterdir())
        (Path(cfg.marker_dir) / f"{os.getpid()}-{time.time_ns()}").touch()
        if first and cfg.sleep_first:  # the first trial waits to be killed; a resume runs the same settings
            time.sleep(cfg.sleep_first)
    if cfg.barrier_dir:  # concurrency test: wait until `barrier_n` worker processes run a trial
        barrier = Path(cfg.barrier_dir)
        barrier.mkdir(parents=True, exist_ok=True)
        (barrier / str(os.getpid())).touch()
        deadline = time.time() + 60
        while len(list(barrier.iterdir())) < cfg.barrier_n and time.time() < deadline:
            time.sleep(0.05)
    if cfg.sleep:
        time.sleep(cfg.sleep)
    if cfg.opt not in (None, "adam"):
        raise ValueError(f"opt must round-trip as null or 'adam', got {cfg.opt!r}")
    if cfg.fail or cfg.mode == "fail":
        raise ValueError(f"toy failure\nat x={cfg.x}")
    if cfg.mode == "give_nan":
        return math.nan
    if cfg.mode == "give_none":
        return None
    return -((cfg.x - 2.0) ** 2) + cfg.y + cfg.bonus.value + cfg.k


if __name__ == "__main__":
    main()
    from msvdd.tuning import failures

    sys.exit(1 if failures.failed_jobs() else 0)  # as msvdd.app: a search with a failed trial exits 1
