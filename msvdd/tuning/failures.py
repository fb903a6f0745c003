"""The failed jobs of the last sweep in this process: the grid sweeper records them, ``msvdd.app`` reads them.

The sweeper lists each failed job when its sweep ends; Hydra then runs its end-of-sweep callbacks (a
table sweep still writes its table) and ``msvdd.app.main`` exits with status 1 when a job failed.
A sweeper's return value does not travel back through Hydra, so the count lives here, in msvdd.
"""

from __future__ import annotations

_failed_jobs = 0


def record(count: int) -> None:
    """The number of jobs of the sweep that just ended that did not complete (0: all did)."""
    global _failed_jobs
    _failed_jobs = int(count)


def failed_jobs() -> int:
    """Jobs that failed in the last sweep of this process (0 when none failed or no sweep ran)."""
    return _failed_jobs
