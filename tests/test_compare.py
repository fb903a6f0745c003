"""msvdd.reports.compare: one row per clustering variant of a sweep that varies them on purpose."""

from test_table import job, table_md

from msvdd.compare import main
from msvdd.reports.compare import variant


def _finch(method="svdd_finch_umap"):
    return dict(method=method, clustering={"space": {"name": "umap", "source": "encoder"}})


def test_variant_names_are_the_methods():
    assert variant({"method": "svdd_one"}) == "svdd_one" and variant({"method": "svdd_finch_umap"}) == "svdd_finch_umap"
    assert variant({"method": "none"}) == "svdd_one" and variant({"method": "oracle"}) == "svdd_oracle"  # older records


def test_rows_per_variant_with_counts_and_time_share(tmp_path, capsys):
    root = tmp_path / "sweep"
    times = {"cluster": 1.0, "total": 10.0}
    job(root, "a", size=2, index=0, auroc=0.80, n_clusters=2, ari=0.5, timings_s=times, **_finch())
    job(root, "b", size=2, index=1, auroc=0.90, n_clusters=3, ari=0.7, timings_s=times, **_finch())
    job(root, "c", size=3, index=0, auroc=0.70, n_clusters=3, ari=0.9, timings_s=times, **_finch())
    job(root, "d", size=2, index=0, auroc=0.60, n_clusters=2, ari=0.1, timings_s={"cluster": 0.0, "total": 5.0},
        **_finch("svdd_finch_encoder"))
    job(root, "e", size=2, index=0, method="svdd_one", auroc=0.75, ari=None, timings_s={"cluster": 0.0, "total": 5.0})
    out = tmp_path / "cmp.md"
    assert main([str(root), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("| variant | n | AUROC 2 | AUROC 3 | AUROC mean | ARI | clusters = classes |")
    assert lines[2].startswith("| svdd_one | 1 | 75.00 |")
    umap = next(line for line in lines if line.startswith("| svdd_finch_umap |"))
    # sizes 2: 80, 90 -> 85.00 ± 7.07; size 3: 70; overall 80; ARI 0.7; 2 of 3 runs found as many clusters as classes
    assert "| 3 | 85.00 ± 7.07 | 70.00 | 80.00 | 0.7 | 2/3 | 2.67 | 1.0 | 10.0 % |" in umap
    assert capsys.readouterr().out.startswith("| variant |")
    (tmp_path / "nothing").mkdir()
    assert main([str(tmp_path / "nothing")]) == 2


def test_table_notes_count_clusters_found_against_classes(tmp_path):
    root = tmp_path / "sweep"
    job(root, "a", size=2, index=0, method="finch", n_clusters=2)
    job(root, "b", size=2, index=1, method="finch", n_clusters=5)
    md = table_md(tmp_path, root)
    assert ("Multi-radius (FINCH): clusters found = number of classes in 1 of 2 runs "
            "(mean found 3.50, classes 2.00)") in md


def test_options_that_differ_within_a_method_make_variants_and_ensembles_rows(tmp_path):
    import numpy as np

    root = tmp_path / "sweep"
    truth = np.array([0, 0, 1, 1])
    for seed, rule, test in [(0, "knn", [0.1, 0.5, 0.4, 0.9]), (1, "knn", [0.0, 0.3, 0.5, 0.2]),
                             (0, "min_margin", [0.1, 0.2, 0.3, 0.4]), (1, "min_margin", [0.1, 0.2, 0.3, 0.4])]:
        settings = {"dataset": "mnist", "model": {"score": rule, "seed": seed, "clustering": {"seed": seed}}}
        folder = job(root, f"{rule}{seed}", size=2, index=0, seed=seed, settings=settings, method="svdd_finch",
                     auroc=0.8, timings_s={"cluster": 1.0, "total": 4.0, "evaluate": 0.5})
        np.savez(folder / "scores.npz", test_score=np.array(test), anomaly=truth, train_score=np.array([0.0, 1.0]))
    out = tmp_path / "cmp.md"
    assert main([str(root), "--out", str(out), "--ensemble"]) == 0
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in out.read_text().splitlines()[2:] if "|" in line}
    # the seed follows every run: not an option; the score rule differs: two variants, each with its ensemble
    assert set(rows) == {"svdd_finch score=knn", "svdd_finch score=knn+seeds", "svdd_finch score=min_margin",
                         "svdd_finch score=min_margin+seeds"}
    # knn seeds: mean z = ([0.1, 0.5, 0.4, 0.9] + [0, 0.3, 0.5, 0.2]) / 2 -> anomalies 0.45, 0.55 vs 0.05, 0.4: 4/4
    assert rows["svdd_finch score=knn+seeds"][1:3] == ["1", "100.00"]
    assert rows["svdd_finch score=knn+seeds"][-2:] == ["8.0", "1.0 |"]  # its run and score seconds: both seeds'
