"""A sweep's jobs into stacks: which can train together, and fitting each stack (msvdd.stack.fit).

Jobs stack when their Deep SVDD models share everything a stacked step needs to be one step: the
network (its hyperparameters), the pretraining and training settings (optimiser, lr, milestones,
weight decay, batch size, epochs, device) and the training set's shape, so every model takes the same
number of batches of the same sizes. Seeds, class groups of one size, methods, objectives and
clusterings may differ. Everything else runs alone: baselines, evaluating a checkpoint, captured CUDA
steps, a complete job (resume skips it), a job whose config or data fails to load (alone, it reports
its own error).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from msvdd.run import places
from msvdd.run.compose import apply_process_settings, compose
from msvdd.run.job import already_done
from msvdd.stack import registry
from msvdd.stack.fit import fit_stack

log = logging.getLogger(__name__)


@dataclass
class Planned:
    """A job the stacked launcher looked at: its number, run folder and (when it can stack) its model and data."""

    num: int
    out: Path
    job: object = None
    data: object = None
    key: str | None = None


def plan(num: int, cfg: DictConfig, out: Path) -> Planned:
    """Compose and load one job (as its run will) to learn whether and with whom it stacks."""
    planned = Planned(num, out)
    try:
        places.check(cfg, {"output_dir": str(out)})
        job = compose(cfg)
        apply_process_settings(cfg)
        if job.evaluating or getattr(job.model, "kind", None) != "deep_svdd" or (
                not job.evaluating and already_done(job, out / "results.json") is not None):
            return planned
        data = job.dataset.load()
    except Exception as err:  # noqa: BLE001 - the job runs alone and reports it there
        log.info("job #%d runs alone: %s", num, " ".join(str(err).split())[:200])
        return planned
    planned.job, planned.data, planned.key = job, data, stack_key(job.model, tuple(data.x_train.shape))
    return planned


def stack_key(model, shape: tuple) -> str | None:
    """What must agree between models trained as one; None for a model that cannot stack."""
    if model.train is None or any(getattr(phase, key, False) for phase in (model.train, model.pretrain)
                                  for key in ("cuda_graphs", "channels_last")):  # the stacked step has neither
        return None
    phases = {name: None if s is None else {k: v for k, v in vars(s).items() if k != "name"}
              for name, s in (("pretrain", model.pretrain), ("train", model.train))}
    return json.dumps({"network": model.network.hparams, **phases, "shape": list(shape)}, sort_keys=True,
                      default=str)


def stacks(planned: list[Planned], max_size: int) -> list[list[Planned]]:
    """Jobs with one key, in sweep order, in stacks of at most ``max_size``; a lone job is no stack."""
    groups: dict[str, list[Planned]] = {}
    for p in planned:
        if p.key is not None:
            groups.setdefault(p.key, []).append(p)
    out = []
    for members in groups.values():
        out += [members[i:i + max_size] for i in range(0, len(members), max_size)]
    return [s for s in out if len(s) > 1]


def fit_and_register(stack: list[Planned]) -> int:
    """Fit one stack; each model that fitted is handed to its job's run (msvdd.stack.registry). Returns how many."""
    try:
        errors = fit_stack([p.job.model for p in stack], [(p.data.x_train, p.data.y_train) for p in stack])
    except Exception as err:  # noqa: BLE001 - a bug of the stack itself: its jobs run alone
        log.warning("the stack of jobs %s failed (%s): they run alone", [p.num for p in stack],
                    " ".join(str(err).split())[:300])
        return 0
    done = 0
    for p, err in zip(stack, errors):
        if err is None:
            registry.put(p.out, p.job.model, p.data)
            done += 1
        else:
            log.info("job #%d left its stack (%s): it runs alone", p.num, " ".join(str(err).split())[:200])
    return done
