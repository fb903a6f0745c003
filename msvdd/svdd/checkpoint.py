"""model.pt: a fitted DeepSVDD on disk, with the run that trained it, and reading one back safely.

Reading is where a user's mistake shows up (a results.json, a truncated copy, a folder, a model of
another dataset): each becomes one ConfigError on ``ckpt_path`` that says what the file is not,
instead of a traceback from inside torch. The file also records its run (dataset, classes, method,
settings), so evaluating it can report what was evaluated rather than what the command line says.
"""

from __future__ import annotations

from pathlib import Path

import torch

from msvdd.errors import ConfigError
from msvdd.files import save_torch
from msvdd.networks import build_network
from msvdd.svdd.spheres import SCORE_RULES

FORMAT = 2  # 1: networks before they followed Ruff's code. "run" is optional: older format-2 files load
FIELD, ALLOWED = "ckpt_path", "a model.pt written by msvdd (every training run writes one)"
REQUIRED = ("network", "weights", "centers", "radii", "score_radii", "score", "seed", "cluster_labels", "history")


def save(model, path, data: dict | None = None, run: dict | None = None) -> None:
    """Write everything scoring needs, ``data`` (what scoring new data needs about the training data,
    see DeepSVDD.save) and ``run``; temp file then rename, so never half-written."""
    state = {"format": FORMAT, "network": model.network_.hparams, "data": data,
             "weights": {k: v.cpu() for k, v in model.network_.state_dict().items()},
             "centers": model.centers_.cpu(), "radii": model.radii_.cpu(),
             "score_radii": model.score_radii_.cpu(), "score": model.score, "seed": model.seed,
             "cluster_labels": model.cluster_labels_.cpu(), "history": model.history_, "run": run or {}}
    save_torch(path, state)  # a full disk: OSError naming model.pt, no temp file left


def load(path, device: str = "cpu", input_shape=None):
    """(DeepSVDD ready to score, the run that trained it: {} for files older than that record).

    ``input_shape``, when given, is the data's image shape: a model of another shape is refused here,
    with both shapes named, rather than failing in a matrix product. Raises ConfigError (a ValueError).
    """
    from msvdd.svdd.estimator import DeepSVDD  # svdd imports this module for DeepSVDD.save / load

    state = _read(Path(path))
    try:
        net = build_network(state["network"])
        net.load_state_dict(state["weights"])
        centers, radii = state["centers"].float(), state["radii"].float()
        score_radii, labels = state["score_radii"].float(), state["cluster_labels"].long()
        k = len(centers)
        if centers.ndim != 2 or centers.shape[1] != net.rep_dim or not radii.shape == score_radii.shape == (k,):
            raise ValueError(f"centers {tuple(centers.shape)} and radii {tuple(radii.shape)} do not fit "
                             f"a network of rep_dim {net.rep_dim}")
        if state["score"] not in SCORE_RULES:
            raise ValueError(f"unknown score rule {state['score']!r}")
        sizes = torch.bincount(labels, minlength=k).tolist()
    except Exception as err:  # noqa: BLE001  wrong types, shapes, keys: all mean "not one of ours"
        raise _error(path, f"its model cannot be rebuilt ({type(err).__name__}: {_line(err)})") from None
    if input_shape is not None and tuple(input_shape) != tuple(net.input_shape):
        raise _error(path, f"its network takes inputs of shape {list(net.input_shape)}, the dataset's are "
                           f"{list(input_shape)}", allowed=f"a model of inputs of shape {list(input_shape)}")
    model = DeepSVDD(net, score=state["score"], seed=state["seed"])
    model.network_ = net.to(device).eval()
    model.centers_, model.radii_, model.score_radii_ = centers.to(device), radii.to(device), score_radii.to(device)
    model.cluster_labels_, model.n_clusters_, model.cluster_sizes_ = labels, len(centers), sizes
    model.history_, model.data_ = state["history"], state.get("data")
    run = state.get("run")
    return model, run if isinstance(run, dict) else {}


def _read(path: Path) -> dict:
    if not path.exists():
        raise _error(path, "no such file")
    if path.is_dir():
        raise _error(path, "a folder, not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as err:
        raise _error(path, f"cannot be read ({err.strerror})") from None
    if not head.startswith((b"PK\x03\x04", b"\x80")):  # torch.save writes a zip (very old ones a pickle)
        raise _error(path, "not a PyTorch file (a text file, results.json...?)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  truncated zip, foreign pickle: each raises its own
        raise _error(path, f"a truncated or foreign PyTorch file ({type(err).__name__}: {_line(err)})") from None
    if not isinstance(state, dict):
        raise _error(path, f"holds a {type(state).__name__}, not an msvdd model")
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise _error(path, f"not an msvdd model (no {', '.join(missing)})")
    if state.get("format") == 1:
        raise _error(path, "written by an older msvdd whose networks differ (format 1): train it again")
    if state.get("format") != FORMAT:
        raise _error(path, f"checkpoint format {state.get('format')!r}; this msvdd reads format {FORMAT}")
    return state


def _line(err: Exception, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _error(path, problem: str, allowed: str = ALLOWED) -> ConfigError:
    return ConfigError(FIELD, str(path), allowed, problem)
