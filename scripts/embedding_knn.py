"""Where does Deep SVDD lose against kNN? kNN (k = 5) on three embeddings of the same run, on dev groups.

For each (group, seed) it trains one run (the experiment's schedule, ``svdd_finch`` unless --method) phase by
phase (msvdd.svdd.fit_steps) and scores the test set by the mean distance to the 5 nearest training points in:
  * the input's 50 PCA components (the kNN baseline's features),
  * the pretrained autoencoder's code (before Deep SVDD trains the encoder),
  * the trained Deep SVDD encoder (the ``knn`` score rule),
and, for reference, by the run's own ``min_margin`` score. A large first gap means the autoencoder's code
already lost the neighbourhoods; a large last one, that the spheres' single distance does.

Usage: [MSVDD_DATA=...] python scripts/embedding_knn.py --experiment dev_clustering_digits --sizes 2,3 --seeds 0,1
       python scripts/embedding_knn.py --method svdd_many network.channels=[32,16] network.rep_dim=64
Trains in memory; writes nothing (the pretraining cache aside, under MSVDD_OUTPUTS).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

import msvdd.svdd.fit_steps as fit_steps
from msvdd.reports.compare import markdown
from msvdd.run.compose import compose as compose_job
from msvdd.svdd.embedding import embed
from msvdd.svdd.score_rules import knn_distance

CONF = Path(__file__).resolve().parents[1] / "conf"


def one(experiment: str, method: str, size: int, index: int, seed: int, overrides: list[str]) -> dict:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={experiment}", f"method={method}", "group.split=dev",
                                           f"group.size={size}", f"group.index={index}", f"seed={seed}", "threads=1",
                                           *overrides])
    job = compose_job(cfg)
    data, model = job.dataset.load(), job.model
    y = data.y_test.numpy()
    fit = fit_steps.begin(model, data.x_train)
    fit_steps.pretrain(model, fit)
    pre_train, pre_test = (embed(fit.net.encoder, torch.as_tensor(x), "cpu") for x in (data.x_train, data.x_test))
    fit_steps.cluster(model, fit, data.y_train)
    fit_steps.train(model, fit)
    fit_steps.finish(model, fit)
    pca = PCA(50, random_state=0).fit(data.x_train.flatten(1).numpy())
    pixels = [torch.from_numpy(pca.transform(x.flatten(1).numpy())).float() for x in (data.x_train, data.x_test)]
    learned = [torch.from_numpy(model.embed(x)) for x in (data.x_train, data.x_test)]
    auroc = lambda bank, queries: 100 * roc_auc_score(y, knn_distance(queries, bank, 5).numpy())  # noqa: E731
    return {"size": size, "classes": str(job.classes), "seed": seed, "input PCA 50": auroc(*pixels),
            "pretrained encoder": auroc(pre_train, pre_test), "trained encoder": auroc(*learned),
            "min_margin": 100 * roc_auc_score(y, model.score_samples(data.x_test))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment", default="dev_clustering_digits")
    parser.add_argument("--method", default="svdd_finch")
    parser.add_argument("--sizes", default="2,3,4")
    parser.add_argument("--indices", default="0")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run (e.g. network.rep_dim=64)")
    args = parser.parse_args()
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    rows = []
    for size, index, seed in itertools.product(ints(args.sizes), ints(args.indices), ints(args.seeds)):
        rows.append(one(args.experiment, args.method, size, index, seed, args.overrides))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).round(2)
    print(markdown(table))


if __name__ == "__main__":
    main()
