"""The fixed settings of an Optuna study: what every trial runs besides its sampled parameters.

A study compares its trials, so they must differ in the sampled parameters only. When the msvdd sweeper
creates a study it records the fixed overrides (the command line's plain overrides, the plain values of
``hydra.sweeper.params``) and the ``average_over`` jobs in the study's user attrs (:data:`FIXED_ATTR`); a
later sweep of the study with other ones is refused in one line that names what differs (the trials
would otherwise mix both settings and the best trial be picked across them). A study stored before
the settings were recorded is read off its latest trial's ``overrides``.

Overrides that change only where and how a run writes and computes, not a trial's value (``plots``,
``threads``, ``paths.*``, ``logger``), are not compared. Hydra is imported lazily (see :mod:`msvdd.tuning`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from msvdd.errors import MsvddError

FIXED_ATTR = "msvdd_fixed_settings"
NOT_COMPARED = ("plots", "threads", "logger")  # logger: where a trial is tracked (docs/tracking.md)
NOT_COMPARED_PREFIXES = ("paths.", "logger.")


class StudySettingsError(MsvddError):
    """A sweep of a stored study with other fixed settings than the study's."""


def _setting(line: str) -> tuple[str, str] | None:
    """``(key, canonical 'key=value' text)`` of one override line; ``None`` for the keys not compared."""
    from msvdd.tuning.overrides import format_value, parse_override, plain_value

    try:
        override, _ = parse_override(line)
    except Exception:  # noqa: BLE001 - not Hydra's syntax: compared as typed
        key = line.partition("=")[0].lstrip("+")
        text = line.lstrip("+")
    else:
        key = override.key_or_group + (f"@{override.package}" if override.package else "")
        text = f"~{key}" if override.is_delete() else f"{key}={format_value(plain_value(override.value()))}"
    if key in NOT_COMPARED or key.startswith(NOT_COMPARED_PREFIXES):
        return None
    return key, text


def fixed_settings(fixed: Sequence[str], combos: Sequence[Sequence[str]]) -> dict[str, Any]:
    """What every trial of a sweep runs: ``{"overrides": {key: text}, "average_over": [jobs]}``."""
    overrides: dict[str, str] = {}
    for line in fixed:
        setting = _setting(line)
        if setting is not None:
            overrides[setting[0]] = setting[1]
    return {"overrides": overrides, "average_over": [" ".join(combo) for combo in combos]}


def settings_of_trials(trials: Sequence[Any]) -> dict[str, Any] | None:
    """The fixed settings of a study stored before they were recorded: its latest trial's, or ``None``."""
    for trial in reversed(trials):
        ran = trial.user_attrs.get("overrides")
        if not ran:
            continue
        fixed = [line for line in ran if line.partition("=")[0] not in trial.params]
        combos = [str(c).split() for c in trial.user_attrs.get("average_over") or [""]]
        return fixed_settings(fixed, combos)
    return None


def differences(stored: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """How ``now`` differs from ``stored``, one phrase per setting."""
    out: list[str] = []
    before, after = stored.get("overrides") or {}, now.get("overrides") or {}
    for key in list(before) + [k for k in after if k not in before]:
        if before.get(key) == after.get(key):
            continue
        was = before[key] if key in before else f"{key} not set"
        out.append(f"{was} in the study, {after[key] if key in after else 'not set'} now")
    if list(stored.get("average_over") or [""]) != list(now.get("average_over") or [""]):
        def jobs(value: Any) -> str:
            return "[" + "; ".join(value or [""]) + "]"

        out.append(f"hydra.sweeper.average_over {jobs(stored.get('average_over'))} in the study, "
                   f"{jobs(now.get('average_over'))} now")
    return out


def new_study_hint(storage: Any, study_name: str, sweep_dir: Path) -> str:
    """Overrides that start a new study beside ``study_name``: a free name and a folder of its own."""
    try:
        taken = {s.study_name for s in storage.get_all_studies()}
    except Exception:  # noqa: BLE001 - only the suggestion's name
        taken = {study_name}
    number = 2
    while f"{study_name}_{number}" in taken:
        number += 1
    name = f"{study_name}_{number}"
    return f"hydra.sweeper.study_name={name} hydra.sweep.dir={sweep_dir.parent / name}"


def check_fixed_settings(
    study: Any, fixed: Sequence[str], combos: Sequence[Sequence[str]], *, where: str, hint: Callable[[], str]
) -> None:
    """Record the sweep's fixed settings in a new study; refuse a stored study's with other ones."""
    now = fixed_settings(fixed, combos)
    stored = study.user_attrs.get(FIXED_ATTR)
    if stored is None:
        stored = settings_of_trials(study.get_trials(deepcopy=False))
    if stored is not None:
        diff = differences(stored, now)
        if diff:
            raise StudySettingsError(
                f"study '{study.study_name}' in {where} ran with other fixed settings: {'; '.join(diff)}. "
                f"Run it with the study's settings, or start a new study: {hint()}"
            )
    if study.user_attrs.get(FIXED_ATTR) != now:
        study.set_user_attr(FIXED_ATTR, now)
