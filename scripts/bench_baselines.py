"""Benchmark the baselines: fit and score time and the peak memory each adds, on the largest MNIST group.

Data: MNIST with msvdd's preprocessing, normal classes = table group (size 4, index 0) unless
--classes is given (about 24,000 training images of 4 classes; the whole 10,000-image test split is
scored). Each detector is built from its shipped config (``conf/model/<name>.yaml``, feature space
``conf/features/pca.yaml``), exactly as ``python -m msvdd method=<name> dataset=mnist`` builds it.

One core: every detector runs in a fresh process ('spawn') with torch and BLAS/OpenMP limited to one
thread. Memory as in bench_finch.py: the kernel's peak-RSS mark (VmHWM) is reset through
/proc/self/clear_refs after the imports and the data load, VmRSS is read, fit + score run, and
VmHWM is read again; added = VmHWM - VmRSS before. ``ae_recon``'s pretraining is Deep SVDD's own
(shared through the pretraining cache), so its cache is filled first, untimed (1 epoch), and the
figure is what the baseline adds: loading the cached weights and two passes (training set for
predict's threshold, test set).

    MSVDD_DATA=/path/to/data .venv/bin/python scripts/bench_baselines.py [--methods knn lof ...]
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("knn", "lof", "iforest", "ocsvm", "ae_recon")
TARGET_S = 60.0
OPTIONS = ("n_neighbors", "aggregate", "n_estimators", "nu", "gamma", "max_train")  # shown in the table


def _status(field: str) -> int | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # kB -> MiB
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _model(method: str, cache: str, overrides: list[str]):
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"method={method}", "dataset=mnist", f"paths.cache_dir={cache}",
                                           *overrides])
    return instantiate(cfg.model, _convert_="all"), cfg


def one(method: str, classes: list[int], overrides: list[str], queue) -> None:
    import torch
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from msvdd.data import MNIST

    torch.set_num_threads(1)
    threadpool_limits(1)
    data = MNIST(classes).load()
    with tempfile.TemporaryDirectory() as cache:
        if method == "ae_recon":  # fill the shared cache as Deep SVDD's run of this group would (untimed)
            model, cfg = _model(method, cache, [*overrides, "pretrain.epochs=1"])
            model.fit(data.x_train)
        model, cfg = _model(method, cache, overrides if method != "ae_recon" else [*overrides, "pretrain.epochs=1"])
        exact = _reset_peak()
        before, cpu0 = _status("VmRSS"), time.process_time()
        load = os.getloadavg()[0]
        t = time.perf_counter()
        model.fit(data.x_train)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        scores = model.score_samples(data.x_test)
        score_s = time.perf_counter() - t
        cpu = time.process_time() - cpu0
        peak = _status("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    queue.put({"method": method, "n_train": len(data.x_train), "n_test": len(data.x_test), "fit_s": fit_s,
               "score_s": score_s, "cpu_s": cpu, "added_mib": peak - before, "exact_peak": exact, "load": load,
               "auroc": roc_auc_score(data.y_test.numpy(), scores),
               "options": {k: v for k, v in model.__dict__.items() if k in OPTIONS}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--classes", nargs="+", type=int, help="normal classes (default: table group 4 #0)")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. model.max_train=5000")
    args = parser.parse_args()
    if not os.environ.get("MSVDD_DATA"):
        raise SystemExit("set MSVDD_DATA to the folder holding MNIST/")
    from msvdd.run.groups import group_classes

    classes = args.classes or list(group_classes(4, 0))
    print(f"# baselines on MNIST, normal classes {classes}; one core; "
          f"{datetime.date.today()} {platform.machine()} {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    ctx = mp.get_context("spawn")
    rows = []
    for method in args.methods:
        queue = ctx.Queue()
        proc = ctx.Process(target=one, args=(method, classes, args.overrides, queue))
        proc.start()
        rows.append(queue.get())
        proc.join()
    print(f"\ntraining images: {rows[0]['n_train']}, test images: {rows[0]['n_test']}\n")
    print("| method | options | fit s | score s | fit + score s | CPU s | memory added MiB | test AUROC % "
          f"| <= {TARGET_S:.0f} s | load before |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        total = r["fit_s"] + r["score_s"]
        opts = ", ".join(f"{k} {v}" for k, v in r["options"].items()) or "-"
        mem = f"{r['added_mib']}" + ("" if r["exact_peak"] else " (ru_maxrss)")
        print(f"| {r['method']} | {opts} | {r['fit_s']:.2f} | {r['score_s']:.2f} | {total:.2f} | {r['cpu_s']:.2f} "
              f"| {mem} | {100 * r['auroc']:.2f} | {'yes' if total <= TARGET_S else 'NO'} | {r['load']:.2f} |")


if __name__ == "__main__":
    main()
