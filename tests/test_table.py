import json

import pandas as pd
import pytest

from msvdd.reports.table import MixedSettingsError, collect_runs, summarise, write_table
from msvdd.table import main

SETTINGS = {"dataset": "mnist", "network": {"rep_dim": 32}, "objective": {"name": "one_class", "nu": 0.1},
            "pretrain": {"n_epochs": 5}, "train": {"n_epochs": 10}, "score": "min_margin"}
CLASSES = {2: [[1, 7], [0, 4]], 3: [[0, 1, 3], [2, 5, 8]]}


@pytest.fixture(autouse=True)
def no_png(request, monkeypatch):
    """Drawing auroc.png takes most of a test's time: only test_files_written draws it."""
    if request.node.name != "test_files_written":
        monkeypatch.setattr("msvdd.reports.table.plot_auroc", lambda *args, **kwargs: None)


def job(root, name, *, results=True, overrides=None, **fields):
    """A Hydra-like job folder with .hydra/config.yaml and, if ``results``, a results.json."""
    folder = root / name
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("seed: 0\n")
    if overrides is not None:
        (folder / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if results is True:
        (folder / "results.json").write_text(json.dumps(result(**fields)))
    elif isinstance(results, str):
        (folder / "results.json").write_text(results)
    return folder


def result(dataset="mnist", method="svdd_one", size=2, index=0, seed=0, auroc=0.9, settings=None, group=True,
           **extra):
    settings = json.loads(json.dumps(settings or SETTINGS))
    settings["dataset"] = dataset
    data = {"schema": 1, "status": "complete", "dataset": dataset, "normal_classes": CLASSES[size][index],
            "group": {"size": size, "index": index, "count": 10, "seed": 0, "split": "table"}
            if group else None,
            "method": method, "objective": "one_class", "score_rule": "min_margin", "seed": seed,
            "auroc": auroc, "average_precision": 0.8, "n_clusters": 1 if method == "svdd_one" else size,
            "cluster_sizes": [], "radii": [], "ari": None if method == "svdd_one" else 0.9,
            "settings": settings, "settings_id": "x" + json.dumps(settings, sort_keys=True)[-8:]}
    data.update(extra)
    return data


def table_md(tmp_path, root):
    runs, failed = collect_runs([root])
    return write_table(runs, failed, tmp_path / "out", date="2024-01-02")


def row_of(md, first_cell):
    return next(line for line in md.splitlines() if line.startswith(f"| {first_cell} |"))


def test_mean_std_and_count(tmp_path):
    root = tmp_path / "sweep"
    job(root, "0", index=0, auroc=0.90)
    job(root, "1", index=1, auroc=0.94)
    job(root, "2", size=3, index=0, auroc=0.8)
    runs, failed = collect_runs([root])
    assert len(runs) == 3 and failed == []
    summary = summarise(runs)
    assert summary.loc[2, "svdd_one_mean"] == pytest.approx(92.0)
    assert summary.loc[2, "svdd_one_std"] == pytest.approx(2.8284271, rel=1e-6)  # ddof=1
    assert summary.loc[2, "svdd_one_n"] == 2
    md = write_table(runs, failed, tmp_path / "out", date="2024-01-02")
    assert "| 2 | 92.00 ± 2.83 (n=2) |" in md
    assert "| 3 | 80.00 ± — (n=1) |" in md
    assert "Deep SVDD (one radius)" in md


def test_methods_in_order_with_labels(tmp_path):
    root = tmp_path / "sweep"
    names = ["ae_recon", "svdd_oracle", "ocsvm", "kmeans", "knn", "none", "iforest", "svdd_finch", "lof"]
    for i, m in enumerate(names):  # "kmeans", "none": method names in results.json before the method group
        job(root, str(i), method=m, auroc=0.9 + i / 100)
    header = table_md(tmp_path, root).splitlines()[2]
    labels = ["Deep SVDD (one radius)", "Multi-radius (FINCH)", "Multi-radius (k-means)",
              "Multi-radius (oracle labels)", "kNN distance", "LOF", "Isolation Forest", "OC-SVM",
              "AE reconstruction"]
    assert header.startswith("| group size | " + " | ".join(labels) + " |")
    assert "| 2 | 95.00 ± — (n=1) | 97.00 ± — (n=1) | 93.00" in table_md(tmp_path, root)  # legacy names mapped


def test_seed_columns_for_mnist_only(tmp_path):
    for dataset in ("mnist", "digits"):
        root = tmp_path / dataset
        for size in (2, 3):
            job(root, f"{size}n", dataset=dataset, size=size, method="svdd_one")
            job(root, f"{size}o", dataset=dataset, size=size, method="svdd_oracle")
        runs, failed = collect_runs([root])
        md = write_table(runs, failed, tmp_path / f"out_{dataset}")
        if dataset == "mnist":
            assert row_of(md, 2).endswith("| 94.34 | 96.32 |")
            assert row_of(md, 3).endswith("| 91.22 | 94.13 |")
            assert "seed: one radius" in md and "seed: multi-radius (oracle)" in md
        else:
            assert "seed:" not in md.split("\n\n")[1]


def test_seed_columns_for_cifar10(tmp_path):
    job(tmp_path / "s", "0", dataset="cifar10", method="svdd_one")
    md = table_md(tmp_path, tmp_path / "s")
    assert row_of(md, 2).endswith("| 57 | 60.2 |")


def test_notes_name_groups_seeds_epochs(tmp_path):
    root = tmp_path / "sweep"
    for seed in (0, 1):
        job(root, f"a{seed}", index=1, seed=seed)
        job(root, f"b{seed}", index=0, seed=seed)
        job(root, f"c{seed}", size=3, index=1, seed=seed)
    md = table_md(tmp_path, root)
    assert "groups of size 2 (split table): #0 [1, 7], #1 [0, 4]" in md
    assert "groups of size 3 (split table): #1 [2, 5, 8]" in md
    assert "seeds: 0, 1" in md
    assert "epochs: train 10, pretrain 5" in md
    assert "objective: one_class; score rule: min_margin" in md
    assert "date: 2024-01-02" in md


def test_failed_jobs_are_listed_with_overrides(tmp_path, capsys):
    root = tmp_path / "sweep"
    job(root, "0")
    job(root, "1", index=1, results=False, overrides=["group.index=1", "method=none"])
    job(root, "2", index=1, method="svdd_finch", results="{not json")
    job(root, "3", method="svdd_finch", status="running")
    job(root, "4", method="svdd_oracle", auroc=None)
    runs, failed = collect_runs([root])
    assert len(runs) == 1
    reasons = {f["path"].rsplit("/", 1)[1]: f for f in failed}
    assert set(reasons) == {"1", "2", "3", "4"}
    assert "no results.json" in reasons["1"]["reason"]
    assert reasons["1"]["overrides"] == ["group.index=1", "method=none"]
    assert "unreadable" in reasons["2"]["reason"]
    assert "running" in reasons["3"]["reason"]
    assert "no AUROC" in reasons["4"]["reason"]
    assert main([str(root), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    md = (tmp_path / "out" / "table.md").read_text()
    for text in (out, md):
        assert "not counted) (4)" in text
        expected = "no results.json (job did not finish); overrides: group.index=1 method=none"
        assert f"{root / '1'}: {expected}" in text


def test_missing_combination_is_listed(tmp_path):
    root = tmp_path / "sweep"
    for seed in (0, 1):
        for method in ("svdd_one", "svdd_finch"):
            job(root, f"{seed}{method}", seed=seed, method=method)
    job(root, "g1", index=1, method="svdd_one", seed=0)
    md = table_md(tmp_path, root)
    section = md.split("## Missing runs")[1]
    assert "(3)" in section.splitlines()[0]
    for seed, method in ((0, "svdd_finch"), (1, "svdd_one"), (1, "svdd_finch")):
        line = f"size 2, group #1 [0, 4], seed {seed}, method {method}"
        assert f"- {line}" in section


def test_nothing_missing_says_none(tmp_path):
    job(tmp_path / "s", "0")
    md = table_md(tmp_path, tmp_path / "s")
    assert "## Missing runs (includes those not counted above) (0)\n\nnone" in md


def test_duplicates_are_not_counted_but_listed(tmp_path):
    job(tmp_path / "a", "0", auroc=0.9)
    job(tmp_path / "b", "0", auroc=0.7)
    runs, failed = collect_runs([tmp_path / "a", tmp_path / "b"])
    assert list(runs.auroc) == [0.9]
    assert len(failed) == 1 and failed[0]["reason"] == f"duplicate of {tmp_path / 'a' / '0'}"


def test_run_without_group_uses_its_classes(tmp_path):
    job(tmp_path / "s", "0", group=False, auroc=0.9)
    job(tmp_path / "s", "1", group=False, size=3, auroc=0.8)
    runs, _ = collect_runs([tmp_path / "s"])
    assert sorted(runs.group_size) == [2, 3]
    md = table_md(tmp_path, tmp_path / "s")
    assert "groups of size 2: [1, 7]" in md
    assert "| 2 | [1, 7] | [1, 7] | 90.00 (n=1) |" in md  # a group given by its classes is named by them


def test_own_data_class_names_name_their_groups(tmp_path):
    # a manual multirun over own class groups (folder names): the groups by name, as a table sweep's by index
    for i, classes in enumerate((["screws", "nuts"], ["bolts"], ["screws", "nuts"])):
        job(tmp_path / "s", str(i), group=False, normal_classes=classes, seed=i, auroc=0.8 + i / 100)
    runs, _ = collect_runs([tmp_path / "s"])
    assert sorted(runs.group_size) == [1, 2, 2] and ("screws", "nuts") in set(runs.classes)
    md = table_md(tmp_path, tmp_path / "s")
    assert "| 1 | [bolts] | [bolts] | 81.00 (n=1) |" in md
    assert "| 2 | [screws, nuts] | [screws, nuts] | 81.00 (n=2) |" in md
    assert "groups of size 2: [screws, nuts]" in md and "?" not in md


def test_mixed_datasets_are_named(tmp_path, capsys):
    root = tmp_path / "sweep"
    job(root, "0", dataset="digits")
    job(root, "1", dataset="digits", index=1)
    job(root, "2", dataset="mnist")
    runs, failed = collect_runs([root])
    with pytest.raises(MixedSettingsError, match=r"mixed settings in one table: dataset = digits \(2 runs\), "
                                                 r"mnist \(1 run\)$"):
        write_table(runs, failed, tmp_path / "out")
    assert main([str(root)]) == 2
    assert "dataset = digits (2 runs), mnist (1 run)" in capsys.readouterr().err
    assert not (root / "table.md").exists()


def test_mixed_settings_name_the_keys_and_values(tmp_path, capsys):
    root = tmp_path / "sweep"
    other = json.loads(json.dumps(SETTINGS))
    other["train"]["n_epochs"] = 20
    job(root, "0")
    job(root, "1", index=1)
    job(root, "2", method="svdd_finch", settings=other)
    runs, failed = collect_runs([root])
    with pytest.raises(MixedSettingsError) as info:
        write_table(runs, failed, tmp_path / "out")
    message = str(info.value)
    assert message.startswith("mixed settings in one table: ")
    assert "settings.train.n_epochs = 10 (2 runs), 20 (1 run)" in message
    assert "network" not in message
    assert main([str(root)]) == 2
    assert "settings.train.n_epochs = 10 (2 runs), 20 (1 run)" in capsys.readouterr().err


def test_methods_options_may_differ_between_methods_not_within_one(tmp_path):
    """kNN's k and LOF's k are each method's own; the training schedule two methods share must agree."""
    knn = {"dataset": "mnist", "features": {"n_components": 50}, "model": {"n_neighbors": 5}}
    lof = {"dataset": "mnist", "features": {"n_components": 50}, "model": {"n_neighbors": 20}}
    root = tmp_path / "sweep"
    job(root, "svdd")
    job(root, "knn", method="knn", settings=knn)
    job(root, "lof", method="lof", settings=lof)
    runs, failed = collect_runs([root])
    write_table(runs, failed, tmp_path / "out")  # no error: no setting two methods share differs
    other_k = json.loads(json.dumps(knn))
    other_k["model"]["n_neighbors"] = 7
    job(root, "knn7", method="knn", index=1, settings=other_k)
    other_features = json.loads(json.dumps(lof))
    other_features["features"]["n_components"] = 10
    job(root, "lof10", method="lof", index=1, settings=other_features)
    runs, failed = collect_runs([root])
    with pytest.raises(MixedSettingsError) as info:
        write_table(runs, failed, tmp_path / "out")
    assert "knn: settings.model.n_neighbors = 5 (1 run), 7 (1 run)" in str(info.value)
    assert "settings.features.n_components = 50 (3 runs), 10 (1 run)" in str(info.value)
    assert "lof: " not in str(info.value)


def test_the_score_rule_is_a_methods_own_choice(tmp_path):
    """svdd_many scores by neighbours beside min_margin methods in one table; one method, two rules: refused."""
    root = tmp_path / "sweep"
    job(root, "one")
    job(root, "many", method="svdd_many", score_rule="knn")
    runs, failed = collect_runs([root])
    assert "Many spheres (FINCH, kNN score)" in write_table(runs, failed, tmp_path / "out")
    job(root, "many1", method="svdd_many", index=1, score_rule="min_margin")
    runs, failed = collect_runs([root])
    with pytest.raises(MixedSettingsError, match=r"svdd_many: score_rule = knn \(1 run\), min_margin \(1 run\)"):
        write_table(runs, failed, tmp_path / "out")


def test_different_classes_for_one_group_index_is_an_error(tmp_path):
    job(tmp_path / "s", "0", normal_classes=[1, 7])
    job(tmp_path / "s", "1", normal_classes=[2, 3], method="svdd_finch")
    runs, failed = collect_runs([tmp_path / "s"])
    with pytest.raises(MixedSettingsError, match=r"group size 2 #0 = \[1, 7\] \(1 run\), \[2, 3\] \(1 run\)"):
        write_table(runs, failed, tmp_path / "out")


def test_files_written(tmp_path):
    root = tmp_path / "sweep"
    for seed in (0, 1):
        job(root, f"n{seed}", seed=seed, auroc=0.90 + seed * 0.04)
        job(root, f"f{seed}", seed=seed, method="svdd_finch", auroc=0.95, n_clusters=2 + seed,
            ari=0.5 + seed * 0.2)
    runs, failed = collect_runs([root])
    write_table(runs, failed, tmp_path / "out")
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"table.md", "table.csv", "table.tex", "table_detail.csv",
                                               "auroc.png"}
    table = pd.read_csv(out / "table.csv")
    assert table.loc[0, "group_size"] == 2 and table.loc[0, "svdd_one_n"] == 2
    assert table.loc[0, "svdd_one_mean"] == pytest.approx(92.0)
    assert table.loc[0, "seed_svdd_one"] == pytest.approx(94.34)
    detail = pd.read_csv(out / "table_detail.csv")
    assert detail.loc[0, "classes"] == "[1, 7]" and detail.loc[0, "svdd_finch_n"] == 2
    assert detail.loc[0, "svdd_finch_clusters"] == pytest.approx(2.5)
    assert detail.loc[0, "svdd_finch_ari"] == pytest.approx(0.6)
    md = (out / "table.md").read_text()
    assert "| 2 | #0 | [1, 7] | 92.00 (n=2) | 95.00 (n=2) | 2.5 | 0.60 |" in md
    tex = (out / "table.tex").read_text()
    assert r"92.00 $\pm$ 2.83 (n=2)" in tex and r"\begin{tabular}" in tex and "% groups of size 2" in tex
    assert (out / "auroc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_prints_table_and_writes_to_first_path(tmp_path, capsys):
    root = tmp_path / "sweep"
    job(root, "0")
    assert main([str(root)]) == 0
    out = capsys.readouterr().out
    assert "| 2 | 90.00 ± — (n=1) |" in out
    assert out.rstrip().endswith(f"table written to {root}")
    assert (root / "table.md").exists()
    assert main([str(root), "--out", str(tmp_path / "elsewhere"), "--quiet"]) == 0
    assert capsys.readouterr().out == f"table written to {tmp_path / 'elsewhere'}\n"


def test_cli_no_results_exits_2_naming_paths(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty")]) == 2
    assert f"no complete results.json under {tmp_path / 'empty'}" in capsys.readouterr().err
    job(tmp_path / "failed", "0", results=False)
    assert main([str(tmp_path / "failed")]) == 2
    err = capsys.readouterr().err
    assert "no complete results.json" in err and "no results.json (job did not finish)" in err
    assert main([str(tmp_path / "nowhere")]) == 2
    assert str(tmp_path / "nowhere") in capsys.readouterr().err


def test_compute_and_cache_saving_line(tmp_path):
    root = tmp_path / "sweep"
    job(root, "a", method="svdd_one", pretrain_cached=False, timings_s={"pretrain": 6.0, "total": 10.0})
    job(root, "b", method="svdd_finch", pretrain_cached=True,
        timings_s={"pretrain": 0.1, "cluster": 0.9, "total": 4.0})
    job(root, "c", method="svdd_oracle", pretrain_cached=True, timings_s={"pretrain": 0.1, "total": 4.0})
    md = table_md(tmp_path, root)
    # 18 s spent; the two cached runs would each have pretrained for 6 s: 12 / (18 + 12) = 40 %
    assert ("compute: 18.0 s over 3 runs (6.0 s of it pretraining, 0.9 s = 5.0 % clustering); "
            "2 runs reused a cached autoencoder, "
            "saving about 12 s (40 % of the time without the cache)") in md


@pytest.mark.parametrize("method", ["svdd_one", "svdd_finch", "knn"])
def test_settings_of_one_table_do_not_depend_on_the_seed(make_cfg, method):
    """A table sweeps seeds: nothing seeded by the run's seed (the UMAP space, say) may enter its settings."""
    from msvdd.run.records import settings_id
    from msvdd.run.settings import run_settings

    ids = {settings_id(run_settings(make_cfg(f"method={method}", f"seed={seed}"), "digits"))
           for seed in (0, 1)}
    assert len(ids) == 1
