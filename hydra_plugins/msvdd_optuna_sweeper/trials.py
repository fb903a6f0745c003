"""Trial accounting and heartbeats of the msvdd Optuna sweeper.

Which stored trials use up ``n_trials``, how a job's return value becomes a trial value or a
failure reason, and the heartbeat that marks a killed worker's RUNNING trial FAIL (see the
sweeper module's docstring for the whole scheme).
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

log = logging.getLogger(__name__)

HEARTBEAT_ATTR = "msvdd:heartbeat"


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
    """How many of ``trials`` use up ``n_trials`` budget (see module docstring)."""
    from optuna.trial import TrialState

    if superseded is None:
        superseded = superseded_numbers(trials)
    counted = (TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)
    return sum(
        1
        for t in trials
        if t.state in counted and not (t.state == TrialState.FAIL and t.number in superseded)
    )


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

    def add(self, trial_id: int) -> None:
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

    def fail_stale(self) -> list[int]:
        """Mark RUNNING trials without a recent heartbeat FAIL; returns their numbers."""
        if not self.enabled:
            return []
        import optuna
        from optuna.trial import TrialState

        running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            return []
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
                try:
                    changed = self.storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
                except optuna.exceptions.UpdateFinishedTrialError:
                    continue
                if changed:
                    failed.append(t.number)
                    if self.on_stale is not None:
                        self.on_stale(self.study, copy.deepcopy(self.storage.get_trial(t._trial_id)))
        if failed:
            log.warning(
                "marked stale RUNNING trial(s) %s FAIL: no heartbeat for > %d s (worker killed?)%s",
                failed,
                self.grace,
                "; re-queued for retry" if self.on_stale is not None else "",
            )
        return failed
