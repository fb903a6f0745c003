"""The failed jobs of the last sweep in this process: the grid sweeper records them, ``msvdd.app`` reads them.

The sweeper lists each failed job when its sweep ends; Hydra then runs its end-of-sweep callbacks (a
table sweep still writes its table) and ``msvdd.app.main`` exits with status 1 when a job failed.
A sweeper's return value does not travel back through Hydra, so the count lives here, in msvdd.

The Optuna sweeper records its failed trials the same way; :func:`search_summary` is what it prints.
It also holds the sweeper's note on a trial it failed because its worker was lost (:data:`LOST_ATTR`),
which the study report (``msvdd.reports.study``) reads back.
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


LOST_ATTR = "msvdd:lost"  # system attr of a RUNNING trial failed for its worker: {"trial": number, "reason": why}


def lost_reason(trial) -> str:
    """Why the sweeper failed a RUNNING trial for its worker ('' if not; a retry's copied note is not its own)."""
    note = trial.system_attrs.get(LOST_ATTR)
    return str(note.get("reason") or "") if isinstance(note, dict) and note.get("trial") == trial.number else ""


def search_summary(study: str, ran: int, failed: list[tuple[int, str, bool]], failed_in_study: int,
                   no_result: bool) -> str:
    """What an Optuna search says on stderr when it ends badly ('' when it does not).

    ``failed``: this run's trials without a value, as ``(number, reason, lost)``; ``no_result``: the study
    ends with no complete trial and none running. The first line says how many; then one line per trial.
    """
    nothing = f"the study has no complete trial ({failed_in_study} failed): no best params"
    if not failed:
        return (f"msvdd: error: study '{study}' has no complete trial ({failed_in_study} failed, none running): "
                "no best params; trials.csv has the reasons") if no_result else ""
    first = f"{len(failed)} of {ran} trials of study '{study}' failed in this run"
    lost = sum(1 for _, _, is_lost in failed if is_lost)
    if lost:
        first += (f" ({lost} lost: not counted toward n_trials; run the same command again to run "
                  f"{'another' if lost == 1 else 'others'} in {'its' if lost == 1 else 'their'} place)")
    first += "; each is recorded FAIL with its reason (trials.csv)" + (f"; {nothing}" if no_result else "")
    return "\n".join([f"msvdd: error: {first}:"] + [f"  trial {n}: {reason}" for n, reason, _ in failed])
