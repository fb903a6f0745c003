"""Evaluating a saved model.pt (ckpt_path): the checkpoint's settings are recorded, any classes of the same
image shape can be scored, plots are all-or-nothing, and a file that is not a checkpoint is one line."""

import json
import logging
import subprocess
import sys

import pytest
import torch
from conftest import CONF, QUICK, ROOT
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from test_data import write_mnist_like

from msvdd import figures as plots
from msvdd.errors import ConfigError
from msvdd.run.job import run

TRAINED = ["method=svdd_oracle", "network.rep_dim=16", "seed=1", "pretrain.epochs=3", "train.epochs=3"]


def _cfg(root, *overrides):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[*QUICK, f"paths.root_dir={root}", "paths.cache_dir=null", *overrides])
    GlobalHydra.instance().clear()
    return cfg


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A digits model on classes [0, 1, 3] (rep_dim 16, oracle spheres, seed 1) and its results.json."""
    folder = tmp_path_factory.mktemp("trained")
    run(_cfg(folder, *TRAINED), folder / "run")
    return folder / "run"


def _evaluate(tmp_path, ckpt, *overrides):
    run(_cfg(tmp_path, f"ckpt_path={ckpt}", *overrides), tmp_path / "eval")
    return json.loads((tmp_path / "eval" / "results.json").read_text())


def test_evaluation_records_the_checkpoints_settings_not_the_command_lines(trained, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="msvdd.run.checkpoint"):
        record = _evaluate(tmp_path, trained / "model.pt", "network.rep_dim=64", "method=svdd_one", "seed=7")
    original = json.loads((trained / "results.json").read_text())
    assert record["mode"] == "evaluate" and record["auroc"] == original["auroc"]
    assert record["settings"]["network"]["rep_dim"] == 16 and record["settings"] == original["settings"]
    assert record["settings_id"] == original["settings_id"]
    assert (record["method"], record["seed"], record["objective"]) == ("svdd_oracle", 1, "one_class")
    assert "network" not in record["config"] and "seed" not in record["config"]  # nothing says 64 or 7
    assert '"rep_dim": 64' not in json.dumps(record) and '"rep_dim": 16' in json.dumps(record)
    assert record["checkpoint"]["normal_classes"] == [0, 1, 3] and record["checkpoint"]["method"] == "svdd_oracle"
    assert any("network.rep_dim=64" in r.message for r in caplog.records)


def test_evaluation_on_other_classes_writes_every_plot(trained, tmp_path):
    record = _evaluate(tmp_path, trained / "model.pt", "dataset.normal_classes=[5,6]", "plots=true")
    assert record["normal_classes"] == [5, 6] and record["checkpoint"]["normal_classes"] == [0, 1, 3]
    assert record["n_clusters"] == 3 and 0 <= record["auroc"] <= 1
    for name in ("roc.png", "training.png", "embeddings_pca.png", "extremes.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 1000, name


@pytest.mark.parametrize("ckpt", [None, "model.pt"])
def test_a_failing_plot_leaves_no_png_and_no_results(trained, tmp_path, monkeypatch, ckpt):
    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots, "extreme_images", broken)  # the last plot: the others were drawn before it
    overrides = ["plots=true", *(TRAINED if ckpt is None else [f"ckpt_path={trained / ckpt}"])]
    with pytest.raises(RuntimeError, match="plot failed"):
        run(_cfg(tmp_path, *overrides), tmp_path / "out")
    left = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".msvdd.lock")  # the run's folder lock
    assert left == ([] if ckpt else ["model.pt"])  # no PNG, no staging folder, no results.json


# ---------------------------------------------------------------- files that are not checkpoints


def _old_format(trained, tmp_path):
    state = torch.load(trained / "model.pt", weights_only=True)
    torch.save({**state, "format": 1}, tmp_path / "old.pt")
    return tmp_path / "old.pt"


BAD = {
    "text file": (lambda t, p: (p / "notes.txt").write_text("hello\n") and p / "notes.txt", "not a PyTorch file"),
    "truncated": (lambda t, p: (p / "cut.pt").write_bytes((t / "model.pt").read_bytes()[:3000]) and p / "cut.pt",
                  "a truncated or foreign PyTorch file"),
    "folder": (lambda t, p: t, "a folder"),
    "results.json": (lambda t, p: t / "results.json", "not a PyTorch file"),
    "missing": (lambda t, p: p / "nothing.pt", "no such file"),
    "cache entry": (lambda t, p: torch.save({"state": {}, "losses": []}, p / "e.pt") or p / "e.pt", "not an msvdd"),
    "older format": (_old_format, "older msvdd"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_checkpoint_is_one_line_naming_it(case, trained, tmp_path):
    make, problem = BAD[case]
    path = make(trained, tmp_path)
    with pytest.raises(ConfigError) as err:
        run(_cfg(tmp_path, f"ckpt_path={path}"), tmp_path / "eval")
    message = str(err.value)
    assert message.startswith(f"ckpt_path='{path}': ") and problem in message and "\n" not in message, message
    assert err.value.field == "ckpt_path" and "allowed: a model.pt written by msvdd" in message
    assert not (tmp_path / "eval" / "results.json").exists()


def test_model_of_another_image_shape_names_both_shapes(trained, tmp_path, no_download):
    write_mnist_like(tmp_path / "data" / "MNIST" / "raw")
    with pytest.raises(ConfigError, match=r"takes inputs of shape \[1, 8, 8\], the dataset's are \[1, 28, 28\]"):
        run(_cfg(tmp_path, f"ckpt_path={trained / 'model.pt'}", "dataset=mnist", "dataset.normal_classes=[0]",
                 f"dataset.root={tmp_path / 'data'}"), tmp_path / "eval")
    assert not (tmp_path / "eval" / "results.json").exists()


def test_cli_bad_checkpoint_exits_2_with_one_line(tmp_path):
    (tmp_path / "model.pt").write_text("not a model\n")
    proc = subprocess.run([sys.executable, "-m", "msvdd", f"ckpt_path={tmp_path / 'model.pt'}",
                           f"paths.root_dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(f"msvdd: error: ckpt_path='{tmp_path / 'model.pt'}': ")
