"""Reading a run's results.json back: the one reader shared by the table, compare, the table sweep's
end-of-sweep callback (through the table) and a run's check before a sweep skips it.

:func:`read_results` says why a record is not counted (the table lists those runs with the reason);
:func:`read_complete` is the skip check: a complete, valid record of the same settings, or None.
The record itself is written by :mod:`msvdd.run.records`.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

REQUIRED = ("dataset", "normal_classes", "method", "seed", "auroc", "settings_id")


def read_results(path: Path) -> tuple[dict | None, str]:
    """``(record, "")`` when the run counts in a table, else ``(None, why it does not)``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return None, f"unreadable results.json ({type(err).__name__}: {err})"
    if not isinstance(data, dict) or data.get("status") != "complete":
        return None, f"status {data.get('status') if isinstance(data, dict) else None!r}, not 'complete'"
    auroc = data.get("auroc")
    if isinstance(auroc, bool) or not isinstance(auroc, (int, float)) or not math.isfinite(auroc):
        return None, f"no AUROC in results.json (auroc={auroc!r})"
    if not data.get("normal_classes") or data.get("method") is None or data.get("seed") is None:
        return None, "results.json lacks normal_classes, method or seed"
    return data, ""


def read_complete(path: str | os.PathLike, settings_id: str | None = None) -> dict | None:
    """The record if it is complete and valid (and of the same settings when given), else None."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("status") != "complete":
        return None
    if any(record.get(k) is None for k in REQUIRED):
        return None
    auroc = record["auroc"]  # as the table counts it: a finite number, else the job runs again
    if isinstance(auroc, bool) or not isinstance(auroc, (int, float)) or not math.isfinite(auroc):
        return None
    if settings_id is not None and record["settings_id"] != settings_id:
        return None
    return record
