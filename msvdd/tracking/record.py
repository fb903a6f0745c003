"""What a tracker records of one run, read off the files the run wrote (no tracker imported here).

The run folder is the source of truth: results.json (metrics, the config the run used), model.pt (the
per-epoch history) and Hydra's ``.hydra/``. Reading them after the run, instead of hooking into the
training loop, keeps the run's code free of any tracker and lets a resumed sweep log what it skipped.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

from msvdd.nested import flatten

MAX_PARAM = 6000  # MLflow's longest parameter value; longer ones are cut with "..."
TRIAL_DIR = re.compile(r"(?:^|/)trial_(\d+)(?:/|$)")  # the Optuna sweeper's job folders: trial_0003[/1]
NESTED_METRICS = ("clustering", "assignment")  # their numbers are counts worth plotting (raw clusters, moves)
NOT_METRICS = ("schema", "seed")
ARTIFACTS = ("results.json", "model.pt", "test_scores.csv", "*.png", "*.log", ".hydra/config.yaml",
             ".hydra/overrides.yaml")


def params(record: dict) -> dict[str, str]:
    """The config the run used (results.json's ``config``: its groups, not those of other methods), flattened."""
    out = {}
    for key, value in flatten(record.get("config") or {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        out[key] = text if len(text) <= MAX_PARAM else text[: MAX_PARAM - 3] + "..."
    return out


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def metrics(record: dict) -> dict[str, float]:
    """AUROC, AP, ARI, cluster counts, sizes, loss and the seconds of each phase (``time_s.<phase>``)."""
    out = {}
    for key, value in record.items():
        if key not in NOT_METRICS and (number := _number(value)) is not None:
            out[key] = number
    for part in NESTED_METRICS:
        for key, value in (record.get(part) or {}).items():
            if (number := _number(value)) is not None:
                out[f"{part}.{key}"] = number
    for phase, seconds in (record.get("timings_s") or {}).items():
        if (number := _number(seconds)) is not None:
            out[f"time_s.{phase}"] = number
    return out


def histories(model_file: Path) -> dict[str, list[float]]:
    """Per-epoch curves from model.pt (``pretrain_loss``, ``train_loss``, ``radius_<k>``, ``epoch_s``); {} when
    the model keeps none (kNN, LOF...) or the run wrote no model.pt (an evaluation)."""
    if not model_file.is_file():
        return {}
    from msvdd.model_file import read  # torch: already imported by the run this follows

    history = read(model_file)["state"].get("history") or {}
    names = {"pretrain_loss": "pretrain_loss", "loss": "train_loss", "epoch_s": "epoch_s"}
    out = {names[k]: [float(v) for v in values] for k, values in history.items() if k in names and values}
    for epoch_radii in history.get("radii") or []:
        for k, radius in enumerate(epoch_radii):
            out.setdefault(f"radius_{k}", []).append(float(radius))
    return out


def trial_number(subdir: str | None) -> int | None:
    """The Optuna trial a job folder belongs to (``trial_0003/1`` -> 3), or None."""
    found = TRIAL_DIR.search(str(subdir or ""))
    return int(found.group(1)) if found else None


def tags(record: dict, where: dict[str, str]) -> dict[str, str]:
    """What a user filters runs by: method, dataset, normal classes, group size and index, seed, mode, the package
    versions and device (``version.torch``, ``version.device``), plus ``where`` (experiment name, sweep folder,
    run folder, Optuna study and trial)."""
    group = record.get("group") or {}
    found = {"method": record.get("method"), "dataset": record.get("dataset"),
             "normal_classes": json.dumps(record.get("normal_classes")), "seed": record.get("seed"),
             "group_size": group.get("size"), "group_index": group.get("index"), "group_split": group.get("split"),
             "mode": record.get("mode"), "settings_id": record.get("settings_id"),
             **{f"version.{k}": v for k, v in (record.get("versions") or {}).items()}}  # torch, device, ...
    return {k: str(v) for k, v in {**found, **where}.items() if v is not None}


def run_name(record: dict) -> str:
    return f"{record.get('method')} {record.get('normal_classes')} seed {record.get('seed')}"


def artifacts(folder: Path) -> list[tuple[Path, str | None]]:
    """``(file, folder in the run's artifacts)``: the plots, model, scores, record, log and the Hydra config."""
    found = []
    for pattern in ARTIFACTS:
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                found.append((path, "hydra" if path.parent.name == ".hydra" else None))
    return found


def digest(path: Path) -> str:
    """A results.json's fingerprint: a re-run that rewrote it is a new tracked run, a skipped job is not."""
    return hashlib.sha1(path.read_bytes()).hexdigest()[:12]
