"""Trial accounting and heartbeats of the msvdd Optuna sweeper.

Which stored trials use up ``n_trials``, how a job's return value becomes a trial value or a
failure reason, and how a killed worker's RUNNING trial is marked FAIL: at once when the worker
was a process of this machine that no longer exists, else when its heartbeat goes stale (see the
sweeper module's docstring for the whole scheme).

A trial uses up ``n_trials`` when it ran to an outcome: COMPLETE, or FAIL with the reason its own
jobs gave (user attr ``fail_reason``), or still RUNNING/WAITING. A trial that was *lost* (its
worker killed, the launcher broken, Ctrl-C) is recorded FAIL too, but it does not count: running
the same command again runs another trial in its place.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from msvdd.tuning.failures import LOST_ATTR

log = logging.getLogger(__name__)

HEARTBEAT_ATTR = "msvdd:heartbeat"
PROCESS_ATTR = "msvdd:process"  # the process that asked the trial: {host, pidns, pid, start, trial}


def one_line(text: Any, limit: int = 1000) -> str:
    """Collapse whitespace/newlines; exceptions become ``Type: message``."""
    if isinstance(text, BaseException):
        message = str(text)
        text = f"{type(text).__name__}: {message}" if message else type(text).__name__
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def superseded_numbers(trials: Iterable[Any]) -> set[int]:
    """Numbers of stale trials that were re-queued by the retry callback (counted via their retry)."""
    numbers: set[int] = set()
    for trial in trials:
        numbers.update(int(n) for n in trial.system_attrs.get("retry_history", None) or ())
    return numbers


def budget_count(trials: Sequence[Any], superseded: set[int] | None = None) -> int:
    """How many of ``trials`` use up ``n_trials`` budget (see module docstring).

    A FAIL trial counts only with the ``fail_reason`` its jobs gave: a lost trial (no result: its
    worker was killed, its heartbeat went stale, the launcher broke) has none and does not count,
    nor does a stale trial re-queued by the retry callback (its retry counts).
    """
    from optuna.trial import TrialState

    if superseded is None:
        superseded = superseded_numbers(trials)
    counted = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
    return sum(
        1
        for t in trials
        if t.state in counted
        or (t.state == TrialState.FAIL and t.number not in superseded and "fail_reason" in t.user_attrs)
    )


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: a worker's process cannot be checked, its heartbeat still can
        return None


def _start_time(pid: int) -> str | None:
    """Start time of a live process ``pid`` (``None``: no such process, or a zombie)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def this_process(trial_number: int) -> dict[str, Any]:
    """Who runs trial ``trial_number``: enough to tell later, on this machine, that it is gone."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pidns": _pid_namespace(), "pid": pid,
            "start": _start_time(pid), "trial": int(trial_number)}


def gone_worker(trial: Any) -> str | None:
    """``host:pid`` of ``trial``'s worker when it was a process of this machine that no longer exists.

    ``None`` when it lives, or cannot be checked: another machine or container (another host name
    or pid namespace), no ``/proc``, a trial asked before workers recorded themselves. A pid taken
    by a new process is told apart by its start time.
    """
    who = trial.system_attrs.get(PROCESS_ATTR)
    if not isinstance(who, dict) or who.get("trial") != trial.number or who.get("pid") == os.getpid():
        return None
    namespace = _pid_namespace()
    if namespace is None or who.get("host") != socket.gethostname() or who.get("pidns") != namespace:
        return None
    if _start_time(int(who["pid"])) == who.get("start"):
        return None
    return f"{who['host']}:{who['pid']}"


def value_or_reason(returned: Any) -> tuple[float | None, str | None]:
    """A job's return value as a float, or ``(None, why it is not usable)``."""
    if returned is None:
        return None, "returned None"
    if isinstance(returned, (str, bytes)) or hasattr(returned, "keys"):
        return None, f"returned a {type(returned).__name__}, not a number: {one_line(repr(returned), 200)}"
    try:
        value = float(returned)
    except (TypeError, ValueError):
        return None, f"returned a {type(returned).__name__}, not a number: {one_line(repr(returned), 200)}"
    if math.isnan(value):
        return None, "returned NaN"
    return value, None


class _Heartbeat:
    """Heartbeats of this worker's RUNNING trials + failing other workers' stale trials."""

    def __init__(
        self, study: Any, storage: Any, interval: int | None, grace: int | None, on_stale: Any
    ) -> None:
        self.study = study
        self.storage = storage
        self.interval = int(interval) if interval else 0
        self.grace = int(grace) if grace else 2 * self.interval
        self.on_stale = on_stale
        self.native = bool(self.interval) and callable(getattr(storage, "record_heartbeat", None))
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.interval)

    def _beat(self, trial_id: int) -> None:
        if self.native:
            self.storage.record_heartbeat(trial_id)
        else:
            self.storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def add(self, trial_id: int, number: int) -> None:
        """Record this process as trial ``number``'s worker; heartbeats from now on (when enabled)."""
        try:
            self.storage.set_trial_system_attr(trial_id, PROCESS_ATTR, this_process(number))
        except Exception as e:  # noqa: BLE001 - the heartbeat still tells a dead worker
            log.warning("could not record the worker of trial %d: %s", number, one_line(e))
        if not self.enabled:
            return
        try:
            self._beat(trial_id)
        except Exception as e:  # noqa: BLE001 - a failed heartbeat must not kill the sweep
            log.warning("heartbeat for trial id %d failed: %s", trial_id, one_line(e))
        with self._lock:
            self._ids.add(trial_id)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="msvdd-optuna-heartbeat", daemon=True)
            self._thread.start()

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self._ids.discard(trial_id)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                ids = sorted(self._ids)
            for trial_id in ids:
                try:
                    self._beat(trial_id)
                except Exception as e:  # noqa: BLE001 - keep beating the other trials
                    log.debug("heartbeat for trial id %d failed: %s", trial_id, one_line(e))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _fail(self, trial: Any, reason: str) -> bool:
        """Mark a RUNNING trial FAIL as lost (its reason stored first: a finished trial takes no attrs)."""
        import optuna
        from optuna.trial import TrialState

        try:
            self.storage.set_trial_system_attr(trial._trial_id, LOST_ATTR, {"trial": trial.number, "reason": reason})
            changed = self.storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False
        if changed and self.on_stale is not None:
            self.on_stale(self.study, copy.deepcopy(self.storage.get_trial(trial._trial_id)))
        return bool(changed)

    def fail_stale(self) -> list[int]:
        """Mark FAIL the RUNNING trials whose worker is gone or went quiet; returns their numbers.

        A worker process of this machine that no longer exists is seen at once (heartbeat or not);
        any other worker only when its heartbeat is older than the grace period.
        """
        import optuna
        from optuna.trial import TrialState

        running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        gone = {t.number: gone_worker(t) for t in running}
        dead = [t.number for t in running
                if gone[t.number] and self._fail(t, f"its worker {gone[t.number]} is gone (killed?) before it "
                                                    "finished: lost, not counted toward n_trials")]
        if dead:
            log.warning(
                "marked RUNNING trial(s) %s FAIL: their worker process is gone (%s); not counted toward n_trials%s",
                dead, ", ".join(sorted({w for w in gone.values() if w})),
                "; re-queued for retry" if self.on_stale is not None else "",
            )
        running = [t for t in running if not gone[t.number]]
        if not self.enabled or not running:
            return dead
        failed: list[int] = []
        if self.native:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(self.study)
            states = {t.number: t.state for t in self.study.get_trials(deepcopy=False)}
            failed = [t.number for t in running if states.get(t.number) == TrialState.FAIL]
        else:
            now = time.time()
            for t in running:
                stamp = t.system_attrs.get(HEARTBEAT_ATTR)
                if stamp is None or now - float(stamp) <= self.grace:
                    continue
                if self._fail(t, f"no heartbeat for > {self.grace} s (its worker killed?): lost, not counted "
                                 "toward n_trials"):
                    failed.append(t.number)
        if failed:
            log.warning(
                "marked stale RUNNING trial(s) %s FAIL: no heartbeat for > %d s (worker killed?); not counted "
                "toward n_trials%s",
                failed,
                self.grace,
                "; re-queued for retry" if self.on_stale is not None else "",
            )
        return dead + failed
