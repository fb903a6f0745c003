"""docs/own-data.md's Python fit and predict runs as printed (issue 20, item 8): the snippet is read from
the page, run in a fresh folder, and its saved model scores the table through msvdd-predict as it did."""

import re

import pandas as pd
from conftest import ROOT
from sklearn.metrics import roc_auc_score

from msvdd.predict import main


def snippet() -> str:
    page = (ROOT / "docs" / "own-data.md").read_text()
    return re.search(r"<!-- own-data-python -->\n```python\n(.*?)```", page, re.S).group(1)


def test_the_documented_python_fit_and_predict(tmp_path, monkeypatch):
    code = snippet()
    assert len(code.splitlines()) <= 16 and "FinchClustering()" in code  # imports + ten lines, CLI defaults
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "docs/own-data.md", "exec"), ns)  # noqa: S102 - the page's own code, as a user runs it
    data, model, scores = ns["data"], ns["model"], ns["scores"]
    assert roc_auc_score(data.y_test.numpy(), scores) > 0.75 and model.n_clusters_ == 2  # wine's classes 0, 1
    assert main(["model.pt", "wine.csv", "--out", "s.csv"]) == 0
    got = pd.read_csv("s.csv").set_index("name").loc[list(data.names_test)]
    assert (got.score.to_numpy() == scores.astype("float64")).all()  # predict scores the rows as score_samples
