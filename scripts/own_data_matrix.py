"""Every method on every own-data source, run as a user runs them (issue 20's evidence).

Why: the unit tests check each loader and each baseline on the embedded digits; this script checks what
a new user meets on data nobody here wrote. It writes seven sources into a temp folder outside the repo,
runs ``python -m msvdd dataset=... method=...`` (each method with its defaults) on each, scores every
run's saved model.pt with ``python -m msvdd.predict`` on the run's test inputs, and prints one Markdown
table (AUROC, wall time, predict's agreement) plus a CSV with each run's settings (results.json).

Sources (from ``$MSVDD_DATA``: Fashion-MNIST, MNIST, CIFAR-10; and scikit-learn's bundled tables):
PNG class folders and a PNG split layout (Fashion-MNIST, real class names), RGB PNGs (CIFAR-10),
CSV (wine: classes 0, 1 normal, 2 anomalous), Parquet (breast cancer: benign normal), .npz feature
rows (wine, network=mlp), .npz images (MNIST). For the tables, scikit-learn's own IsolationForest and
LocalOutlierFactor(novelty=True) are fitted on the run's split (test rows from test_scores.csv names,
training rows the remaining normal ones, standardised as msvdd does) for comparison.

A failed cell shows the error's one line (``msvdd: error: ...``) or a traceback's exception line.

    MSVDD_DATA=/path/to/data .venv/bin/python scripts/own_data_matrix.py [--per-class 300]
        [--sources csv parquet ...] [--methods knn lof ...] [--overrides experiment=own_data]
        [--csv matrix.csv] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

from msvdd.data.sources import raw_arrays

METHODS = ("svdd_one", "svdd_finch", "knn", "lof", "iforest", "ocsvm", "ae_recon")
FASHION = ("T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")  # Fashion-MNIST's class names ('/' is no folder name)
CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TABLES = ("csv", "parquet", "npz_table")


def _hwc(images: np.ndarray) -> np.ndarray:
    """(n, C, H, W) as a user's files hold them: (n, H, W) grey, (n, H, W, 3) colour."""
    images = images.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images[..., 0] if images.shape[-1] == 1 else images)


def _pngs(folder: Path, images: np.ndarray, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(_hwc(images)):
        Image.fromarray(image).save(folder / f"{stem}{i:05d}.png")


def _pick(x, y, classes, n, rng):
    """{class: n images of it}, a seeded draw."""
    return {c: x[rng.permutation(np.flatnonzero(y == c))[:n]] for c in classes}


def build(root: Path, data: str, n: int) -> dict:
    """Each source's (overrides, predict inputs) after writing it under ``root``."""
    rng = np.random.default_rng(0)
    xf, yf, xf_test, yf_test = raw_arrays("fashion_mnist", data)
    sources = {}
    folder = root / "png_classes"  # Trouser and Sneaker normal; Bag and Ankle boot anomalies (30 % go to test)
    for c, images in _pick(xf, yf, (1, 7, 8, 9), n, rng).items():
        _pngs(folder / FASHION[c], images, "img")
    sources["png_classes"] = ([f"dataset.path={folder}", "dataset.normal_classes=[Trouser,Sneaker]"],
                              [str(folder)])
    folder = root / "png_split"  # Fashion-MNIST's test images: train/{Pullover,Dress}; test/good, test/{sandal,bag}
    for c, images in _pick(xf_test, yf_test, (2, 3), n + n // 3, rng).items():
        _pngs(folder / "train" / FASHION[c], images[:n], "img")
        _pngs(folder / "test" / "good", images[n:], FASHION[c])
    for c, images in _pick(xf_test, yf_test, (5, 8), n // 3, rng).items():
        _pngs(folder / "test" / FASHION[c].lower(), images, "img")
    sources["png_split"] = ([f"dataset.path={folder}"], [str(folder / "test")])
    xc, yc, _, _ = raw_arrays("cifar10", data)
    folder = root / "rgb_classes"  # CIFAR-10: airplane and ship normal; frog and horse anomalies
    for c, images in _pick(xc, yc, (0, 8, 6, 7), n, rng).items():
        _pngs(folder / CIFAR[c], images, "img")
    sources["rgb"] = ([f"dataset.path={folder}", "dataset.normal_classes=[airplane,ship]", "dataset.color=rgb"],
                      [str(folder)])
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "class"})
    wine.to_csv(root / "wine.csv", index=False)
    sources["csv"] = ([f"dataset.path={root / 'wine.csv'}", "dataset.label=class", "dataset.normal_classes=[0,1]"],
                      [str(root / "wine.csv")])
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame.assign(diagnosis=cancer.target_names[cancer.target]).drop(columns="target")
    frame.to_parquet(root / "breast_cancer.parquet", index=False)
    sources["parquet"] = ([f"dataset.path={root / 'breast_cancer.parquet'}", "dataset.label=diagnosis",
                           "dataset.normal_classes=[benign]"], [str(root / "breast_cancer.parquet")])
    x, y = load_wine(return_X_y=True)  # rows (n, 13); a seeded 70/30 split of classes 0 and 1, class 2 all test
    normal = rng.permutation(np.flatnonzero(y < 2))
    cut = int(0.7 * len(normal))
    test = np.concatenate([normal[cut:], np.flatnonzero(y == 2)])
    np.savez(root / "wine_rows.npz", x_train=x[normal[:cut]], x_test=x[test], y_test=(y[test] == 2).astype(np.int64))
    sources["npz_table"] = ([f"dataset.path={root / 'wine_rows.npz'}", "network=mlp"], [str(root / "wine_rows.npz")])
    xm, ym, xt, yt = raw_arrays("mnist", data)  # digits 3 and 8 normal, 5 the anomaly
    train = _pick(xm, ym, (3, 8), n, rng)
    test = _pick(xt, yt, (3, 8, 5), n // 2, rng)
    np.savez(root / "mnist_images.npz", x_train=_hwc(np.concatenate([train[3], train[8]])),
             y_train=np.repeat([3, 8], n), x_test=_hwc(np.concatenate(list(test.values()))),
             labels_test=np.repeat([3, 8, 5], n // 2))
    sources["npz_images"] = ([f"dataset.path={root / 'mnist_images.npz'}", "dataset.normal_classes=[3,8]"],
                             [str(root / "mnist_images.npz")])
    return sources


DATASET = {"png_classes": "folder", "png_split": "folder", "rgb": "folder", "csv": "table", "parquet": "table",
           "npz_table": "arrays", "npz_images": "arrays"}


def _error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            return line[line.index("error:"):]
    tail = [line for line in lines if not line.startswith(("File ", "^", "~"))]
    return tail[-1] if tail else "no output"


def _run(cmd: list[str], cwd: Path, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t, done


def _scores(path: Path) -> dict[str, float]:
    with open(path, newline="") as f:
        return {row["name"]: float(row["score"]) for row in csv.DictReader(f)}


def agreement(run: Path, inputs: list[str], cwd: Path, env: dict) -> str:
    """Fraction of the run's test items whose predict score equals test_scores.csv's bit for bit."""
    if not (run / "test_scores.csv").exists():
        return "no test_scores.csv"
    _, done = _run([sys.executable, "-m", "msvdd.predict", str(run / "model.pt"), *inputs,
                    "--out", str(run / "predict.csv")], cwd, env)
    if done.returncode:
        return "predict: " + _error(done.stderr)
    ours, again = _scores(run / "test_scores.csv"), _scores(run / "predict.csv")
    same = sum(name in again and np.float64(again[name]) == np.float64(s) for name, s in ours.items())
    return f"{same}/{len(ours)}"


def sklearn_same_split(run: Path, source: str, root: Path) -> dict:
    """scikit-learn's IsolationForest and LOF(novelty) AUROC on the run's split, with msvdd's parameters."""
    rec = json.loads((run / "results.json").read_text())
    scores = pd.read_csv(run / "test_scores.csv")
    test = scores["name"].str.split("#").str[-1].astype(int).to_numpy()
    if source == "npz_table":
        arrays = np.load(root / "wine_rows.npz")
        x_train, x_test = arrays["x_train"], arrays["x_test"][test]
    else:
        frame = pd.read_csv(root / "wine.csv") if source == "csv" else pd.read_parquet(root / "breast_cancer.parquet")
        label = "class" if source == "csv" else "diagnosis"
        normal = frame[label].isin([0, 1] if source == "csv" else ["benign"]).to_numpy()
        values = frame.drop(columns=label).to_numpy(np.float64)
        train = np.setdiff1d(np.flatnonzero(normal), test)
        x_train, x_test = values[train], values[test]
    if len(x_train) != rec["n_train"]:
        return {"sklearn_error": f"split: {len(x_train)} training rows, the run had {rec['n_train']}"}
    mean, std = x_train.mean(0), x_train.std(0)
    std = np.where(std > 0, std, 1.0)
    z_train, z_test = ((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)
    model, y = rec["config"]["model"], scores["anomaly"].to_numpy()
    if rec["method"] == "iforest":
        est = IsolationForest(n_estimators=model["n_estimators"], max_samples=model["max_samples"],
                              random_state=rec["seed"]).fit(z_train)
    else:
        est = LocalOutlierFactor(n_neighbors=model["n_neighbors"], novelty=True).fit(z_train)
    theirs = -est.score_samples(z_test)
    return {"sklearn_auroc": roc_auc_score(y, theirs),
            "sklearn_max_abs_diff": float(np.max(np.abs(theirs - scores["score"].to_numpy())))}


def cell(source: str, method: str, overrides: list[str], inputs: list[str], work: Path, env: dict,
         extra: list[str]) -> dict:
    runs = work / "outputs" / "runs"
    before = set(runs.glob("**/results.json"))
    cmd = [sys.executable, "-m", "msvdd", f"dataset={DATASET[source]}", f"method={method}", *overrides,
           "threads=1", "plots=false", *extra]
    wall, done = _run(cmd, work, env)
    row = {"source": source, "method": method, "wall_s": round(wall, 1), "command": " ".join(cmd[1:])}
    new = sorted(set(runs.glob("**/results.json")) - before)
    if done.returncode or not new:
        return {**row, "error": _error(done.stderr) if done.returncode else "no results.json"}
    run = new[-1].parent
    rec = json.loads(new[-1].read_text())
    row.update(auroc=rec["auroc"], n_train=rec["n_train"], n_test=rec["n_test"], run=str(run),
               timings_s=json.dumps(rec.get("timings_s")), settings=json.dumps(rec.get("settings")),
               predict_same=agreement(run, inputs, work, env))
    if source in TABLES and method in ("iforest", "lof"):
        row.update(sklearn_same_split(run, source, work / "sources"))
    return row


def markdown(rows: list[dict], sources: list[str], methods: list[str]) -> str:
    def text(r):
        if "error" in r:
            return f"error: {r['error']}"
        extra = f"; sklearn {r['sklearn_auroc']:.3f}" if "sklearn_auroc" in r else ""
        return f"{r['auroc']:.3f} ({r['wall_s']:.0f} s; predict {r['predict_same']}{extra})"

    by = {(r["source"], r["method"]): r for r in rows}
    lines = ["| source | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for s in sources:
        lines.append(f"| {s} | " + " | ".join(text(by[s, m]) if (s, m) in by else "" for m in methods) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-class", type=int, default=300, help="images per class in the image sources")
    ap.add_argument("--sources", nargs="+", default=list(DATASET), choices=list(DATASET))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--csv", default=str(Path(os.environ.get("MSVDD_OUTPUTS", "outputs")) / "own_data_matrix.csv"),
                    help="the CSV written, one row per cell (default: $MSVDD_OUTPUTS or outputs/)")
    ap.add_argument("--overrides", nargs="*", default=[], help="added to every run, e.g. experiment=own_data")
    ap.add_argument("--keep", help="write sources and runs here (kept) instead of a temp folder")
    args = ap.parse_args()
    data = os.environ.get("MSVDD_DATA")
    if not data:
        sys.exit("own_data_matrix: set MSVDD_DATA to the folder holding MNIST, FashionMNIST, cifar-10-batches-py")
    work = Path(args.keep or tempfile.mkdtemp(prefix="own_data_matrix_"))
    (work / "sources").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MSVDD_OUTPUTS": str(work / "outputs")}
    t = time.perf_counter()
    sources = build(work / "sources", data, args.per_class)
    print(f"sources written to {work / 'sources'} in {time.perf_counter() - t:.1f} s", flush=True)
    rows = []
    for source in args.sources:
        for method in args.methods:
            rows.append(cell(source, method, *sources[source], work, env, args.overrides))
            r = rows[-1]
            print(source, method, r.get("error") or f"AUROC {r['auroc']:.4f} predict {r['predict_same']}",
                  f"{r['wall_s']} s", flush=True)
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    columns = sorted({k for r in rows for k in r}, key=lambda k: (k not in rows[0], k))
    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    print(markdown(rows, args.sources, args.methods))
    print(f"{len(rows)} cells in {time.perf_counter() - t:.0f} s; CSV {args.csv}; runs under {work}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
