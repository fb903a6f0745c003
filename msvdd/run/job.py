"""One run, config to results: compose, load the data, fit (or load a checkpoint), score, write.

The Hydra app (msvdd.app) only calls ``run(cfg, out_dir)``; tests call it the same way. Data flows
one way: config -> data -> model -> model.pt + test_scores.csv + plots + results.json (last).
Every model speaks one interface (fit, score_samples, save, describe, item_columns, figures), so
nothing here asks which kind of model it holds.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from msvdd.reports.results import read_complete
from msvdd.run import places
from msvdd.run.compose import apply_process_settings, compose
from msvdd.run.folder_lock import own_folder
from msvdd.run.metrics import test_metrics
from msvdd.run.outputs import save_model, write_results, write_scores, write_test_scores
from msvdd.run.plots import write_plots
from msvdd.run.records import settings_id
from msvdd.stack import registry as stack_registry

log = logging.getLogger(__name__)


def run(cfg: DictConfig, out_dir: str | Path) -> float:
    """Train and evaluate one configuration; returns the test AUROC (what sweepers optimise)."""
    out = Path(out_dir)
    places.check(cfg, {"output_dir": str(out)})  # never inside the data (Hydra's app checked before it wrote)
    out.mkdir(parents=True, exist_ok=True)
    with own_folder(out):  # no other live run writes here meanwhile
        return _run(cfg, out)


def _run(cfg: DictConfig, out: Path) -> float:
    t0 = time.perf_counter()
    job = compose(cfg)  # every config mistake fails here, before any data is read
    apply_process_settings(cfg)
    done = None if job.evaluating else already_done(job, out / "results.json")
    if done is not None:
        log.info("results.json is complete for this job: skipping (AUROC %.4f)", done["auroc"])
        return float(done["auroc"])

    fitted = stack_registry.take(out)  # a stacked launcher fitted this job's model with others (msvdd.stack)
    data = fitted.data if fitted else job.dataset.load()
    timings = {"load": time.perf_counter() - t0}
    if job.evaluating:
        log.info("evaluating %s without training", cfg.ckpt_path)
    elif fitted:
        job.model = fitted.model
        timings.update(job.model.timings_)
        t0 -= sum(job.model.timings_.get(k, 0.0) for k in ("pretrain", "cluster", "train"))  # its share, in total
    else:
        job.model.fit(data.x_train, data.y_train)
        timings.update(job.model.timings_)
    t = time.perf_counter()
    scores = job.model.score_samples(data.x_test)
    metrics = test_metrics(data.y_test.numpy(), scores)
    timings["evaluate"] = time.perf_counter() - t
    log.info("%s %s classes %s: AUROC %.4f, AP %.4f", job.dataset.name, job.method, normal_names(job, data),
             metrics["auroc"], metrics["average_precision"])

    # the model's own training scores: a neighbour rule leaves each point out, as a new point would be
    train_scores = None if job.evaluating else np.asarray(job.model.train_scores_, dtype=np.float64)
    if not job.evaluating:
        save_model(job, data, train_scores, out)
    if data.names_test is not None:  # own data: which of the user's test items look anomalous
        write_test_scores(job, data, out / "test_scores.csv")
    if cfg.plots:
        t = time.perf_counter()
        write_plots(job, data, scores, metrics, out)
        timings["plots"] = time.perf_counter() - t
    write_scores(out / "scores.npz", scores, data.y_test.numpy(), train_scores)  # for the table's seed ensembles
    timings["total"] = time.perf_counter() - t0
    write_results(job, data, metrics, timings, out / "results.json")
    return metrics["auroc"]


def normal_names(job, data) -> list:
    """The normal classes as typed, else (a split layout's train/ folders) by name where the data has names."""
    if job.classes is not None:
        return job.classes
    names = getattr(job.dataset, "class_names", None)
    return [names[c] for c in data.normal_classes] if names else list(data.normal_classes)


def already_done(job, path: Path) -> dict | None:
    """The folder's complete results.json when it is this very job (same settings, method, seed, classes)."""
    done = read_complete(path, settings_id(job.settings))
    same = done and [done["method"], done["seed"], done["normal_classes"]] == [job.method, job.cfg.seed, job.classes]
    return done if same else None
