"""msvdd.reports.compare: one row per clustering variant of a sweep that varies them on purpose."""

from test_table import job, table_md

from msvdd.compare import main
from msvdd.reports.compare import variant


def _finch(space, metric="cosine", assign="fixed", req="group_size", source="encoder"):
    settings = {"finch": {"metric": metric, "req_clusters": req}, "assign": {"rule": assign}}
    return dict(method="finch", settings=settings, clustering={"space": {"name": space, "source": source}})


def test_variant_names():
    assert variant({"method": "none"}) == "one radius" and variant({"method": "oracle"}) == "oracle"
    assert variant(_finch("umap", req=None)) == "finch umap cosine fixed k=free"
    assert variant(_finch("encoder", "euclidean", "nearest")) == "finch encoder euclidean nearest k=group_size"
    assert variant(_finch("umap", "euclidean", source="input")) == "finch umap-of-input euclidean fixed k=group_size"


def test_rows_per_variant_with_counts_and_time_share(tmp_path, capsys):
    root = tmp_path / "sweep"
    times = {"cluster": 1.0, "total": 10.0}
    job(root, "a", size=2, index=0, auroc=0.80, n_clusters=2, ari=0.5, timings_s=times, **_finch("umap"))
    job(root, "b", size=2, index=1, auroc=0.90, n_clusters=3, ari=0.7, timings_s=times, **_finch("umap"))
    job(root, "c", size=3, index=0, auroc=0.70, n_clusters=3, ari=0.9, timings_s=times, **_finch("umap"))
    job(root, "d", size=2, index=0, auroc=0.60, n_clusters=2, ari=0.1, timings_s={"cluster": 0.0, "total": 5.0},
        **_finch("encoder"))
    job(root, "e", size=2, index=0, method="none", auroc=0.75, ari=None, timings_s={"cluster": 0.0, "total": 5.0})
    out = tmp_path / "cmp.md"
    assert main([str(root), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("| variant | n | AUROC 2 | AUROC 3 | AUROC mean | ARI | clusters = classes |")
    assert lines[2].startswith("| one radius | 1 | 75.00 |")
    umap = next(line for line in lines if line.startswith("| finch umap cosine fixed k=group_size |"))
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
