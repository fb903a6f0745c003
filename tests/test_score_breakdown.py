"""scripts/score_breakdown.py rebuilds a run's test scores from its folder and breaks them down."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import ROOT

from msvdd.run.job import run

spec = importlib.util.spec_from_file_location("score_breakdown", ROOT / "scripts" / "score_breakdown.py")
score_breakdown = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score_breakdown)


@pytest.mark.parametrize("method", ["svdd_one", "svdd_oracle"])
def test_breakdown_recomputes_the_runs_auroc(make_cfg, tmp_path, method, capsys):
    out = tmp_path / "run"
    run(make_cfg("dataset=digits", "dataset.normal_classes=[0,1,3]", f"method={method}"), out)
    recorded = 100 * json.loads((out / "results.json").read_text())["auroc"]
    got = score_breakdown.breakdown(out)
    assert got["auroc"] == pytest.approx(recorded, abs=1e-6)
    assert sorted(got["per_class"]) == [2, 4, 5, 6, 7, 8, 9]  # every anomaly class, no normal one
    assert all(0 <= v <= 100 for v in got["per_class"].values())
    # one sphere: the smallest distance is the run's own score (radii 0 under the one-class objective)
    if method == "svdd_one":
        assert got["alternatives"]["min distance (no radii)"] == pytest.approx(recorded, abs=1e-6)
    printed = capsys.readouterr().out
    assert f"AUROC recorded {recorded:.2f}" in printed
    assert printed.count("sphere ") >= (1 if method == "svdd_one" else 3)
