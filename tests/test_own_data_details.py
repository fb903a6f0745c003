"""Own data, the small things (issue 20, item 9): class names in extremes.png, sweep job folders without the
data path, and a manual multirun over own class groups tabled by its classes."""

import json

import pytest
from conftest import CONF, TINY, run_msvdd
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from own_files import write_class_folder

from msvdd.run.job import run
from msvdd.run.job_dirs import job_dirname

NAMES = {"0": "zero", "1": "one", "7": "seven"}


@pytest.fixture(scope="module")
def named_folder(tmp_path_factory):
    """The class-folder layout with word names: zero/, one/ (normal) and seven/."""
    root = write_class_folder(tmp_path_factory.mktemp("named") / "my_images")
    for digit, name in NAMES.items():
        (root / digit).rename(root / name)
    return root


def test_extremes_png_names_the_classes(make_cfg, tmp_path, named_folder, monkeypatch):
    import msvdd.figures as figures

    titles, save = {}, figures._save

    def keep_titles(fig, path):
        titles[path.name] = [ax.get_title() for ax in fig.axes]
        save(fig, path)

    monkeypatch.setattr(figures, "_save", keep_titles)
    run(make_cfg("dataset=folder", f"dataset.path={named_folder}", "dataset.normal_classes=[zero,one]",
                 "method=svdd_one", "pretrain.epochs=2", "train.epochs=2", "plots=true"), tmp_path / "run")
    assert (tmp_path / "run" / "extremes.png").stat().st_size > 0
    shown = set(titles["extremes.png"]) - {""}
    assert shown <= set(NAMES.values()) and "seven" in shown and len(titles["extremes.png"]) == 32


def _hydra_dirname(lines, exclude):
    return get_overrides_dirname(OverridesParser.create().parse_overrides(lines), exclude, ",", "=")


def test_job_folder_names_hold_no_path_and_stay_hydras_otherwise():
    plain = ["seed=1", "dataset.normal_classes=[0,1]", "method=svdd_one", "threads=2"]
    assert job_dirname(plain, ["threads"]) == _hydra_dirname(plain, ["threads"]) == \
        "dataset.normal_classes=[0,1],method=svdd_one,seed=1"  # the names sweeps already have
    a = job_dirname(["dataset.path=/data/parts/my_images", "seed=0"])
    b = job_dirname(["dataset.path=/other/my_images/", "seed=0"])
    assert a.startswith("dataset.path=my_images~") and a.endswith(",seed=0") and "/" not in a + b
    assert a != b and a == job_dirname(["seed=0", "dataset.path=/data/parts/my_images"])  # one folder per path
    assert "/" not in job_dirname(["ckpt_path='outputs/runs/a b/model.pt'"])


@pytest.mark.slow
def test_a_multirun_over_own_class_groups(tmp_path, named_folder):
    proc = run_msvdd(tmp_path, "-m", "dataset=folder", f"dataset.path={named_folder}", "method=svdd_one",
                     "dataset.normal_classes=[zero],[zero,one]", *TINY, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = sorted(p.parent for p in (tmp_path / "sweeps" / "run").rglob("results.json"))
    assert [j.parent for j in jobs] == [tmp_path / "sweeps" / "run"] * 2  # one level: no data path in the name
    assert all(str(named_folder) not in j.name and "dataset.path=my_images~" in j.name for j in jobs)
    assert {tuple(json.loads((j / "results.json").read_text())["normal_classes"]) for j in jobs} == \
        {("zero",), ("zero", "one")}
    from msvdd.table import main

    assert main([str(tmp_path / "sweeps" / "run"), "--out", str(tmp_path / "table")]) == 0
    md = (tmp_path / "table" / "table.md").read_text()
    assert "| 2 | [zero, one] | [zero, one] |" in md and "| 1 | [zero] | [zero] |" in md



def _compose(*overrides):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=list(overrides))  # no test schedule: the shipped one
    GlobalHydra.instance().clear()
    return instantiate(cfg.pretrain), instantiate(cfg.train)


def test_the_own_data_schedule_is_one_switch_and_typed_fields_still_win():
    own = {"lr": 1e-3, "batch_size": 32, "epochs": 30, "milestones": [20]}
    assert {k: getattr(_compose()[1], k) for k in own} == {"lr": 1e-4, "batch_size": 200, "epochs": 150,
                                                          "milestones": [50]}  # the MNIST protocol by default
    for switch in (["experiment=own_data"], ["pretrain=own", "train=own"]):
        pretrain, train = _compose(*switch, "dataset=table", "train.epochs=7")
        assert {k: getattr(pretrain, k) for k in own} == own and pretrain.weight_decay == 0.5e-3
        assert {k: getattr(train, k) for k in own} == {**own, "epochs": 7} and train.weight_decay == 0.5e-6
