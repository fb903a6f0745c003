"""Models a stacked launcher fitted before their jobs run: handed to each job's run by its output folder.

The launcher fits a stack, ``put``s each model with the data it was fitted on, then runs every job as
the default launcher does (Hydra's run_job: folder, logs, callbacks); the job's run (msvdd.run.job)
``take``s its model instead of fitting one. Nothing is kept once taken.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_FITTED: dict[str, Fitted] = {}


@dataclass
class Fitted:
    model: object
    data: object


def _key(out_dir) -> str:
    return os.path.realpath(os.fspath(out_dir))


def put(out_dir, model, data) -> None:
    _FITTED[_key(out_dir)] = Fitted(model, data)


def take(out_dir) -> Fitted | None:
    """The model fitted for the job writing to ``out_dir`` (and its data), once; None for a job fitted alone."""
    return _FITTED.pop(_key(out_dir), None)


def clear() -> None:
    _FITTED.clear()
