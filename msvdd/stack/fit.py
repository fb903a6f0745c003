"""``DeepSVDD.fit`` for a stack of models: the phases of msvdd.svdd.fit_steps, the two training phases
stacked (msvdd.stack.pretrain, msvdd.stack.train), the others model by model as alone.

A model that fails in any phase (an error, a diverged loss) leaves the stack there; the others go on.
Its error is returned, not raised: the launcher then runs that job alone, as the default launcher
would, so it fails (or not) with its own message in its own log.

Pretraining goes through each model's cache as ``cached_pretrain`` does: an entry that is there is
loaded; jobs that share an entry (the methods of one class group and seed) pretrain it once, the others
load it; the entries are written as a job alone writes them, under the same locks.
"""

from __future__ import annotations

import contextlib
import logging
import time

import msvdd.svdd.fit_steps as fit_steps
from msvdd.stack.pretrain import pretrain_stack
from msvdd.stack.train import train_stack
from msvdd.svdd.pretrain_cache import PretrainCache, pretrain_key

log = logging.getLogger(__name__)


def fit_stack(models: list, data: list[tuple]) -> list[BaseException | None]:
    """Fit each DeepSVDD ``models[m]`` on ``data[m] = (X, y)``; the error of each model that failed, else None."""
    t0 = time.perf_counter()
    errors: list[BaseException | None] = [None] * len(models)
    fits: dict[int, fit_steps.Fit] = {}
    for m, (model, (X, _)) in enumerate(zip(models, data)):
        try:
            fits[m] = fit_steps.begin(model, X)
            model.history_ = {"pretrain_loss": []}
        except Exception as err:  # noqa: BLE001 - this job runs alone later and reports it
            errors[m] = err
    t = time.perf_counter()
    _pretrain(models, fits, errors)
    shared = (time.perf_counter() - t) / max(len(fits), 1)
    for m in list(fits):
        models[m].timings_["pretrain"] = shared  # this job's share of the stack's pretraining
        try:
            fit_steps.cluster(models[m], fits[m], data[m][1])
        except Exception as err:  # noqa: BLE001
            errors[m] = err
            del fits[m]
    if fits:
        t = time.perf_counter()
        ids = list(fits)
        for m, why in train_stack([models[i] for i in ids], [fits[i] for i in ids], fits[ids[0]].train).items():
            _fail(ids[m], RuntimeError(why), fits, errors)
        for m in fits:
            models[m].timings_["train"] = (time.perf_counter() - t) / len(ids)
    for m in list(fits):
        fit_steps.finish(models[m], fits[m])
        models[m].timings_["stack_size"] = len(models)
    log.info("stack of %d models fitted in %.1f s (%d failed: they run alone)", len(models),
             time.perf_counter() - t0, sum(e is not None for e in errors))
    return errors


def _fail(m: int, err: BaseException, fits: dict, errors: list) -> None:
    errors[m] = err
    fits.pop(m, None)


def _pretrain(models: list, fits: dict, errors: list) -> None:
    """Cache hits load; one model per missing entry pretrains, stacked; the others of that entry load it."""
    todo, keys = {}, {}
    for m, fit in fits.items():
        model = models[m]
        if model.pretrain is None:
            continue
        if model.pretrain_cache:
            keys[m] = pretrain_key(fit.net, fit.X, model.pretrain, model.seed)
            cache = PretrainCache(model.pretrain_cache)
            losses = cache.restore(keys[m], fit.net, fit.gen)
            if losses is not None:
                model.history_["pretrain_loss"], model.pretrain_cached_ = losses, True
                continue
            if keys[m] in {keys[i] for i in todo}:
                continue  # another model of the stack pretrains this entry: loaded below
        todo[m] = fit
    if not todo:
        return
    settings = models[next(iter(todo))].pretrain
    with contextlib.ExitStack() as locks:
        for m in sorted(todo, key=lambda i: keys.get(i, "")):  # one order: two stacks never deadlock
            if m in keys:
                locks.enter_context(PretrainCache(models[m].pretrain_cache).lock(keys[m]))
        ids = list(todo)
        losses, diverged = pretrain_stack([todo[i].net for i in ids], [todo[i].X for i in ids], settings,
                                          [todo[i].gen for i in ids])
        for j, m in enumerate(ids):
            if j in diverged:
                _fail(m, RuntimeError(diverged[j]), fits, errors)
                continue
            models[m].history_["pretrain_loss"] = losses[j]
            if m in keys:
                state = {k: v.cpu() for k, v in todo[m].net.state_dict().items()}
                PretrainCache(models[m].pretrain_cache).put(
                    keys[m], {"state": state, "losses": losses[j], "generator": todo[m].gen.get_state()})
    for m, fit in list(fits.items()):  # the models whose entry another one of the stack pretrained
        if m in todo or m not in keys or models[m].pretrain_cached_:
            continue
        trained = next((i for i in todo if keys.get(i) == keys[m] and i in fits), None)
        if trained is None:  # that one diverged: so would this one
            _fail(m, RuntimeError("pretrain: diverged in the stack"), fits, errors)
            continue
        fit.net.load_state_dict(todo[trained].net.state_dict())
        fit.gen.set_state(todo[trained].gen.get_state())
        models[m].history_["pretrain_loss"], models[m].pretrain_cached_ = list(losses[ids.index(trained)]), True
