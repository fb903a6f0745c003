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
