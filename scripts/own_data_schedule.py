"""The schedule study behind conf/train/own.yaml (issue 20, item 4): candidate (lr, batch, epochs) x four
own-data sources x {svdd_one, svdd_finch} x seeds, scored on validation splits only.

Each source is cut, per class and seeded, into a DEV half and a FINAL half (written under --work, never
into the repository). A candidate is chosen on the DEV halves: msvdd trains on a DEV half's training
split and scores that half's own held-out split, so the FINAL halves (and no test split the docs report)
take no part in the choice; ``--part final`` scores the chosen schedules on the FINAL halves afterwards.
Sources: scikit-learn's wine (classes 0, 1 normal) and breast-cancer (benign normal) tables as CSV,
Fashion-MNIST (T-shirt/top and Trouser normal) and MNIST tinted with a random colour per image (2, 5, 8
normal) as PNG class folders, from the idx files under $MSVDD_DATA, read at 16x16.

    MSVDD_DATA=/work/shared/data .venv/bin/python scripts/own_data_schedule.py --work /tmp/schedule
    .venv/bin/python scripts/own_data_schedule.py --work /tmp/schedule --part final --only B D

Prints one markdown table (AUROC % per source and method, each seed; mean over all cells) and appends
every run to <work>/results_<part>.jsonl, which a second call resumes from.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FASHION = ["tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def phase(lr, batch, epochs, milestone):
    return [f"{p}.{k}={v}" for p in ("pretrain", "train")
            for k, v in (("lr", lr), ("batch_size", batch), ("epochs", epochs), ("milestones", f"[{milestone}]"))]


CANDIDATES = {"A": phase(1e-4, 200, 20, 50),    # the default's lr and batch at a CPU-sized epoch count
              "B": phase(1e-3, 32, 30, 20),     # conf/train/own.yaml (as the digits table)
              "C": phase(1e-3, 32, 60, 40),
              "D": phase(1e-4, 200, 150, 50),   # the default schedule (MNIST protocol); tables only (CPU time)
              "E": phase(1e-3, 64, 60, 40)}
SOURCES = {
    "wine (CSV)": ["dataset=table", "dataset.path={w}/wine_{part}.csv", "dataset.label=target",
                   "dataset.normal_classes=[0,1]"],
    "breast cancer (CSV)": ["dataset=table", "dataset.path={w}/breast_cancer_{part}.csv", "dataset.label=target",
                            "dataset.normal_classes=[1]"],
    "Fashion-MNIST (PNG)": ["dataset=folder", "dataset.path={w}/fashion_{part}", "dataset.image_size=16",
                            "dataset.normal_classes=[tshirt_top,trouser]"],
    "tinted MNIST (PNG, RGB)": ["dataset=folder", "dataset.path={w}/rgb_mnist_{part}", "dataset.image_size=16",
                                "dataset.normal_classes=[digit_2,digit_5,digit_8]", "dataset.color=rgb"],
}


def _halves(labels, rng):
    dev = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        dev[idx[: len(idx) // 2]] = True
    return dev


def _idx(path: Path) -> np.ndarray:
    data = gzip.open(path).read()
    if data[3] == 3:
        n, h, w = np.frombuffer(data[4:16], ">i4")
        return np.frombuffer(data[16:], np.uint8).reshape(n, h, w)
    return np.frombuffer(data[8:], np.uint8)


def _folder(work, root, x, y, names, per_class, rng, tint=False):
    from PIL import Image

    keep = np.concatenate([rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in per_class.items()])
    dev = _halves(y[keep], rng)
    for part, mask in (("dev", dev), ("final", ~dev)):
        for i in keep[mask]:
            img = (x[i][..., None] * rng.uniform(0.3, 1.0, size=3)).astype(np.uint8) if tint else x[i]
            folder = work / f"{root}_{part}" / names[y[i]]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / f"{i:05d}.png")


def make_data(work: Path) -> None:
    """The DEV and FINAL halves of every source (seed 0), once."""
    if (work / "done").exists():
        return
    from sklearn.datasets import load_breast_cancer, load_wine

    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, loader in (("wine", load_wine), ("breast_cancer", load_breast_cancer)):
        df = loader(as_frame=True).frame
        dev = _halves(df["target"].to_numpy(), rng)
        df[dev].to_csv(work / f"{name}_dev.csv", index=False)
        df[~dev].to_csv(work / f"{name}_final.csv", index=False)
    raw = Path(os.environ["MSVDD_DATA"])
    x, y = (_idx(raw / f"FashionMNIST/raw/train-{k}-idx{d}-ubyte.gz") for k, d in (("images", 3), ("labels", 1)))
    _folder(work, "fashion", x, y, FASHION, {0: 600, 1: 600, **{c: 60 for c in range(2, 10)}}, rng)
    x, y = (_idx(raw / f"MNIST/raw/train-{k}-idx{d}-ubyte.gz") for k, d in (("images", 3), ("labels", 1)))
    _folder(work, "rgb_mnist", x, y, [f"digit_{d}" for d in range(10)],
            {2: 300, 5: 300, 8: 300, **{c: 40 for c in (0, 1, 3, 4, 6, 7, 9)}}, rng, tint=True)
    (work / "done").touch()


def run_all(work: Path, part: str, candidates, methods, seeds) -> Path:
    log = work / f"results_{part}.jsonl"
    have = {tuple(json.loads(line)["key"]) for line in log.read_text().splitlines()} if log.exists() else set()
    env = {**os.environ, "MSVDD_OUTPUTS": str(work / "out")}
    for cand in candidates:
        for source, over in sorted(SOURCES.items(), key=lambda kv: "PNG" in kv[0]):  # the cheap tables first
            if cand == "D" and "PNG" in source:
                continue
            for seed in seeds:
                for method in methods:
                    key = [part, cand, source, method, seed]
                    if tuple(key) in have:
                        continue
                    run_dir = work / "out" / "runs" / "-".join([part, cand, source.split()[0], method, str(seed)])
                    args = [o.format(w=work, part=part) for o in over] + CANDIDATES[cand] + [
                        f"method={method}", f"seed={seed}", "plots=false", "threads=1", f"hydra.run.dir={run_dir}"]
                    t = time.time()
                    proc = subprocess.run([sys.executable, "-m", "msvdd", *args], cwd=ROOT, env=env,
                                          capture_output=True, text=True)
                    row = {"key": key, "args": args, "rc": proc.returncode, "wall_s": round(time.time() - t, 1)}
                    if proc.returncode == 0:
                        r = json.loads((run_dir / "results.json").read_text())
                        row.update(auroc=r["auroc"], n_train=r["n_train"], n_test=r["n_test"])
                    else:
                        row["error"] = proc.stderr[-800:]
                    with log.open("a") as f:
                        f.write(json.dumps(row) + "\n")
    return log


def table(log: Path, methods) -> str:
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    by, n = {}, {}
    for r in rows:
        if "auroc" in r:
            _, cand, source, method, _ = r["key"]
            by.setdefault((cand, source, method), []).append(100 * r["auroc"])
            n[source] = r["n_train"]
    sources = [s for s in SOURCES if s in n]
    head = ["schedule"] + [f"{s} (n={n[s]}) {m}" for s in sources for m in methods] + ["mean"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cand in sorted({k[0] for k in by}):
        cells = [by.get((cand, s, m), []) for s in sources for m in methods]
        flat = [v for c in cells for v in c]
        lines.append(f"| {cand} | " + " | ".join(" / ".join(f"{v:.1f}" for v in c) or "—" for c in cells)
                     + f" | {statistics.mean(flat):.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="data halves, runs and results (not the repo)")
    parser.add_argument("--part", choices=("dev", "final"), default="dev")
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES), help="candidates, e.g. B D")
    parser.add_argument("--methods", nargs="*", default=["svdd_one", "svdd_finch"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    args = parser.parse_args()
    make_data(args.work)
    print(table(run_all(args.work, args.part, args.only, args.methods, args.seeds), args.methods))


if __name__ == "__main__":
    main()
