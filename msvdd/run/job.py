"""One run, config to results: instantiate, validate, load data, fit, score, write.

The Hydra app (msvdd.app) only calls ``run(cfg, out_dir)``; tests call it the same way.
Data flows one way: config -> data -> model -> results.json + model.pt + plots.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate as hydra_instantiate
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_limits

from msvdd.errors import ConfigError
from msvdd.files import write_csv
from msvdd.methods import canonical, method_of
from msvdd.reports.results import read_complete
from msvdd.run import figures as plots
from msvdd.run import toplevel
from msvdd.run.checkpoint import load_checkpoint
from msvdd.run.folder_lock import own_folder
from msvdd.run.groups import group_classes
from msvdd.run.metrics import pseudo_label_agreement, test_metrics
from msvdd.run.records import SCHEMA, settings_id, versions, write_json_atomic
from msvdd.run.sizing import check_required, explain_size, size_network
from msvdd.svdd.estimator import DeepSVDD
from msvdd.svdd.scoring import score_items
from msvdd.svdd.training import DEVICE_ONLY

log = logging.getLogger(__name__)
SWEPT = ("normal_classes", "root", "cache_dir")  # dataset fields that vary within a table or do not change results
SHARED = ("network", "objective", "clustering", "assignment", "pretrain", "train", "pretrain_cache", "seed",
          "score")


def instantiate(node, **kwargs):
    """hydra.utils.instantiate, re-raising our ConfigError instead of Hydra's wrapper around it."""
    try:
        return hydra_instantiate(node, **kwargs)
    except InstantiationException as wrapped:
        cause = wrapped.__cause__
        while isinstance(cause, InstantiationException):  # nested _target_s wrap once per level
            cause = cause.__cause__
        if isinstance(cause, ConfigError):
            raise cause from None
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(cause))
        where = re.search(r"full_key: (\S+)", str(wrapped))
        if isinstance(cause, TypeError) and unknown:  # e.g. +train.foo=1: a key its group does not have
            group = where.group(1).removeprefix("model.") if where else "its group"
            root = node._get_root() if isinstance(node, DictConfig) else node
            raise ConfigError(f"{group}.{unknown.group(1)}", OmegaConf.select(root, f"{group}.{unknown.group(1)}"),
                              f"the fields of {group} (see --cfg job)", "unknown key") from None
        raise


def normal_classes(cfg: DictConfig) -> list[int]:
    """dataset.normal_classes, or the classes of the group addressed by (group.size, group.index)."""
    check_required(cfg.dataset)
    g = cfg.group
    if g.size is None:  # a list, a bare int, null or a typo: the dataset checks it as typed (never list("abc"))
        value = cfg.dataset.normal_classes
        return list(value) if OmegaConf.is_list(value) else value
    n_classes = instantiate(cfg.dataset, normal_classes=[0]).n_classes
    if n_classes is None:
        raise ConfigError("group.size", g.size, "null: class groups need a dataset with a fixed class list")
    return list(group_classes(g.size, g.index, n_classes=n_classes, count=g.count, seed=g.seed,
                              split=g.split, dev_count=g.dev_count, dev_seed=g.dev_seed))


def run_settings(cfg: DictConfig, dataset_name: str, objective_name: str) -> dict:
    """What must be equal across the rows of one table: everything but group index, seed and method."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    strip = lambda d, *keys: {k: v for k, v in d.items() if k not in keys}  # noqa: E731
    settings = {
        "dataset": dataset_name,
        "dataset_options": strip(plain["dataset"], "_target_", *SWEPT),
        "network": strip(plain["network"], "_target_"),
        "objective": {"name": objective_name, **strip(plain["objective"], "_target_")},
        "pretrain": None if cfg.model.get("pretrain", "") is None else strip(plain["pretrain"], "_target_",
                                                                              *DEVICE_ONLY),
        "train": strip(plain["train"], "_target_", *DEVICE_ONLY),
        "score": cfg.score,
        "finch": plain["finch"],
        "clustering_space": strip(plain["clustering_space"], "cache_dir", "seed"),  # the run's seed varies by design
        "assign": strip(plain["assign"], "_target_"),
        "group": None if cfg.group.size is None else strip(plain["group"], "index", "size"),
    }
    return settings


def run(cfg: DictConfig, out_dir: str | Path) -> float:
    """Train and evaluate one configuration; returns the test AUROC (what sweepers optimise)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with own_folder(out):  # no other live run writes here meanwhile
        return _run(cfg, out)


def _run(cfg: DictConfig, out: Path) -> float:
    toplevel.check(cfg)
    torch.set_num_threads(int(cfg.threads))
    threadpool_limits(int(cfg.threads))  # BLAS/OpenMP threads of numpy and scikit-learn (the baselines) too
    instantiate(cfg.accel).apply()
    timings, t0 = {}, time.perf_counter()

    # 1. Everything that can be wrong with the config fails here, before any data is read.
    classes = normal_classes(cfg)
    dataset = instantiate(cfg.dataset, normal_classes=classes)
    if isinstance(classes, int):  # a bare int is one class: recorded as the list the dataset made of it
        classes = list(dataset.normal_classes)
    size_network(cfg, dataset.input_shape)  # own data: reads the files to learn their shape
    baseline = cfg.model._target_.startswith("msvdd.baselines.")  # conf/method picks DeepSVDD or a baseline
    if cfg.ckpt_path and not baseline:  # evaluate: the checkpoint's model and settings, the command line's data
        model, trained_run = load_checkpoint(cfg.ckpt_path, dataset.input_shape)
        settings = checkpoint_settings(cfg, dataset.name, model, trained_run)
        method = canonical(trained_run.get("method", "unknown"))
    else:
        try:
            model = instantiate(cfg.model, _convert_="all")
        except ConfigError as err:
            raise explain_size(err, dataset.name, dataset.input_shape) from None
        model.validate(dataset.input_shape)
        settings = run_settings(cfg, dataset.name, instantiate(cfg.objective).name)
        method, trained_run = method_of(model), None
        if cfg.ckpt_path:  # a saved baseline: this config's settings, the file's fitted detector
            model, trained_run = type(model).load(cfg.ckpt_path), {"method": method}
    sid, options = settings_id(settings), method_options(cfg)

    done = read_complete(out / "results.json", sid)
    same_job = done and [canonical(done["method"]), done["seed"], done["normal_classes"],
                         done.get("method_options", options)] == [method, cfg.seed, classes, options]
    if same_job and cfg.ckpt_path is None:
        log.info("results.json is complete for this job: skipping (AUROC %.4f)", done["auroc"])
        return float(done["auroc"])

    # 2. Data, model, scores.
    data = dataset.load()
    timings["load"] = time.perf_counter() - t0
    if cfg.ckpt_path:
        log.info("evaluating %s without training", cfg.ckpt_path)
    else:
        model.fit(data.x_train, data.y_train)
        timings.update(model.timings_)
    t = time.perf_counter()
    scores = model.score_samples(data.x_test)
    y_test = data.y_test.numpy()
    metrics = test_metrics(y_test, scores)
    timings["evaluate"] = time.perf_counter() - t
    log.info("%s %s classes %s: AUROC %.4f, AP %.4f", dataset.name, method, classes,
             metrics["auroc"], metrics["average_precision"])

    # 3. Files: model and plots first, results.json last (its presence means the run is complete).
    if not cfg.ckpt_path and baseline:
        model.save(out / "model.pt")
    elif not cfg.ckpt_path:  # what msvdd.predict needs to score new data, and the run (evaluating it records it)
        model.save(out / "model.pt",
                   meta={"preprocessing": data.preprocessing, "dataset": dataset.name,
                         "train_scores": torch.from_numpy(model.score_samples(data.x_train)),
                         "accel": _without(OmegaConf.to_container(cfg.accel), "_target_"),
                         "run": {"dataset": dataset.name, "normal_classes": classes, "method": method,
                                 "settings": settings, "settings_id": sid}})
    if data.names_test is not None and not baseline:  # own data: which of the user's test items look anomalous
        write_test_scores(model, data, getattr(dataset, "class_names", None), out / "test_scores.csv")
    if cfg.plots:
        t = time.perf_counter()
        _plots(model, data, scores, metrics, method, out, trained=not cfg.ckpt_path)
        timings["plots"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    record = _record(cfg, dataset.name, classes, method, model, data, metrics, settings, sid, timings)
    record["method_options"] = options
    if trained_run is not None:
        record["checkpoint"] = {"path": str(Path(cfg.ckpt_path).absolute()), **_without(trained_run, "settings")}
    write_json_atomic(out / "results.json", record)
    return metrics["auroc"]


def write_test_scores(model: DeepSVDD, data, class_names, path: Path) -> None:
    """test_scores.csv: name, score, nearest sphere, outside every sphere, true class, anomaly (0/1)."""
    items = score_items(model, data.x_test)
    labels = data.labels_test.tolist()
    write_csv(path, {"name": list(data.names_test), **items,
                     "class": [class_names[c] for c in labels] if class_names else labels,
                     "anomaly": data.y_test.tolist()})


def method_options(cfg: DictConfig) -> dict:
    """The model's own options (a baseline's k, its feature space...): a changed option reruns the job."""
    plain = OmegaConf.to_container(cfg.model, resolve=True)
    return {k: v for k, v in plain.items() if k not in SHARED}


def _record(cfg, dataset_name, classes, method, model, data, metrics, settings, sid, timings) -> dict:
    trained = not cfg.ckpt_path
    fitted = _svdd_fields(model, data, trained, method) if isinstance(model, DeepSVDD) else _baseline_fields(model)
    return {
        "schema": SCHEMA, "status": "complete", "mode": "train" if trained else "evaluate",
        "dataset": dataset_name, "normal_classes": classes,
        "group": None if cfg.group.size is None else OmegaConf.to_container(cfg.group),
        "method": method, "objective": (settings.get("objective") or {}).get("name"),
        "score_rule": getattr(model, "score", cfg.score), "seed": model.seed, **metrics, **fitted,
        "pretrain_cached": bool(getattr(model, "pretrain_cached_", False)),
        "n_train": len(data.x_train), "n_test": len(data.x_test),
        "settings": settings, "settings_id": sid, "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "versions": versions(), "config": _without(OmegaConf.to_container(cfg, resolve=True),
                                                   *(() if trained else CHECKPOINT_OWNS)),
    }


def _svdd_fields(model: DeepSVDD, data, trained: bool, method: str) -> dict:
    info, assignment = getattr(model, "clustering_info_", {}), getattr(model, "assignment_info_", {})
    ari = ari_initial = None
    if trained and method != "svdd_one":
        ari = pseudo_label_agreement(data.y_train.numpy(), model.cluster_labels_.numpy())
        if assignment.get("moves"):  # the labels moved while training: also the clustering stage's ARI
            ari_initial = pseudo_label_agreement(data.y_train.numpy(), model.assignment.initial_labels_)
    return {"n_clusters": model.n_clusters_, "cluster_sizes": model.cluster_sizes_, "n_classes": len(
                data.normal_classes), "radii": model.radii_.tolist(), "ari": ari, "ari_initial": ari_initial,
            "clustering": info, "assignment": assignment,
            "single_sphere_fallback": bool(info.get("single_cluster_fallback", False)),
            "final_loss": model.history_["loss"][-1] if model.history_.get("loss") else None}


def _baseline_fields(model) -> dict:
    return {"n_clusters": None, "ari": None, "baseline": model.describe()}


def _plots(model, data, scores: np.ndarray, metrics: dict, method: str, out: Path, trained: bool) -> None:
    """All the PNGs or none: drawn into a hidden folder and moved in only when every one succeeded."""
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".plots-"))
    try:
        title = f"{data.name} {list(data.normal_classes)} · {method}"
        plots.roc(data.y_test.numpy(), scores, metrics["auroc"], title, staging / "roc.png")
        if getattr(model, "history_", {}).get("loss"):
            plots.training_curves(model.history_, staging / "training.png")
            z, centers = model.embed(data.x_train), model.centers_.cpu().numpy()
            if trained:
                spheres, by = model.cluster_labels_.numpy(), "pseudo-label (sphere)"
            else:  # an evaluated checkpoint's training labels belong to other images (maybe other classes)
                spheres, by = ((z[:, None] - centers[None]) ** 2).sum(-1).argmin(1), "nearest sphere"
            plots.embedding_pca(z, spheres, data.y_train.numpy(), centers, staging / "embeddings_pca.png", by)
        space = getattr(getattr(model, "clustering", None), "space", None)
        if trained and getattr(space, "embedding_", None) is not None and space.embedding_.shape[1] >= 2:
            initial = getattr(model.assignment, "initial_labels_", model.cluster_labels_.numpy())
            plots.embedding_space(space.embedding_, initial, data.y_train.numpy(), space.label,
                                  staging / "embeddings_space.png")
        if data.x_test.dim() == 4:  # images (a table has no picture to show)
            plots.extreme_images(data.x_test.numpy(), scores, data.labels_test.numpy(), staging / "extremes.png")
        for png in sorted(staging.iterdir()):
            os.replace(png, out / png.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


CHECKPOINT_OWNS = ("network", "objective", "clustering", "clustering_space", "assign", "pretrain", "train", "model",
                   "finch", "score", "seed")


def checkpoint_settings(cfg: DictConfig, dataset_name: str, model: DeepSVDD, trained_run: dict) -> dict:
    """The settings an evaluation records: the checkpoint's own (network, objective, training...), with
    the command line's data. Command-line settings the checkpoint overrides are named in a warning."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    settings = dict(trained_run.get("settings") or {"network": model.network_.hparams, "score": model.score})
    settings.update(dataset=dataset_name, dataset_options=_without(plain["dataset"], "_target_", *SWEPT),
                    group=None if cfg.group.size is None else _without(plain["group"], "index", "size"))
    given = {f"network.{k}": v for k, v in plain["network"].items() if k in settings["network"]}
    given["score"] = cfg.score
    own = {f"network.{k}": v for k, v in settings["network"].items()} | {"score": model.score}
    ignored = {k: (v, own.get(k)) for k, v in given.items() if own.get(k) != v}
    if ignored:
        log.warning("ckpt_path: the checkpoint's own settings are used and recorded; ignoring the command line's %s",
                    ", ".join(f"{k}={v!r} (checkpoint: {o!r})" for k, (v, o) in ignored.items()))
    return settings


def _without(d: dict, *keys) -> dict:
    return {k: v for k, v in d.items() if k not in keys}
